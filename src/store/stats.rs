//! County statistics for a period (SPEC §5), computed from the episodes' own columns (age, sex,
//! nationality and accommodation kind are recorded on the episode at the report), so that pseudonymising
//! children later never changes a figure.

use super::children::utc;
use crate::db::schema::{episode_steps, episodes, municipalities};
use crate::db::AnyConnection;
use crate::domain::calendar::{local_date, start_of_local_day};
use crate::domain::episode::StepStatus;
use crate::domain::stats::{age_band, breakdown, cell, median, percentile, Cell, AGE_BANDS};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StepFigures {
    pub key: String,
    pub done_on_time: i64,
    pub done_late: i64,
    pub overdue: i64,
    pub skipped: i64,
    #[serde(skip)]
    pub within_72h: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthFigure {
    pub month: String,
    pub episodes: Option<i64>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CountyStats {
    pub county_code: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub episodes: i64,
    pub open_episodes: i64,
    pub distinct_children: i64,
    pub repeat_children: i64,
    pub median_minutes_to_police_report: Option<f64>,
    pub p90_minutes_to_police_report: Option<f64>,
    pub police_reports: i64,
    pub found: i64,
    pub found_within_24h: i64,
    pub found_within_7d: i64,
    pub median_minutes_missing: Option<f64>,
    pub return_conversations: i64,
    pub return_conversations_within_72h: i64,
    /// return conversations recorded as held no later than 72 hours after the child was found
    pub return_conversations_held_within_72h: i64,
    pub steps: Vec<StepFigures>,
    pub closure_reasons: Vec<Cell>,
    pub by_municipality: Vec<Cell>,
    pub by_sex: Vec<Cell>,
    pub by_age_band: Vec<Cell>,
    pub by_nationality: Vec<Cell>,
    pub by_accommodation_kind: Vec<Cell>,
    /// the return conversations recorded for the period's episodes: held, declined, not_reached
    pub return_conversation_outcomes: Vec<Cell>,
    /// why the children left, as told in the conversations (a conversation may name several)
    pub return_conversation_reasons: Vec<Cell>,
    pub monthly: Vec<MonthFigure>,
    /// Minutes from discovery to police report in bands, for the distribution chart.
    pub police_report_distribution: Vec<Cell>,
}

type EpisodeFacts = (
    i64,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    i32,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// Counts by key; the row's own String is moved in, never copied.
fn count(map: &mut HashMap<String, i64>, key: String) {
    match map.get_mut(&key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key, 1);
        }
    }
}

/// The Stockholm month of an instant, remembered per UTC hour: Stockholm's offset changes only on the hour,
/// so every instant of one UTC hour falls in the same local month, and a period of many episodes needs one
/// time-zone conversion per hour instead of one per episode.
struct LocalMonths(HashMap<i64, (i32, u32)>);

impl LocalMonths {
    fn of(&mut self, t: NaiveDateTime) -> (i32, u32) {
        let hour = t.and_utc().timestamp().div_euclid(3600);
        *self.0.entry(hour).or_insert_with(|| {
            let d = local_date(utc(t));
            (d.year(), d.month())
        })
    }
}

/// A breakdown's cells, suppressed so that no small cell can be worked out (`domain::stats::breakdown`).
fn cells(counts: BTreeMap<String, i64>, label: impl Fn(&str) -> String) -> Vec<Cell> {
    breakdown(counts.into_iter().map(|(k, n)| (k.clone(), label(&k), n)).collect())
}

fn round1(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10.0).round() / 10.0)
}

