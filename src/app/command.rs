//! Typed commands: what a person asks a use case to do, as one Rust type per use case. The API decodes a
//! command from JSON with serde ([`Submitted::from_json`]), a page builds the same command from its form
//! ([`Submitted::from_form`]), and the same type is the request body's OpenAPI schema.
//!
//! Policy: a client sees all its mistakes at once. Decoding never stops at the first field of the wrong
//! type: each such field is reported at its path (`guardian.email`, `steps[2].deadline`) and left out, the
//! rest is decoded, and the command's `validate` adds every rule it breaks, so that one `422
//! validation_failed` names every field. A field that is already wrong keeps its first reason. Text is
//! trimmed, empty text counts as absent, and control characters (other than line breaks and tabs) are
//! refused. Nothing here panics on foreign input.

use super::error::{AppError, FieldErrors};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub const REQUIRED: &str = "required";

/// A command together with the problems found while decoding it.
#[derive(Debug)]
pub struct Submitted<T> {
    pub cmd: T,
    pub errors: FieldErrors,
}

impl<T: DeserializeOwned + Default> Submitted<T> {
    pub fn from_json(map: Map<String, Value>) -> Self {
        let (cmd, errors) = decode(map);
        Submitted { cmd, errors }
    }
}

impl<T> Submitted<T> {
    /// A command built in Rust (from a page's typed form, the command line): nothing is of the wrong type.
    pub fn new(cmd: T) -> Self {
        Submitted { cmd, errors: FieldErrors::new() }
    }

    /// A problem the adapter found before the use case ran (a form value it could not turn into the type).
    pub fn refuse(&mut self, key: &str, reason: impl Into<String>) {
        self.errors.entry(key.to_string()).or_insert_with(|| reason.into());
    }

    /// The command, when neither decoding nor `check` found a problem.
    pub fn valid(self, check: impl FnOnce(&mut T, &mut Check)) -> Result<T, AppError> {
        let (cmd, ck) = self.checked(check);
        ck.finish().map(|()| cmd)
    }

    /// The decoding problems, then `check`'s: the first reason per field wins.
    pub fn checked(self, check: impl FnOnce(&mut T, &mut Check)) -> (T, Check) {
        let Submitted { mut cmd, errors } = self;
        let mut ck = Check { errors, prefix: String::new() };
        check(&mut cmd, &mut ck);
        (cmd, ck)
    }
}

/// Decodes `map` into `T` (whose fields all have defaults), reporting every field of the wrong type.
/// The common case, a body without mistakes, is decoded once and without copying the body.
pub fn decode<T: DeserializeOwned + Default>(map: Map<String, Value>) -> (T, FieldErrors) {
    let mut errors = FieldErrors::new();
    let rounds = map.len() + 1;
    let mut body = Value::Object(map);
    // Each round either decodes or removes at least one offending key, so this ends.
    for _ in 0..rounds {
        let e = match serde_path_to_error::deserialize::<_, T>(&body) {
            Ok(t) => return (t, errors),
            Err(e) => e,
        };
        let path = e.path().to_string();
        let Value::Object(m) = &mut body else { break };
        if m.remove(top_key(&path)).is_none() {
            break;
        }
        errors.entry(path).or_insert_with(|| reason_of(&e.into_inner().to_string()));
    }
    (T::default(), errors)
}

fn top_key(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or(path)
}

/// serde's message for a value of the wrong type, said as the API's field reasons say it.
fn reason_of(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let allowed: Vec<&str> = rest.split('`').skip(3).step_by(2).collect();
        return if allowed.is_empty() {
            "not an allowed value".into()
        } else {
            format!("must be one of: {}", allowed.join(", "))
        };
    }
    if !msg.starts_with("invalid type") && !msg.starts_with("invalid value") {
        return msg.to_string();
    }
    let expected = msg.rsplit("expected ").next().unwrap_or("");
    match expected {
        e if e.starts_with("a string") => "must be a string",
        e if e.starts_with("a boolean") => "must be true or false",
        e if e.starts_with("a sequence") => "must be a list",
        e if e.starts_with("struct") || e.starts_with("a map") => "must be an object",
        e if e.starts_with('i') || e.starts_with('u') || e.contains("integer") => "must be an integer",
        _ => "not a valid value",
    }
    .to_string()
}

