//! County routines: reading a routine as a county officer writes it (the API's JSON and the editor's form
//! both come here), validated step by step.

use super::input::Input;
use crate::domain::routine::{self, Routine, StepDef};
use serde_json::Value;

/// Reads a routine from a body: type errors per field, then the domain's rules per field.
pub fn read_routine(inp: &mut Input) -> Routine {
    let review_period = inp.opt_str("review_period", 32).unwrap_or_else(|| "P3M".into());
    let mut steps = Vec::new();
    match inp.raw("steps").cloned() {
        Some(Value::Array(items)) => {
            if items.len() > 100 {
                inp.error("steps", "at most 100 steps");
            }
            for (i, item) in items.into_iter().take(100).enumerate() {
                let Value::Object(map) = item else {
                    inp.error(&format!("steps[{i}]"), "must be an object");
                    continue;
                };
                let mut s = Input::nested(map, format!("steps[{i}]."));
                let phase = s.req_str("phase", 16);
                let def = StepDef {
                    key: s.req_str("key", 64),
                    title_sv: s.req_str("title_sv", 200),
                    title_en: s.req_str("title_en", 200),
                    guidance_sv: s.opt_str("guidance_sv", 4000).unwrap_or_default(),
                    guidance_en: s.opt_str("guidance_en", 4000).unwrap_or_default(),
                    responsible: s.req_str("responsible", 32),
                    anchor: s.opt_str("anchor", 16).unwrap_or_else(|| {
                        if phase == "found" {
                            "found".into()
                        } else {
                            "discovered".into()
                        }
                    }),
                    phase,
                    deadline: s.req_str("deadline", 32),
                    high_risk_deadline: s.opt_str("high_risk_deadline", 32),
                    condition: s.opt_str("condition", 40).unwrap_or_else(|| "always".into()),
                    required: s.opt_bool("required").unwrap_or(false),
                    ack_window: s.opt_str("ack_window", 32),
                };
                for (k, v) in s.errors {
                    inp.errors.entry(k).or_insert(v);
                }
                steps.push(def);
            }
        }
        Some(_) => inp.error("steps", "must be a list of steps"),
        None => inp.error("steps", "required"),
    }
    let r = Routine { review_period, steps };
    if inp.ok() {
        for (k, v) in routine::validate(&r) {
            inp.errors.entry(k).or_insert(v);
        }
    }
    r
}
