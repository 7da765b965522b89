//! County routines: a new version as a county officer writes it (the API's JSON and the editor's form
//! both come here), checked step by step, stored with its access-log entry. Only the county's own officer
//! may change it; another county's routine is "not found" to them. Episodes already open keep the version
//! they started with.

use super::command::{Check, Submitted};
use super::{AppError, AppResult};
use crate::auth::AuthUser;
use crate::db::{write_tx, AnyConnection};
use crate::domain::role::Role;
use crate::domain::routine::{self, Routine, StepDef};
use crate::store::audit::{self, Event};
use crate::store::org;
use crate::store::routines::{self, RoutineRow};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `PUT /api/v1/counties/{code}/routine` and the routine editor.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SetRoutine {
    /// ISO 8601 duration after which a long-running episode is reviewed (default P3M)
    pub review_period: Option<String>,
    /// why this version was made
    pub note: Option<String>,
    /// the whole ordered list of steps
    #[schema(required = true)]
    pub steps: Option<Vec<StepDef>>,
}

/// A step's text fields: (name, the field, at most this many characters, required).
fn step_texts(s: &mut StepDef) -> [(&'static str, &mut String, usize, bool); 8] {
    [
        ("key", &mut s.key, 64, true),
        ("title_sv", &mut s.title_sv, 200, true),
        ("title_en", &mut s.title_en, 200, true),
        ("guidance_sv", &mut s.guidance_sv, 4000, false),
        ("guidance_en", &mut s.guidance_en, 4000, false),
        ("responsible", &mut s.responsible, 32, true),
        ("phase", &mut s.phase, 16, true),
        ("deadline", &mut s.deadline, 32, true),
    ]
}

impl SetRoutine {
    /// Type and length rules per field, then the domain's rules (`routine::validate`) once those hold.
    fn validate(&mut self, ck: &mut Check) -> Routine {
        ck.text("review_period", &mut self.review_period, 32);
        ck.text("note", &mut self.note, 1000);
        ck.required("steps", &self.steps);
        let mut steps = self.steps.take().unwrap_or_default();
        if steps.len() > 100 {
            ck.error("steps", "at most 100 steps");
            steps.truncate(100);
        }
        for (i, s) in steps.iter_mut().enumerate() {
            let mut sc = Check::nested(format!("steps[{i}]."));
            for (key, v, max, required) in step_texts(s) {
                let mut o = Some(std::mem::take(v));
                if required {
                    sc.req_text(key, &mut o, max);
                } else {
                    sc.text(key, &mut o, max);
                }
                *v = o.unwrap_or_default();
            }
            for (key, v) in [("high_risk_deadline", &mut s.high_risk_deadline), ("ack_window", &mut s.ack_window)] {
                sc.text(key, v, 32);
            }
            let (mut anchor, mut condition) =
                (Some(std::mem::take(&mut s.anchor)), Some(std::mem::take(&mut s.condition)));
            sc.text("anchor", &mut anchor, 16);
            sc.text("condition", &mut condition, 40);
            s.anchor = anchor.unwrap_or_else(|| if s.phase == "found" { "found".into() } else { "discovered".into() });
            s.condition = condition.unwrap_or_else(|| "always".into());
            ck.absorb(sc);
        }
        let r = Routine { review_period: self.review_period.clone().unwrap_or_else(|| "P3M".into()), steps };
        if ck.ok() {
            for (k, v) in routine::validate(&r) {
                ck.error(&k, v);
            }
        }
        r
    }
}

/// Stores a new version of `county`'s routine.
pub fn set(
    c: &mut AnyConnection,
    user: &AuthUser,
    county: &str,
    input: Submitted<SetRoutine>,
    now: DateTime<Utc>,
) -> AppResult<RoutineRow> {
    user.require(&[Role::CountyOfficer])?;
    if user.workplace.county_code.as_deref() != Some(county) {
        return Err(AppError::not_found());
    }
    let mut r = Routine { review_period: String::new(), steps: Vec::new() };
    let (cmd, ck) = input.checked(|k, ck| r = k.validate(ck));
    ck.finish()?;
    write_tx(c, |c| {
        if !org::county_exists(c, county)? {
            return Err(AppError::not_found());
        }
        let row = routines::insert_version(c, county, &r, Some(user.id), cmd.note.clone(), now)?;
        let ev = Event::new("routine_changed")
            .on("county", county)
            .county(Some(county.to_string()))
            .detail(format!("version {}", row.version));
        audit::append(c, &user.actor(), &ev, now)?;
        Ok(row)
    })
}