/// Field-by-field rules, collected. Methods take the field by `&mut` so that they can normalise it.
pub struct Check {
    pub errors: FieldErrors,
    prefix: String,
}

impl Check {
    pub fn new() -> Self {
        Check { errors: FieldErrors::new(), prefix: String::new() }
    }

    /// Rules for an object nested at `prefix` (e.g. `steps[0].`); take its errors back with [`Check::absorb`].
    pub fn nested(prefix: String) -> Self {
        Check { errors: FieldErrors::new(), prefix }
    }

    pub fn absorb(&mut self, nested: Check) {
        for (k, v) in nested.errors {
            self.errors.entry(k).or_insert(v);
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.errors.contains_key(&format!("{}{}", self.prefix, key))
    }

    pub fn error(&mut self, key: &str, reason: impl Into<String>) {
        self.errors.entry(format!("{}{}", self.prefix, key)).or_insert_with(|| reason.into());
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(self.errors))
        }
    }

    /// A field that must be there (unless it was already refused for its type).
    pub fn required<T>(&mut self, key: &str, v: &Option<T>) {
        if v.is_none() && !self.has(key) {
            self.error(key, REQUIRED);
        }
    }

    /// Optional text: trimmed, empty becomes absent, at most `max_chars`, no control characters.
    /// A person's name as it stands in headers and notices: one line, no angle brackets (it is shown beside
    /// an address, `Name <email>`, in mail a county mailbox acts on).
    pub fn person_name(&mut self, key: &str, v: &Option<String>) {
        if v.as_deref().is_some_and(|s| s.chars().any(|c| c == '\n' || c == '\r' || c == '<' || c == '>')) {
            self.error(key, "one line without < or >");
        }
    }

    pub fn text(&mut self, key: &str, v: &mut Option<String>, max_chars: usize) {
        let Some(s) = v.as_mut() else { return };
        let t = s.trim();
        if t.is_empty() {
            *v = None;
        } else if t.chars().count() > max_chars {
            self.error(key, format!("at most {max_chars} characters"));
            *v = None;
        } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            self.error(key, "contains control characters");
            *v = None;
        } else if t.chars().any(hides_text) {
            self.error(key, "contains invisible or direction-changing characters");
            *v = None;
        } else {
            // One way to store "é": composed (NFC), so that a search and a comparison find what was typed.
            let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(t);
            if nfc != *s {
                *s = nfc.into_owned();
            }
        }
    }

    pub fn req_text(&mut self, key: &str, v: &mut Option<String>, max_chars: usize) {
        self.text(key, v, max_chars);
        self.required(key, v);
    }

    /// Text of a change that `null` clears: absent stays absent, empty text clears too.
    pub fn clearable(&mut self, key: &str, v: &mut Option<Option<String>>, max_chars: usize) {
        if let Some(inner) = v.as_mut() {
            self.text(key, inner, max_chars);
        }
    }

    /// Optional text that must be one of `allowed`.
    pub fn one_of(&mut self, key: &str, v: &mut Option<String>, allowed: &[&str]) {
        self.text(key, v, 64);
        if let Some(s) = v.as_deref() {
            if !allowed.contains(&s) {
                self.error(key, format!("must be one of: {}", allowed.join(", ")));
                *v = None;
            }
        }
    }

    /// An email address, stored in lower case.
    pub fn email(&mut self, key: &str, v: &mut Option<String>) {
        self.text(key, v, 254);
        if let Some(s) = v.as_mut() {
            if crate::domain::validate::is_email(s) {
                *s = s.to_lowercase();
            } else {
                self.error(key, "not a valid email address");
                *v = None;
            }
        }
    }

    /// A new password, taken as given (no trimming): long enough and not easy to guess (`auth::password::weakness`); `inputs` are the
    /// account's own words (email, name).
    pub fn password(&mut self, key: &str, v: &Option<String>, inputs: &[&str]) {
        match v {
            None => self.required(key, v),
            Some(s) => {
                if let Some(why) = crate::auth::password::weakness(s, inputs) {
                    self.error(key, why)
                }
            }
        }
    }

    /// A list of short, non-empty strings.
    pub fn list(&mut self, key: &str, v: &mut Vec<String>, max_items: usize, max_chars: usize) {
        if v.len() > max_items {
            self.error(key, format!("at most {max_items} items"));
            v.clear();
            return;
        }
        for s in v.iter_mut() {
            let t = s.trim();
            if t.is_empty() || t.chars().count() > max_chars {
                self.error(key, format!("must be a list of non-empty strings of at most {max_chars} characters"));
                v.clear();
                return;
            }
            *s = t.to_string();
        }
    }
}

