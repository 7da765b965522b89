//! Episodes: reading a report as staff or a social worker gives it (the API's JSON and the report form).
//! The actions on an episode decide who may through `domain::permission`.

use super::input::Input;
use crate::domain::risk;
use crate::store::episodes::create::NewReport;
use crate::store::episodes::Report;
use chrono::{DateTime, Duration, Utc};

/// Free text of a report field, at most this many characters.
pub const TEXT: usize = 4000;
/// Client clocks run a little ahead; a report "now" must not be refused for that.
pub const CLOCK_SKEW_SECONDS: i64 = 5;

pub fn read_indicators(inp: &mut Input, key: &str) -> Vec<String> {
    let list = inp.str_list(key, 20, 64);
    if let Some(bad) = list.iter().find(|i| !risk::is_indicator(i)) {
        inp.error(key, &format!("unknown indicator: {bad}"));
    }
    list
}

pub fn read_report(inp: &mut Input, now: DateTime<Utc>) -> NewReport {
    let child_id = inp.req_id("child_id");
    let discovered_at = inp.req_datetime("discovered_at");
    let last_seen_at = inp.req_datetime("last_seen_at");
    if inp.has("discovered_at") && discovered_at > now + Duration::seconds(CLOCK_SKEW_SECONDS) {
        inp.error("discovered_at", "may not be in the future");
    }
    if inp.has("last_seen_at") && inp.has("discovered_at") && last_seen_at > discovered_at {
        inp.error("last_seen_at", "may not be after discovered_at");
    }
    let report = Report {
        last_seen_place: inp.opt_str("last_seen_place", TEXT),
        last_seen_by: inp.opt_str("last_seen_by", TEXT),
        circumstances: inp.opt_str("circumstances", TEXT),
        clothing: inp.opt_str("clothing", TEXT),
        belongings: inp.opt_str("belongings", TEXT),
        search_actions: inp.opt_str("search_actions", TEXT),
        possible_whereabouts: inp.opt_str("possible_whereabouts", TEXT),
    };
    NewReport {
        child_id,
        discovered_at,
        last_seen_at,
        report,
        whereabouts_known: inp.opt_bool("whereabouts_known").unwrap_or(false),
        risk_indicators: read_indicators(inp, "risk_indicators"),
    }
}