/// Figures for the episodes of `county` discovered from `from` to `to` inclusive (Stockholm dates).
pub fn county(
    conn: &mut AnyConnection,
    county: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> QueryResult<CountyStats> {
    let start = start_of_local_day(from).naive_utc();
    let end = start_of_local_day(to + Duration::days(1)).naive_utc();

    // Finished steps come from the counters kept per day; only pending steps are looked at one by one.
    let step_figures = step_outcomes(conn, county, from, to, start, end, now)?;
    let names: HashMap<String, String> = municipalities::table
        .filter(municipalities::county_code.eq(county))
        .select((municipalities::code, municipalities::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();

    let mut per_child: HashMap<i64, i64> = HashMap::new();
    let (mut muni, mut sex, mut nat, mut kind, mut reasons) =
        (HashMap::new(), HashMap::new(), HashMap::new(), HashMap::new(), HashMap::new());
    let mut band: BTreeMap<&'static str, i64> = AGE_BANDS.iter().map(|b| (*b, 0)).collect();
    let mut months: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    let mut local_months = LocalMonths(HashMap::new());
    let mut missing_minutes = Vec::new();
    let mut police_seconds: Vec<i64> = Vec::new();
    let (mut found, mut within_24h, mut within_7d, mut open) = (0, 0, 0, 0);
    // Streamed row by row: 100,000 episodes never sit in memory at once, and each row's strings are moved
    // into the counters, not copied.
    let stream = episodes::table
        .filter(episodes::county_code.eq(county))
        .filter(episodes::discovered_at.ge(start))
        .filter(episodes::discovered_at.lt(end))
        .select((
            episodes::child_id,
            episodes::municipality_code,
            episodes::status,
            episodes::discovered_at,
            episodes::found_at,
            episodes::closure_reason,
            episodes::child_age_years,
            episodes::child_sex,
            episodes::child_nationality,
            episodes::accommodation_kind,
            episodes::police_seconds,
        ))
        .load_iter::<EpisodeFacts, diesel::connection::DefaultLoadingMode>(conn)?;
    let mut total = 0i64;
    for r in stream {
        let (child, municipality, status, discovered, found_at, reason, age, child_sex, nationality, acc_kind, police) =
            r?;
        total += 1;
        *per_child.entry(child).or_default() += 1;
        count(&mut muni, municipality);
        count(&mut sex, child_sex);
        *band.entry(age_band(age)).or_insert(0) += 1;
        count(&mut nat, nationality.unwrap_or_else(|| "unknown".into()));
        count(&mut kind, acc_kind.unwrap_or_else(|| "unknown".into()));
        *months.entry(local_months.of(discovered)).or_insert(0) += 1;
        if let Some(reason) = reason {
            count(&mut reasons, reason);
        }
        if status != crate::domain::episode::Status::Closed.as_str() {
            open += 1;
        }
        if let Some(p) = police {
            police_seconds.push(p);
        }
        if let Some(f) = found_at {
            found += 1;
            let d = f - discovered;
            missing_minutes.push(d.num_seconds() as f64 / 60.0);
            if d <= Duration::hours(24) {
                within_24h += 1;
            }
            if d <= Duration::days(7) {
                within_7d += 1;
            }
        }
    }
    let sorted = |m: HashMap<String, i64>| m.into_iter().collect::<BTreeMap<_, _>>();
    let (muni, sex, nat, kind, reasons) = (sorted(muni), sorted(sex), sorted(nat), sorted(kind), sorted(reasons));
    let band: BTreeMap<String, i64> = band.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    let months: BTreeMap<String, i64> = months.into_iter().map(|((y, m), n)| (format!("{y:04}-{m:02}"), n)).collect();
    let police: Vec<f64> = police_seconds.iter().map(|s| *s as f64 / 60.0).collect();
    let conversations =
        step_figures.iter().find(|f| f.key == "return_conversation").map(|f| f.done_on_time + f.done_late).unwrap_or(0);
    let conversations_72h =
        step_figures.iter().find(|f| f.key == "return_conversation").map(|f| f.within_72h).unwrap_or(0);
    let mut distribution = BTreeMap::new();
    for (label, _) in POLICE_BANDS {
        distribution.insert(label.to_string(), 0i64);
    }
    for m in &police {
        let label = POLICE_BANDS.iter().find(|(_, max)| *m <= *max).map(|(l, _)| *l).unwrap_or("> 24 h");
        *distribution.entry(label.to_string()).or_default() += 1;
    }
    let sex_label = |k: &str| k.to_string();
    let talks = crate::store::return_conversations::outcomes(conn, county, start, end)?;
    let mut outcomes: BTreeMap<String, i64> =
        crate::domain::episode::RETURN_OUTCOMES.iter().map(|o| (o.to_string(), 0)).collect();
    let mut leaving: BTreeMap<String, i64> = BTreeMap::new();
    let held_72h = talks.iter().filter(|t| t.held_within_72h).count() as i64;
    for t in talks {
        *outcomes.entry(t.outcome).or_default() += 1;
        for r in t.reasons {
            *leaving.entry(r).or_default() += 1;
        }
    }
    Ok(CountyStats {
        return_conversations_held_within_72h: held_72h,
        return_conversation_outcomes: breakdown(
            crate::domain::episode::RETURN_OUTCOMES
                .iter()
                .map(|o| (o.to_string(), o.to_string(), outcomes.get(*o).copied().unwrap_or(0)))
                .collect::<Vec<_>>(),
        ),
        return_conversation_reasons: cells(leaving, |k| k.to_string()),
        county_code: county.to_string(),
        from,
        to,
        episodes: total,
        open_episodes: open,
        distinct_children: per_child.len() as i64,
        repeat_children: per_child.values().filter(|n| **n > 1).count() as i64,
        median_minutes_to_police_report: round1(median(&mut police.clone())),
        p90_minutes_to_police_report: round1(percentile(&mut police.clone(), 90.0)),
        police_reports: police.len() as i64,
        found,
        found_within_24h: within_24h,
        found_within_7d: within_7d,
        median_minutes_missing: round1(median(&mut missing_minutes)),
        return_conversations: conversations,
        return_conversations_within_72h: conversations_72h,
        steps: step_figures.clone(),
        closure_reasons: cells(reasons, |k| k.to_string()),
        by_municipality: cells(muni, |k| names.get(k).cloned().unwrap_or_else(|| k.to_string())),
        by_sex: cells(sex, sex_label),
        by_age_band: cells(band, |k| k.to_string()),
        by_nationality: cells(nat, |k| k.to_string()),
        by_accommodation_kind: cells(kind, |k| k.to_string()),
        monthly: months
            .into_iter()
            .map(|(m, n)| {
                let c = cell(m.clone(), m.clone(), n);
                MonthFigure { month: m, episodes: c.episodes, suppressed: c.suppressed }
            })
            .collect(),
        police_report_distribution: POLICE_BANDS
            .iter()
            .map(|(l, _)| cell(l.to_string(), l.to_string(), distribution.get(*l).copied().unwrap_or(0)))
            .chain(std::iter::once(cell("> 24 h", "> 24 h", distribution.get("> 24 h").copied().unwrap_or(0))))
            .collect(),
    })
}

/// Step figures for the period: the day counters for finished steps, plus the pending steps already past
/// their deadline (few, found through the status index).
fn step_outcomes(
    conn: &mut AnyConnection,
    county: &str,
    from: NaiveDate,
    to: NaiveDate,
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: DateTime<Utc>,
) -> QueryResult<Vec<StepFigures>> {
    use crate::db::schema::step_day_stats as d;
    let counters: Vec<(String, i64, i64, i64, i64)> = d::table
        .filter(d::county_code.eq(county))
        .filter(d::day.ge(from))
        .filter(d::day.le(to))
        .select((d::key, d::done_on_time, d::done_late, d::skipped, d::within_72h))
        .load(conn)?;
    let overdue: Vec<String> = episode_steps::table
        .inner_join(episodes::table)
        .filter(episode_steps::status.eq(StepStatus::Pending.as_str()))
        .filter(episode_steps::due_at.lt(now.naive_utc()))
        .filter(episodes::county_code.eq(county))
        .filter(episodes::discovered_at.ge(start))
        .filter(episodes::discovered_at.lt(end))
        .select(episode_steps::key)
        .load(conn)?;
    let order: HashMap<String, i32> = crate::domain::routine::national_default()
        .steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s.key, i as i32))
        .collect();
    let mut by_key: BTreeMap<(i32, String), StepFigures> = BTreeMap::new();
    fn fig<'a>(
        map: &'a mut BTreeMap<(i32, String), StepFigures>,
        order: &HashMap<String, i32>,
        key: &str,
    ) -> &'a mut StepFigures {
        map.entry((*order.get(key).unwrap_or(&999), key.to_string())).or_insert_with(|| StepFigures {
            key: key.to_string(),
            done_on_time: 0,
            done_late: 0,
            overdue: 0,
            skipped: 0,
            within_72h: 0,
        })
    }
    for (key, on_time, late, skipped, within) in counters {
        let f = fig(&mut by_key, &order, &key);
        f.done_on_time += on_time;
        f.done_late += late;
        f.skipped += skipped;
        f.within_72h += within;
    }
    for key in overdue {
        fig(&mut by_key, &order, &key).overdue += 1;
    }
    Ok(by_key.into_values().collect())
}

