//! Reading a use case's input from a JSON object.
//!
//! Policy: every field problem is collected and answered once as `validation_failed` with one entry per
//! field, so a client sees all its mistakes at once. [`Input`] never panics on foreign input.

use super::error::{AppError, FieldErrors};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

pub struct Input {
    map: Map<String, Value>,
    prefix: String,
    pub errors: FieldErrors,
}

pub const REQUIRED: &str = "required";

impl Input {
    pub fn new(map: Map<String, Value>) -> Self {
        Input { map, prefix: String::new(), errors: FieldErrors::new() }
    }

    /// An object nested in a list, whose field errors are reported as `prefix` + field.
    pub fn nested(map: Map<String, Value>, prefix: String) -> Self {
        Input { map, prefix, errors: FieldErrors::new() }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub fn error(&mut self, key: &str, reason: &str) {
        let name = self.name(key);
        self.errors.entry(name).or_insert_with(|| reason.to_string());
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn present(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An optional string; empty or whitespace-only counts as absent.
    pub fn opt_str(&mut self, key: &str, max_chars: usize) -> Option<String> {
        match self.present(key) {
            None => None,
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    None
                } else if t.chars().count() > max_chars {
                    self.error(key, &format!("at most {max_chars} characters"));
                    None
                } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                    self.error(key, "contains control characters");
                    None
                } else {
                    Some(t.to_string())
                }
            }
            Some(_) => {
                self.error(key, "must be a string");
                None
            }
        }
    }

    pub fn req_str(&mut self, key: &str, max_chars: usize) -> String {
        let v = self.opt_str(key, max_chars);
        if v.is_none() && !self.errors.contains_key(&self.name(key)) {
            self.error(key, REQUIRED);
        }
        v.unwrap_or_default()
    }

    /// A password is taken as given (no trimming) and must be 12 to 1024 characters.
    pub fn password(&mut self, key: &str) -> String {
        match self.present(key).cloned() {
            Some(Value::String(s)) => {
                let n = s.chars().count();
                if n < crate::auth::MIN_PASSWORD_CHARS {
                    self.error(key, "at least 12 characters");
                } else if n > 1024 {
                    self.error(key, "at most 1024 characters");
                }
                s
            }
            Some(_) => {
                self.error(key, "must be a string");
                String::new()
            }
            None => {
                self.error(key, REQUIRED);
                String::new()
            }
        }
    }

    pub fn opt_email(&mut self, key: &str) -> Option<String> {
        let v = self.opt_str(key, 254)?;
        if crate::domain::validate::is_email(&v) {
            Some(v.to_lowercase())
        } else {
            self.error(key, "not a valid email address");
            None
        }
    }

    pub fn req_email(&mut self, key: &str) -> String {
        let v = self.opt_email(key);
        if v.is_none() && !self.errors.contains_key(&self.name(key)) {
            self.error(key, REQUIRED);
        }
        v.unwrap_or_default()
    }

    pub fn opt_enum(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let v = self.opt_str(key, 64)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.error(key, &format!("must be one of: {}", allowed.join(", ")));
            None
        }
    }

    pub fn req_enum(&mut self, key: &str, allowed: &[&str]) -> String {
        let v = self.opt_enum(key, allowed);
        if v.is_none() && !self.errors.contains_key(&self.name(key)) {
            self.error(key, REQUIRED);
        }
        v.unwrap_or_default()
    }

    pub fn opt_bool(&mut self, key: &str) -> Option<bool> {
        match self.present(key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(key, "must be true or false");
                None
            }
        }
    }

    /// An id: a positive integer, given as a number or a numeric string (ids are opaque to clients).
    pub fn opt_id(&mut self, key: &str) -> Option<i64> {
        match self.present(key) {
            None => None,
            Some(v) => match id_of(v) {
                Some(id) => Some(id),
                None => {
                    self.error(key, "not a valid id");
                    None
                }
            },
        }
    }

    pub fn req_id(&mut self, key: &str) -> i64 {
        let v = self.opt_id(key);
        if v.is_none() && !self.errors.contains_key(&self.name(key)) {
            self.error(key, REQUIRED);
        }
        v.unwrap_or_default()
    }

    pub fn opt_datetime(&mut self, key: &str) -> Option<DateTime<Utc>> {
        let s = match self.present(key) {
            None => return None,
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                self.error(key, "must be an RFC 3339 time string");
                return None;
            }
        };
        match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => {
                let t = t.with_timezone(&Utc);
                use chrono::{Duration, DurationRound};
                Some(t.duration_trunc(Duration::microseconds(1)).unwrap_or(t))
            }
            Err(_) => {
                self.error(key, "must be an RFC 3339 time, e.g. 2026-05-01T22:30:00+02:00");
                None
            }
        }
    }

    pub fn req_datetime(&mut self, key: &str) -> DateTime<Utc> {
        let v = self.opt_datetime(key);
        if v.is_none() && !self.errors.contains_key(&self.name(key)) {
            self.error(key, REQUIRED);
        }
        v.unwrap_or_default()
    }

    pub fn opt_date(&mut self, key: &str) -> Option<NaiveDate> {
        let s = match self.present(key) {
            None => return None,
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                self.error(key, "must be a date YYYY-MM-DD");
                return None;
            }
        };
        match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(key, "must be a date YYYY-MM-DD");
                None
            }
        }
    }

    pub fn req_date(&mut self, key: &str) -> NaiveDate {
        let v = self.opt_date(key);
        if v.is_none() && !self.errors.contains_key(&self.name(key)) {
            self.error(key, REQUIRED);
        }
        v.unwrap_or_default()
    }

    /// A list of short strings; absent means empty.
    pub fn str_list(&mut self, key: &str, max_items: usize, max_chars: usize) -> Vec<String> {
        match self.present(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > max_items {
                    self.error(key, &format!("at most {max_items} items"));
                    return Vec::new();
                }
                let mut out = Vec::new();
                for it in items {
                    match it {
                        Value::String(s) if s.trim().chars().count() <= max_chars && !s.trim().is_empty() => {
                            out.push(s.trim().to_string())
                        }
                        _ => {
                            self.error(
                                key,
                                &format!("must be a list of non-empty strings of at most {max_chars} characters"),
                            );
                            return Vec::new();
                        }
                    }
                }
                out
            }
            Some(_) => {
                self.error(key, "must be a list");
                Vec::new()
            }
        }
    }

    /// A nested object; its field errors are reported as `key.field`.
    pub fn opt_object(&mut self, key: &str) -> Option<Input> {
        match self.present(key) {
            None => None,
            Some(Value::Object(m)) => {
                Some(Input { map: m.clone(), prefix: format!("{}{}.", self.prefix, key), errors: FieldErrors::new() })
            }
            Some(_) => {
                self.error(key, "must be an object");
                None
            }
        }
    }

    /// Takes the errors of a nested object back into this one.
    pub fn absorb(&mut self, nested: Input) {
        for (k, v) in nested.errors {
            self.errors.entry(k).or_insert(v);
        }
    }

    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.present(key)
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(self.errors))
        }
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

pub fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().filter(|i| *i > 0),
        Value::String(s) => s.trim().parse::<i64>().ok().filter(|i| *i > 0),
        _ => None,
    }
}
