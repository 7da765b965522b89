//! The preparedness sheet (beredskapsblad): what staff write down about a child before anything happens.
//!
//! Policy (API.md, "Additions, second edition", "Input"): the sheet is an object of at most
//! [`MAX_FIELDS`] fields named `[a-z_]+`; a value is text, a number, a boolean or a list of text, and is
//! given back exactly as it was given, so an integration that writes `"height_cm": 172` reads `172`, not
//! `"172"`. `null` (and, for the web form's sake, empty text) removes a field. Anything else is refused
//! field by field as `preparedness.FIELD`, and nothing is stored.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const MAX_FIELDS: usize = 40;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_LIST_ITEMS: usize = 50;

/// The field errors of a sheet change, named `preparedness` or `preparedness.FIELD`.
pub type Errors = BTreeMap<String, String>;

const PREFIX: &str = "preparedness";

fn key_ok(k: &str) -> bool {
    !k.is_empty() && k.len() <= MAX_KEY_CHARS && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Text a person typed: newlines and tabs are fine, other control characters are not (the sheet is read
/// aloud to the police and printed).
fn text_ok(s: &str) -> bool {
    s.chars().count() <= MAX_TEXT_CHARS && !s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn value_ok(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
        Value::String(s) => text_ok(s),
        Value::Array(items) => {
            items.len() <= MAX_LIST_ITEMS && items.iter().all(|i| matches!(i, Value::String(s) if text_ok(s)))
        }
        Value::Object(_) => false,
    }
}

/// Checks a change to the sheet (an object of field → value or `null`).
pub fn check_change(raw: &Value) -> Result<&Map<String, Value>, Errors> {
    let mut errors = Errors::new();
    let Value::Object(m) = raw else {
        errors.insert(PREFIX.into(), "must be an object of sheet fields".into());
        return Err(errors);
    };
    if m.len() > MAX_FIELDS {
        errors.insert(PREFIX.into(), "at most 40 fields".into());
        return Err(errors);
    }
    for (k, v) in m {
        if !key_ok(k) {
            errors.insert(
                format!("{PREFIX}.{}", printable_key(k)),
                "field names may use only a–z and _, at most 40 characters".into(),
            );
        } else if !value_ok(v) {
            errors.insert(
                format!("{PREFIX}.{k}"),
                "must be text (at most 4000 characters), a number, true or false, or a list of at most 50 texts".into(),
            );
        }
    }
    if errors.is_empty() {
        Ok(m)
    } else {
        Err(errors)
    }
}

/// A refused field name as the error names it: as given when it is short printable ASCII (so a client
/// sees which of its fields is wrong), otherwise `key`.
fn printable_key(k: &str) -> String {
    if !k.is_empty() && k.len() <= MAX_KEY_CHARS && k.bytes().all(|b| b.is_ascii_graphic()) {
        k.to_string()
    } else {
        "key".into()
    }
}

/// Applies a checked change: `null` and empty text remove a field, everything else is stored as given.
/// The merged sheet may hold at most [`MAX_FIELDS`] fields.
pub fn merge(into: &mut Map<String, Value>, changes: &Map<String, Value>) -> Result<(), Errors> {
    let mut merged = into.clone();
    for (k, v) in changes {
        match v {
            Value::Null => {
                merged.remove(k);
            }
            Value::String(s) if s.trim().is_empty() => {
                merged.remove(k);
            }
            Value::Array(items) if items.is_empty() => {
                merged.remove(k);
            }
            other => {
                merged.insert(k.clone(), other.clone());
            }
        }
    }
    if merged.len() > MAX_FIELDS {
        return Err([(PREFIX.to_string(), "at most 40 fields".to_string())].into_iter().collect());
    }
    *into = merged;
    Ok(())
}

/// A value as a person reads it: text as it is, numbers in the language's notation, yes/no, a list one
/// item a line. `None` for an absent or empty value.
pub fn as_text(v: Option<&Value>, lang: &str) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => {
            let t = n.to_string();
            if lang == "sv" {
                t.replace('.', ",")
            } else {
                t
            }
        }
        Value::Bool(b) => match (lang, b) {
            ("sv", true) => "Ja".into(),
            ("sv", false) => "Nej".into(),
            (_, true) => "Yes".into(),
            (_, false) => "No".into(),
        },
        Value::Array(items) => {
            items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join("\n").trim().to_string()
        }
        Value::Null | Value::Object(_) => return None,
    };
    Some(s).filter(|s| !s.is_empty())
}