impl Default for Check {
    fn default() -> Self {
        Check::new()
    }
}

/// serde helpers for fields whose wire form is looser or stricter than their Rust type.
pub mod de {
    use chrono::{DateTime, NaiveDate, Utc};
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// An id: a positive integer, given as a number or a numeric string (ids are opaque to clients).
    pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(v) => super::id_of(&v).map(Some).ok_or_else(|| D::Error::custom("not a valid id")),
        }
    }

    /// A time in RFC 3339, kept to the microsecond (what both databases store).
    pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s = match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s,
            Some(_) => return Err(D::Error::custom("must be an RFC 3339 time string")),
        };
        let t = DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| D::Error::custom("must be an RFC 3339 time, e.g. 2026-05-01T22:30:00+02:00"))?
            .with_timezone(&Utc);
        use chrono::{Duration, DurationRound};
        Ok(Some(t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)))
    }

    /// A calendar date `YYYY-MM-DD`.
    pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let bad = || D::Error::custom("must be a date YYYY-MM-DD");
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }

    /// For a change: absent is `None` (leave it), `null` is `Some(None)` (clear it).
    pub fn change<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Characters that make text read differently from what is stored: bidirectional overrides, embeddings and
/// isolates, direction marks, and zero-width spaces. The zero-width (non-)joiners stay allowed: Persian
/// and Dari spelling needs them.
pub fn hides_text(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}')
}

pub fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().filter(|i| *i > 0),
        Value::String(s) => s.trim().parse::<i64>().ok().filter(|i| *i > 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Probe {
        name: Option<String>,
        #[serde(deserialize_with = "de::id")]
        id: Option<i64>,
        flag: Option<bool>,
        tags: Vec<String>,
        inner: Option<Inner>,
        kind: Option<crate::domain::role::Role>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Inner {
        email: Option<String>,
    }

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn every_field_of_the_wrong_type_is_reported_and_the_rest_decoded() {
        let (p, e) = decode::<Probe>(map(json!({
            "name": 5, "id": "12", "flag": "yes", "tags": "a", "inner": {"email": []}, "kind": "root"
        })));
        assert_eq!(e.get("name").map(String::as_str), Some("must be a string"));
        assert_eq!(e.get("flag").map(String::as_str), Some("must be true or false"));
        assert_eq!(e.get("tags").map(String::as_str), Some("must be a list"));
        assert_eq!(e.get("inner.email").map(String::as_str), Some("must be a string"));
        assert!(e.get("kind").is_some_and(|r| r.starts_with("must be one of: staff, social_worker")), "{e:?}");
        assert_eq!(p.id, Some(12));
        assert_eq!(e.len(), 5);
    }

    #[test]
    fn ids_accept_numbers_and_numeric_strings_only() {
        let (_, e) = decode::<Probe>(map(json!({"id": "abc"})));
        assert_eq!(e.get("id").map(String::as_str), Some("not a valid id"));
        let (_, e) = decode::<Probe>(map(json!({"id": -3})));
        assert_eq!(e.get("id").map(String::as_str), Some("not a valid id"));
        let (p, e) = decode::<Probe>(map(json!({"id": 7, "unknown": 1})));
        assert!(e.is_empty());
        assert_eq!(p.id, Some(7));
    }

    #[test]
    fn text_is_trimmed_and_empty_is_absent() {
        let mut ck = Check::new();
        let (mut a, mut b, mut c) = (Some("  x ".to_string()), Some("   ".to_string()), Some("a\u{7}".to_string()));
        ck.text("a", &mut a, 10);
        ck.req_text("b", &mut b, 10);
        ck.text("c", &mut c, 10);
        assert_eq!(a.as_deref(), Some("x"));
        assert_eq!(ck.errors.get("b").map(String::as_str), Some(REQUIRED));
        assert_eq!(ck.errors.get("c").map(String::as_str), Some("contains control characters"));
    }
}