const POLICE_BANDS: [(&str, f64); 5] =
    [("≤ 15 min", 15.0), ("≤ 1 h", 60.0), ("≤ 4 h", 240.0), ("≤ 12 h", 720.0), ("≤ 24 h", 1440.0)];

/// The statistics as CSV: `section,key,label,value`, with suppressed cells as `<3`. Keys stay codes, for
/// programs; labels are in the reader's language, for people (cells are labelled by [`label`]).
pub fn to_csv(s: &CountyStats, lang: &str) -> String {
    use crate::domain::stats::csv_field as f;
    use crate::i18n::t;
    let mut out = String::from("section,key,label,value\n");
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for (k, label, v) in [
        ("episodes", "stat_episodes", s.episodes.to_string()),
        ("open_episodes", "stat_open", s.open_episodes.to_string()),
        ("distinct_children", "stat_children", s.distinct_children.to_string()),
        ("repeat_children", "stat_repeat", s.repeat_children.to_string()),
        ("median_minutes_to_police_report", "stat_police_median", num(s.median_minutes_to_police_report)),
        ("p90_minutes_to_police_report", "stat_police_p90", num(s.p90_minutes_to_police_report)),
        ("found_within_24h", "stat_found_24h", s.found_within_24h.to_string()),
        ("found_within_7d", "stat_found_7d", s.found_within_7d.to_string()),
        ("median_minutes_missing", "stat_missing_median", num(s.median_minutes_missing)),
        ("return_conversations_within_72h", "stat_return_72h", s.return_conversations_within_72h.to_string()),
        (
            "return_conversations_held_within_72h",
            "stat_return_held_72h",
            s.return_conversations_held_within_72h.to_string(),
        ),
    ] {
        out.push_str(&format!("total,{k},{},{v}\n", f(t(lang, label))));
    }
    for st in &s.steps {
        let title = crate::i18n::step_title(lang, &st.key);
        for (k, label, v) in [
            ("done_on_time", "on_time", st.done_on_time),
            ("done_late", "late", st.done_late),
            ("overdue", "overdue", st.overdue),
            ("skipped", "skipped", st.skipped),
        ] {
            out.push_str(&format!("step,{}.{k},{},{v}\n", f(&st.key), f(&format!("{title}: {}", t(lang, label)))));
        }
    }
    let sections: [(&str, &Vec<Cell>); 8] = [
        ("return_conversation_outcome", &s.return_conversation_outcomes),
        ("return_conversation_reason", &s.return_conversation_reasons),
        ("closure_reason", &s.closure_reasons),
        ("municipality", &s.by_municipality),
        ("sex", &s.by_sex),
        ("age_band", &s.by_age_band),
        ("nationality", &s.by_nationality),
        ("accommodation_kind", &s.by_accommodation_kind),
    ];
    for (section, cells) in sections {
        for c in cells {
            let v =
                if c.suppressed { t(lang, "suppressed_mark").to_string() } else { c.episodes.unwrap_or(0).to_string() };
            out.push_str(&format!("{section},{},{},{v}\n", f(&c.key), f(&c.label)));
        }
    }
    for m in &s.monthly {
        let v = if m.suppressed { t(lang, "suppressed_mark").to_string() } else { m.episodes.unwrap_or(0).to_string() };
        out.push_str(&format!("month,{},{},{v}\n", m.month, m.month));
    }
    out
}