/// What the web form sends back for one field. The form shows every value as text; a field the person did
/// not touch keeps its stored value and type, so saving the form never turns `172` into `"172"` or a list
/// into one line.
pub fn from_form(stored: Option<&Value>, typed: &str, lang: &str) -> Value {
    let typed = typed.trim();
    let shown = as_text(stored, lang).unwrap_or_default();
    if normalise_newlines(typed) == normalise_newlines(&shown) {
        if let Some(v) = stored {
            return v.clone();
        }
    }
    Value::String(typed.to_string())
}

fn normalise_newlines(s: &str) -> String {
    s.replace("\r\n", "\n")
}

// The OpenAPI description sits beside the rules it describes, so the two cannot drift apart.
/// The preparedness sheet as API.md's second edition describes it: at most 40 fields named `[a-z_]+`, each
/// text, a number, a boolean or a list of text; in a request `null` removes a field.
fn sheet_schema(with_null: bool) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let text = || ObjectBuilder::new().schema_type(Type::String).max_length(Some(MAX_TEXT_CHARS));
    let mut value = OneOfBuilder::new()
        .item(text())
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(ArrayBuilder::new().items(text()).max_items(Some(MAX_LIST_ITEMS)));
    if with_null {
        value = value.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(MAX_FIELDS))
        .property_names(Some(
            ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[a-z_]+$")).max_length(Some(MAX_KEY_CHARS)),
        ))
        .additional_properties(Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::OneOf(value.build()))))
        .description(Some("Preparedness sheet: text, a number, a boolean or a list of text per field"))
        .build()
}

/// The sheet in a request (`null` removes a field).
pub fn sheet_input_schema() -> utoipa::openapi::Object {
    sheet_schema(true)
}

