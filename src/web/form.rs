//! A page's form, decoded as the use case's typed command: the same command and the same decoding rules
//! as the JSON API (`app::command`), so a page cannot drift from the API.
//!
//! Policy: an empty field counts as absent (what an empty text box means); a name ending in `[]` is a
//! list however many are ticked (a group of checkboxes); a dotted name is a nested object
//! (`guardian.email`). What the person typed is
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

/// A form's fields before they become a command, for a page whose field names differ from the command's
/// (two forms on one page cannot both name a field `note`).
pub struct FormFields(pub Map<String, Value>);

impl FormFields {
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        if let Some(v) = self.0.remove(from) {
            self.0.insert(to.to_string(), v);
        }
        self
    }

    /// A checkbox: ticked (`true`, `on`) is `true`, anything else is left for the command to refuse.
    pub fn flag(mut self, name: &str) -> Self {
        if let Some(Value::String(v)) = self.0.get(name) {
            if v == "true" || v == "on" {
                self.0.insert(name.to_string(), Value::Bool(true));
            }
        }
        self
    }

    /// A field whose form text the page turns into the command's wire form (a local time into RFC 3339).
    pub fn map_text(mut self, name: &str, f: impl Fn(&str) -> String) -> Self {
        if let Some(Value::String(v)) = self.0.get(name) {
            let new = f(v);
            self.0.insert(name.to_string(), Value::String(new));
        }
        self
    }

    /// A list typed as text, "a, b, c".
    pub fn split(mut self, name: &str) -> Self {
        let items: Vec<Value> = match self.0.get(name) {
            Some(Value::String(v)) => {
                v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(|x| Value::String(x.into())).collect()
            }
            Some(_) => return self,
            None => Vec::new(),
        };
        self.0.insert(name.to_string(), Value::Array(items));
        self
    }

    /// A comma-separated list, each item mapped (a language typed by its name becomes its code).
    pub fn split_mapped(self, name: &str, f: impl Fn(&str) -> String) -> Self {
        let mut this = self.split(name);
        if let Some(Value::Array(items)) = this.0.get_mut(name) {
            for item in items.iter_mut() {
                if let Value::String(x) = item {
                    *x = f(x);
                }
            }
        }
        this
    }

    pub fn with(mut self, name: &str, v: Value) -> Self {
        self.0.insert(name.to_string(), v);
        self
    }

    /// The form as typed, every field of `T` present: for showing a refused form again.
    pub fn shown<T: Serialize + Default>(&self) -> Value {
        blank_with::<T>(
            self.0.iter().filter(|(k, _)| !k.contains("password")).map(|(k, v)| (k.clone(), v.clone())).collect(),
        )
    }

    pub fn command<T: DeserializeOwned + Default>(self) -> CommandForm<T> {
        CommandForm::from_fields(self.0)
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for FormFields {
    type Error = ();

    async fn from_data(_req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        match data.open(FORM_LIMIT_BYTES.bytes()).into_string().await {
            Ok(s) if s.is_complete() => Outcome::Success(FormFields(fields(&s))),
            Ok(_) => Outcome::Error((Status::PayloadTooLarge, ())),
            Err(_) => Outcome::Error((Status::BadRequest, ())),
        }
    }
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
        if let Some(list) = name.strip_suffix("[]") {
            let items = out.entry(list.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            if let (Value::Array(items), false) = (items, value.trim().is_empty()) {
                items.push(Value::String(value));
            }
            continue;
        }
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

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        FormFields::from_data(req, data).await.map(FormFields::command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_absent_repeated_are_lists_dotted_are_nested() {
        let f = fields("name=Ana+M%C3%A5rd&phone=&risk=a&risk=b&one[]=x&none[]=&guardian.email=g%40x.se&csrf=t");
        assert_eq!(f.get("name"), Some(&Value::String("Ana Mård".into())));
        assert!(!f.contains_key("phone") && !f.contains_key("csrf"));
        assert_eq!(f.get("risk"), Some(&serde_json::json!(["a", "b"])));
        assert_eq!(f.get("one"), Some(&serde_json::json!(["x"])));
        assert_eq!(f.get("none"), Some(&serde_json::json!([])));
        let n = nest(f);
        assert_eq!(n.get("guardian"), Some(&serde_json::json!({"email": "g@x.se"})));
    }
}