/// Every breakdown cell labelled in the reader's language: closure reasons, sex, age bands, nationalities
/// (CLDR names), accommodation kinds. Municipalities are labelled by name when counted.
pub fn label(s: &mut CountyStats, lang: &str) {
    use crate::i18n::{names, t};
    let relabel = |cells: &mut Vec<Cell>, f: &dyn Fn(&str) -> String| {
        for c in cells.iter_mut() {
            c.label = f(&c.key);
        }
    };
    let unknown =
        |k: &str, f: &dyn Fn(&str) -> String| if k == "unknown" { t(lang, "sex_unknown").to_string() } else { f(k) };
    relabel(&mut s.closure_reasons, &|k| t(lang, &format!("reason_{k}")).to_string());
    relabel(&mut s.by_sex, &|k| t(lang, &format!("sex_{k}")).to_string());
    relabel(&mut s.by_age_band, &|k| format!("{} {}", k.replace('-', "–"), t(lang, "years")));
    relabel(&mut s.by_nationality, &|k| unknown(k, &|k| names::country(lang, k)));
    relabel(&mut s.return_conversation_outcomes, &|k| t(lang, &format!("rc_outcome_{k}")).to_string());
    relabel(&mut s.return_conversation_reasons, &|k| t(lang, &format!("rc_reason_{k}")).to_string());
    relabel(&mut s.by_accommodation_kind, &|k| unknown(k, &|k| t(lang, &format!("acc_kind_{k}")).to_string()));
}
