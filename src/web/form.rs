//! A page's form, decoded as the use case's typed command: the same command and the same decoding rules
//! as the JSON API (`app::command`), so a page cannot drift from the API.
//!
//! Policy: an empty field counts as absent (what an empty text box means); a name given twice is a list
//! (a group of checkboxes); a dotted name is a nested object (`guardian.email`). What the person typed is
//! kept, so that a refused form is shown again as it was typed.

use crate::app::command::Submitted;
use rocket::data::{FromData, Outcome, ToByteUnit};
use rocket::form::Form;
use rocket::http::{RawStr, Status};
use rocket::{Data, Request};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// Form bodies are small; a page's photo upload has its own route and limit.
const FORM_LIMIT_BYTES: u64 = 256 * 1024;

pub struct CommandForm<T> {
    pub input: Submitted<T>,
    /// The fields as typed (passwords left out), for showing a refused form again.
    pub typed: Map<String, Value>,
}

impl<T: DeserializeOwned + Default> CommandForm<T> {
    pub fn from_fields(fields: Map<String, Value>) -> Self {
        let typed =
            fields.iter().filter(|(k, _)| !k.contains("password")).map(|(k, v)| (k.clone(), v.clone())).collect();
        CommandForm { input: Submitted::from_json(nest(fields)), typed }
    }
}

impl<T> CommandForm<T> {
    /// The form as typed, every field of the command present (templates name each one).
    pub fn shown(&self) -> Value
    where
        T: Serialize + Default,
    {
        blank_with::<T>(self.typed.clone())
    }
}

/// A command's fields, all empty but `given`: what a page shows before anything is typed.
pub fn blank_with<T: Serialize + Default>(given: Map<String, Value>) -> Value {
    let mut all = match serde_json::to_value(T::default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in given {
        all.insert(k, v);
    }
    Value::Object(all)
}

/// The fields of an urlencoded body: each name once as a string, or as a list when it is given again.
pub fn fields(body: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for f in Form::values(body) {
        let name = RawStr::new(f.name.source().as_str()).url_decode_lossy().into_owned();
        if name == "csrf" || name == "_method" {
            continue;
        }
        let value = RawStr::new(f.value).url_decode_lossy().into_owned();
        if value.trim().is_empty() {
            continue;
        }
        match out.get_mut(&name) {
            None => {
                out.insert(name, Value::String(value));
            }
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(first) => *first = Value::Array(vec![first.take(), Value::String(value)]),
        }
    }
    out
}

/// `guardian.email` becomes `{"guardian": {"email": …}}` (one level: the forms nest no deeper).
fn nest(flat: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in flat {
        match name.split_once('.') {
            None => {
                out.insert(name, value);
            }
            Some((outer, inner)) => {
                let entry = out.entry(outer.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(inner.to_string(), value);
                }
            }
        }
    }
    out
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + Default + Send> FromData<'r> for CommandForm<T> {
    type Error = ();

    async fn from_data(_req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        match data.open(FORM_LIMIT_BYTES.bytes()).into_string().await {
            Ok(s) if s.is_complete() => Outcome::Success(CommandForm::from_fields(fields(&s))),
            Ok(_) => Outcome::Error((Status::PayloadTooLarge, ())),
            Err(_) => Outcome::Error((Status::BadRequest, ())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_absent_repeated_are_lists_dotted_are_nested() {
        let f = fields("name=Ana+M%C3%A5rd&phone=&risk=a&risk=b&guardian.email=g%40x.se&csrf=t");
        assert_eq!(f.get("name"), Some(&Value::String("Ana Mård".into())));
        assert!(!f.contains_key("phone") && !f.contains_key("csrf"));
        assert_eq!(f.get("risk"), Some(&serde_json::json!(["a", "b"])));
        let n = nest(f);
        assert_eq!(n.get("guardian"), Some(&serde_json::json!({"email": "g@x.se"})));
    }
}