/// The sheet as stored and returned.
pub fn sheet_schema_out() -> utoipa::openapi::Object {
    sheet_schema(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn accepts_text_numbers_booleans_and_lists_of_text() {
        let v = json!({"hair": "dark", "height_cm": 172, "weight_kg": 61.5, "glasses": true,
                       "phones": ["+46 73 555 01 02"], "eyes": null});
        assert!(check_change(&v).is_ok());
    }

    #[test]
    fn refuses_other_values_naming_the_field() {
        for bad in [json!({"phones": [1, 2]}), json!({"phones": {"a": "b"}}), json!({"phones": [["x"]]})] {
            let e = check_change(&bad).unwrap_err();
            assert_eq!(e.keys().collect::<Vec<_>>(), ["preparedness.phones"], "{bad}");
        }
        let e = check_change(&json!({"Height": "x"})).unwrap_err();
        assert!(e.contains_key("preparedness.Height"), "{e:?}");
        let e = check_change(&json!({"height2": "x"})).unwrap_err();
        assert!(e.contains_key("preparedness.height2"), "{e:?}");
        let e = check_change(&json!({"a b\u{202e}": "x"})).unwrap_err();
        assert!(e.contains_key("preparedness.key"), "{e:?}");
        assert!(check_change(&json!("text")).unwrap_err().contains_key("preparedness"));
        assert!(check_change(&json!({"x": "a\u{0007}b"})).is_err());
        assert!(check_change(&json!({"x": "x".repeat(MAX_TEXT_CHARS + 1)})).is_err());
        assert!(check_change(&json!({"x": vec!["a"; MAX_LIST_ITEMS + 1]})).is_err());
    }

    #[test]
    fn at_most_forty_fields_in_the_change_and_in_the_merged_sheet() {
        let many: Map<String, Value> = (0..41).map(|i| (format!("f{}", "a".repeat(i + 1)), json!("x"))).collect();
        assert!(check_change(&Value::Object(many)).is_err());
        let mut sheet: Map<String, Value> = (0..40).map(|i| (format!("f{}", "a".repeat(i + 1)), json!("x"))).collect();
        let before = sheet.clone();
        let one_more: Map<String, Value> = [("zz".to_string(), json!("y"))].into_iter().collect();
        assert!(merge(&mut sheet, &one_more).is_err());
        assert_eq!(sheet, before, "a refused merge changes nothing");
    }

    #[test]
    fn merge_keeps_values_as_given_and_null_removes() {
        let mut sheet: Map<String, Value> = [("hair".to_string(), json!("dark"))].into_iter().collect();
        let change = json!({"hair": null, "height_cm": 172, "phones": ["+46 1", "+46 2"], "glasses": false});
        merge(&mut sheet, check_change(&change).unwrap()).unwrap();
        assert_eq!(Value::Object(sheet), json!({"height_cm": 172, "phones": ["+46 1", "+46 2"], "glasses": false}));
    }

    #[test]
    fn a_value_reads_as_a_person_would_say_it() {
        assert_eq!(as_text(Some(&json!(61.5)), "sv").as_deref(), Some("61,5"));
        assert_eq!(as_text(Some(&json!(61.5)), "en").as_deref(), Some("61.5"));
        assert_eq!(as_text(Some(&json!(true)), "sv").as_deref(), Some("Ja"));
        assert_eq!(as_text(Some(&json!(["a", "b"])), "sv").as_deref(), Some("a\nb"));
        assert_eq!(as_text(Some(&json!("  ")), "sv"), None);
        assert_eq!(as_text(None, "sv"), None);
    }

    #[test]
    fn an_untouched_form_field_keeps_its_type() {
        assert_eq!(from_form(Some(&json!(172)), "172", "sv"), json!(172));
        assert_eq!(from_form(Some(&json!(["a", "b"])), "a\r\nb", "sv"), json!(["a", "b"]));
        assert_eq!(from_form(Some(&json!(172)), "175", "sv"), json!("175"));
        assert_eq!(from_form(None, "", "sv"), json!(""));
    }

    fn sheet_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[^\\p{Cc}]{0,20}".prop_map(Value::String),
            any::<i64>().prop_map(|n| json!(n)),
            any::<bool>().prop_map(Value::Bool),
            proptest::collection::vec("[^\\p{Cc}]{0,10}", 0..5).prop_map(|v| json!(v)),
        ]
    }

    proptest! {
        /// Whatever passes the check is stored and read back exactly, and an untouched form round-trips it.
        #[test]
        fn accepted_values_come_back_as_given(
            fields in proptest::collection::btree_map("[a-z_]{1,12}", sheet_value(), 0..10),
        ) {
            let change: Map<String, Value> = fields.into_iter().collect();
            let raw = Value::Object(change.clone());
            let checked = check_change(&raw).unwrap();
            let mut sheet = Map::new();
            merge(&mut sheet, checked).unwrap();
            for (k, v) in &change {
                let removed = match v { Value::String(s) => s.trim().is_empty(), Value::Array(a) => a.is_empty(), _ => false };
                if removed {
                    prop_assert!(!sheet.contains_key(k));
                } else {
                    prop_assert_eq!(sheet.get(k), Some(v));
                    let shown = as_text(Some(v), "sv").unwrap_or_default();
                    if !shown.is_empty() && !matches!(v, Value::String(_)) {
                        prop_assert_eq!(&from_form(Some(v), &shown, "sv"), v);
                    }
                }
            }
        }
    }
}
