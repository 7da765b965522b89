use crate::common::*;
use crate::db_test;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rocket::http::Status;
use serde_json::{json, Value};

fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).single().unwrap_or_default()
}

async fn kid(app: &TestApp, w: &World, name: &str, dob: &str, sex: &str, nat: &str, acc: i64) -> i64 {
    let sw = app.login("sw@x.se").await;
    let mut b = child_body(acc);
    b["given_name"] = json!(name);
    b["date_of_birth"] = json!(dob);
    b["sex"] = json!(sex);
    b["nationality"] = json!(nat);
    let (s, v) = app.post("/api/v1/children", Some(&sw), b).await;
    assert_eq!(s, Status::Created, "{v}");
    let _ = w;
    v["id"].as_i64().unwrap_or(0)
}

/// Reports at `at`, records the police report `police_after` later, optionally finds and closes.
async fn episode(
    app: &TestApp,
    child: i64,
    staff: &str,
    at: DateTime<Utc>,
    police_after: Duration,
    found_after: Option<Duration>,
    close: Option<&str>,
) -> i64 {
    app.clock().set(at);
    let st = app.login(staff).await;
    let body = json!({"child_id": child, "discovered_at": at.to_rfc3339(), "last_seen_at": (at - Duration::hours(1)).to_rfc3339()});
    let (s, c) = app.post("/api/v1/cases", Some(&st), body).await;
    assert_eq!(s, Status::Created, "{c}");
    let id = c["id"].as_i64().unwrap_or(0);
    app.clock().set(at + police_after);
    let st = app.login(staff).await;
    let (s, _) = app
        .post(&format!("/api/v1/cases/{id}/steps/police_report/complete"), Some(&st), json!({"police_reference": "K"}))
        .await;
    assert_eq!(s, Status::Ok);
    if let Some(f) = found_after {
        app.clock().set(at + f + Duration::minutes(1));
        let st = app.login(staff).await;
        let (s, _) =
            app.post(&format!("/api/v1/cases/{id}/found"), Some(&st), json!({"found_at": (at + f).to_rfc3339()})).await;
        assert_eq!(s, Status::Ok);
    }
    if let Some(reason) = close {
        let sw = app.login("sw@x.se").await;
        let (s, v) = app
            .post(&format!("/api/v1/cases/{id}/close"), Some(&sw), json!({"reason": reason, "note": "fixture"}))
            .await;
        assert_eq!(s, Status::Ok, "{v}");
    }
    id
}

fn cell<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array().and_then(|l| l.iter().find(|c| c["key"] == key)).unwrap_or(&Value::Null)
}

async fn fixture(app: &TestApp) -> World {
    app.clock().set(utc(2026, 2, 1, 9, 0));
    let w = World::new(app).await;
    let a = kid(app, &w, "A", "2009-06-01", "male", "AF", w.acc).await;
    let b = kid(app, &w, "B", "2013-06-01", "female", "SY", w.acc_other).await;
    let c = kid(app, &w, "C", "2010-06-01", "male", "AF", w.acc).await;
    let d = kid(app, &w, "D", "2010-06-01", "male", "AF", w.acc).await;
    // 1 March 00:30 in Stockholm is still 28 February in UTC: inside the March period.
    episode(app, b, "staff.b@x.se", utc(2026, 2, 28, 23, 30), Duration::minutes(45), None, None).await;
    episode(
        app,
        a,
        "staff@x.se",
        utc(2026, 3, 2, 9, 0),
        Duration::minutes(30),
        Some(Duration::hours(20)),
        Some("transferred"),
    )
    .await;
    episode(
        app,
        a,
        "staff@x.se",
        utc(2026, 3, 10, 9, 0),
        Duration::minutes(90),
        Some(Duration::hours(72)),
        Some("transferred"),
    )
    .await;
    // 31 March 23:30 CEST is inside; 1 April 00:30 CEST (still 31 March in UTC) is outside.
    episode(app, c, "staff@x.se", utc(2026, 3, 31, 21, 30), Duration::minutes(60), None, Some("withdrawn")).await;
    episode(app, d, "staff@x.se", utc(2026, 3, 31, 22, 30), Duration::minutes(10), None, None).await;
    app.clock().set(utc(2026, 4, 2, 9, 0));
    w
}

db_test!(every_figure_matches_a_hand_computed_fixture, |app| {
    let _w = fixture(&app).await;
    let co = app.login("co@x.se").await;
    let (s, v) = app.get("/api/v1/counties/01/stats?from=2026-03-01&to=2026-03-31", Some(&co)).await;
    assert_eq!(s, Status::Ok, "{v}");
    assert_eq!(
        (
            v["episodes"].as_i64(),
            v["distinct_children"].as_i64(),
            v["repeat_children"].as_i64(),
            v["open_episodes"].as_i64()
        ),
        (Some(4), Some(3), Some(1), Some(1))
    );
    // Police minutes 45, 30, 90, 60: the median of an even count is the mean of 45 and 60; p90 by nearest rank.
    assert_eq!(v["median_minutes_to_police_report"], 52.5);
    assert_eq!(v["p90_minutes_to_police_report"], 90.0);
    assert_eq!(
        (v["found_within_24h"].as_i64(), v["found_within_7d"].as_i64(), v["found"].as_i64()),
        (Some(1), Some(2), Some(2))
    );
    assert_eq!(v["median_minutes_missing"], 2760.0);
    let police =
        v["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == "police_report").cloned()).unwrap_or_default();
    assert_eq!(police, json!({"key": "police_report", "done_on_time": 3, "done_late": 1, "overdue": 0, "skipped": 0}));
    // Breakdown cells of 1 or 2 are suppressed; so is the 3 beside a lone 1, which 4 − 3 would give away
    // (secondary suppression, API.md second edition).
    assert_eq!(cell(&v["by_municipality"], "0180")["label"], "Stockholm");
    assert_eq!(
        (
            cell(&v["by_municipality"], "0184")["episodes"].clone(),
            cell(&v["by_municipality"], "0184")["suppressed"].clone()
        ),
        (Value::Null, json!(true))
    );
    assert_eq!(
        (
            cell(&v["by_municipality"], "0180")["episodes"].clone(),
            cell(&v["by_municipality"], "0180")["suppressed"].clone()
        ),
        (Value::Null, json!(true))
    );
    assert_eq!(cell(&v["by_sex"], "male")["suppressed"], true, "3 boys and 1 girl: the girl is not singled out");
    assert_eq!(cell(&v["by_sex"], "female")["suppressed"], true);
    assert_eq!(cell(&v["by_age_band"], "16-17")["suppressed"], true, "two episodes");
    assert_eq!(cell(&v["by_age_band"], "13-15")["suppressed"], true);
    assert_eq!(cell(&v["by_age_band"], "0-12")["suppressed"], true);
    assert_eq!(cell(&v["by_nationality"], "AF")["suppressed"], true);
    assert_eq!(cell(&v["by_accommodation_kind"], "hvb")["episodes"], 4);
    assert_eq!(cell(&v["closure_reasons"], "transferred")["suppressed"], true);
    assert_eq!(v["monthly"], json!([{"month": "2026-03", "episodes": 4, "suppressed": false}]));
    let text = v.to_string();
    for personal in ["\"A\"", "2009-06-01", "fixture", "Amir", "Rahimi"] {
        assert!(!text.contains(personal), "statistics contain {personal}");
    }
    // The April episode alone: a top-level counter of 1 is never suppressed.
    let (_, april) = app.get("/api/v1/counties/01/stats?from=2026-04-01&to=2026-04-30", Some(&co)).await;
    assert_eq!(april["episodes"], 1);
    assert_eq!(april["median_minutes_to_police_report"], 10.0);
});

db_test!(statistics_are_scoped_and_validated, |app| {
    let _w = fixture(&app).await;
    let (co_other, sw, admin, co) = (
        app.login("co.c@x.se").await,
        app.login("sw@x.se").await,
        app.login("admin@test.se").await,
        app.login("co@x.se").await,
    );
    assert_eq!(app.get("/api/v1/counties/01/stats", Some(&co_other)).await.0, Status::NotFound);
    assert_eq!(app.get("/api/v1/counties/01/stats.csv", Some(&co_other)).await.0, Status::NotFound);
    assert_eq!(app.get("/api/v1/counties/01/stats", Some(&sw)).await.0, Status::Forbidden);
    assert_eq!(app.get("/api/v1/counties/01/stats", Some(&admin)).await.0, Status::Forbidden);
    let analyst = app.login("na@x.se").await;
    let (s, v) = app.get("/api/v1/counties/01/stats?from=2026-03-01&to=2026-03-31", Some(&analyst)).await;
    assert_eq!((s, v["episodes"].as_i64()), (Status::Ok, Some(4)));
    let (s, all) = app.get("/api/v1/stats?from=2026-03-01&to=2026-03-31", Some(&analyst)).await;
    assert_eq!((s, all.as_array().map(Vec::len)), (Status::Ok, Some(21)));
    assert_eq!(all[0]["episodes"], 4);
    assert_eq!(app.get("/api/v1/stats", Some(&co)).await.0, Status::Forbidden);
    let (s, v) = app.get("/api/v1/counties/01/stats?from=2026-13-01&to=2026-03-01", Some(&co)).await;
    assert_eq!((s, field(&v, "from")), (Status::UnprocessableEntity, Some("must be a date YYYY-MM-DD")));
    let (s, v) = app.get("/api/v1/counties/01/stats?from=2026-04-01&to=2026-03-01", Some(&co)).await;
    assert_eq!((s, field(&v, "to")), (Status::UnprocessableEntity, Some("must not be before from")));
});

db_test!(an_auditor_may_ask_for_any_period_of_the_century, |app| {
    let _w = fixture(&app).await;
    let co = app.login("co@x.se").await;
    // "Since the start": every episode of the fixture, where a ten-year cap used to refuse the question.
    let (s, v) = app.get("/api/v1/counties/01/stats?from=2000-01-01&to=2100-12-31", Some(&co)).await;
    assert_eq!(s, Status::Ok, "{v}");
    let (_, march) = app.get("/api/v1/counties/01/stats?from=2026-01-01&to=2026-12-31", Some(&co)).await;
    assert_eq!(v["episodes"], march["episodes"]);
    assert_eq!((v["from"].as_str(), v["to"].as_str()), (Some("2000-01-01"), Some("2100-12-31")));
    let (s, _) = app.get("/api/v1/counties/01/stats.csv?from=2000-01-01&to=2100-12-31", Some(&co)).await;
    assert_eq!(s, Status::Ok);
    let analyst = app.login("na@x.se").await;
    assert_eq!(app.get("/api/v1/stats?from=2000-01-01&to=2100-12-31", Some(&analyst)).await.0, Status::Ok);
    for (q, f) in [("from=1999-12-31&to=2026-01-01", "from"), ("from=2026-01-01&to=2101-01-01", "to")] {
        let (s, v) = app.get(&format!("/api/v1/counties/01/stats?{q}"), Some(&co)).await;
        assert_eq!(
            (s, field(&v, f)),
            (Status::UnprocessableEntity, Some("must be a date from 2000-01-01 to 2100-12-31")),
            "{q}"
        );
    }
});

db_test!(csv_export_suppresses_small_cells_and_escapes_names, |app| {
    use diesel::prelude::*;
    let _w = fixture(&app).await;
    diesel::update(saknad::db::schema::municipalities::table.find("0180"))
        .set(saknad::db::schema::municipalities::name.eq("Stockholm, \"city\""))
        .execute(&mut *app.conn())
        .expect("rename");
    let co = app.login("co@x.se").await;
    let resp = app
        .client
        .get("/api/v1/counties/01/stats.csv?from=2026-03-01&to=2026-03-31")
        .header(rocket::http::Header::new("Authorization", format!("Bearer {co}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert!(resp.content_type().is_some_and(|c| c.sub() == "csv"));
    let csv = resp.into_string().await.unwrap_or_default();
    assert!(csv.starts_with("section,key,label,value\n"));
    assert!(csv.contains("total,episodes,Försvinnanden,4\n"), "a person reads labels, a program keys: {csv}");
    assert!(csv.contains("municipality,0180,\"Stockholm, \"\"city\"\"\",dolt\n"), "{csv}");
    assert!(csv.contains("municipality,0184,Solna,dolt\n"));
    let police = saknad::i18n::step_title("sv", "police_report");
    assert!(csv.contains(&format!("step,police_report.done_on_time,{police}: i tid,3\n")), "{csv}");
    let codes = crate::pages::visible_codes(
        &csv.lines().map(|l| l.split(',').nth(2).unwrap_or("")).collect::<Vec<_>>().join("\n"),
    );
    assert!(codes.is_empty(), "no label is a code: {codes:?}");
});

db_test!(the_access_log_review_finds_who_read_which_episode, |app| {
    let w = fixture(&app).await;
    let sw = app.login("sw@x.se").await;
    let (_, list) = app.get("/api/v1/cases?status=closed", Some(&sw)).await;
    let first = list[0].clone();
    app.get(&format!("/api/v1/cases/{}", first["id"]), Some(&sw)).await;
    let co = app.login("co@x.se").await;
    let reference = first["reference"].as_str().unwrap_or("");
    let (s, entries) = app.get(&format!("/api/v1/counties/01/access-log?case={reference}"), Some(&co)).await;
    assert_eq!(s, Status::Ok);
    let entries = entries.as_array().cloned().unwrap_or_default();
    assert!(entries
        .iter()
        .any(|e| e["action"] == "case_read" && e["actor_role"] == "social_worker" && e["reference"] == reference));
    assert!(entries.iter().all(|e| e["reference"] == reference));
    let sw_id =
        entries.iter().find(|e| e["action"] == "case_read").map(|e| e["actor_user_id"].clone()).unwrap_or_default();
    let (_, by_user) = app.get(&format!("/api/v1/counties/01/access-log?user={sw_id}"), Some(&co)).await;
    assert!(by_user.as_array().is_some_and(|l| !l.is_empty() && l.iter().all(|e| e["actor_user_id"] == sw_id)));
    let (_, none) = app.get("/api/v1/counties/01/access-log?from=2020-01-01&to=2020-12-31", Some(&co)).await;
    assert_eq!(none, json!([]));
    let _ = w;
    let (co_other, admin) = (app.login("co.c@x.se").await, app.login("admin@test.se").await);
    assert_eq!(app.get("/api/v1/counties/01/access-log", Some(&co_other)).await.0, Status::NotFound);
    assert_eq!(app.get("/api/v1/counties/01/access-log", Some(&admin)).await.0, Status::Forbidden);
});

db_test!(the_access_log_page_finds_a_user_by_name_and_pages_fifty_entries_at_a_time, |app| {
    let _w = fixture(&app).await;
    let sw = app.login("sw@x.se").await;
    let (_, list) = app.get("/api/v1/cases?status=closed", Some(&sw)).await;
    let id = list[0]["id"].clone();
    for _ in 0..60 {
        app.get(&format!("/api/v1/cases/{id}"), Some(&sw)).await;
    }
    let co = app.login("co@x.se").await;
    // The test users' names are the common fixture's: the social worker is Sam Socialsekreterare.
    let (name, part) = ("Sam Socialsekreterare", "sam");
    let rows = |html: &str| html.matches("<tr><td>").count();
    let (s, html) = app.page(&format!("/access-log?user={part}"), &co).await;
    assert_eq!(s, Status::Ok, "{html}");
    assert_eq!(rows(&html), 50, "a page holds 50 entries");
    assert_eq!(html.matches(&format!("</td><td>{name}</td>")).count(), 50, "only {name}'s entries: {html}");
    assert!(
        html.contains(&format!("access-log?user={part}&amp;page=2\" rel=\"next\"")),
        "the next page keeps the filter: {html}"
    );
    let (s, html2) = app.page(&format!("/access-log?user={part}&page=2"), &co).await;
    assert_eq!(s, Status::Ok);
    assert!(rows(&html2) >= 10 && rows(&html2) < 50, "the rest on page 2");
    assert!(html2.contains("rel=\"prev\"") && !html2.contains("rel=\"next\""));
    let (s, far) = app.page("/access-log?page=9223372036854775807", &co).await;
    assert_eq!((s, rows(&far)), (Status::Ok, 0), "a page number past the end is an empty page, not an overflow");
    let (_, nobody) = app.page("/access-log?user=ingen+s%C3%A5dan", &co).await;
    assert_eq!(rows(&nobody), 0, "a name nobody has finds nothing");
    assert!(nobody.contains("Inga händelser"));
    let (s, bad) = app.page("/access-log?from=ig%C3%A5r", &co).await;
    assert_eq!(s, Status::UnprocessableEntity, "a bad date is refused at its field");
    assert!(bad.contains("id=\"from-error\""), "{bad}");
});

db_test!(retention_deletes_photos_then_pseudonymises_and_keeps_every_figure, |app| {
    use diesel::prelude::*;
    let _w = fixture(&app).await;
    let co = app.login("co@x.se").await;
    let (_, before) = app.get("/api/v1/counties/01/stats?from=2026-03-01&to=2026-03-31", Some(&co)).await;
    let sw = app.login("sw@x.se").await;
    let (_, kids) = app.get("/api/v1/children", Some(&sw)).await;
    let a = kids.as_array().and_then(|k| k.iter().find(|c| c["given_name"] == "A").cloned()).unwrap_or_default();
    let a_id = a["id"].as_i64().unwrap_or(0);
    app.put_photo(&sw, a_id).await;
    let now = app.clock().now();
    // A's last episode closed on 13 March; B and D still have open episodes.
    let out = saknad::store::retention::run(&mut app.conn(), 90, 1825, now).expect("retention");
    assert_eq!(out, saknad::store::retention::Outcome { photos_deleted: 0, children_pseudonymised: 0 });
    let later = now + chrono::Duration::days(91);
    let out = saknad::store::retention::run(&mut app.conn(), 90, 1825, later).expect("retention");
    assert_eq!(out.photos_deleted, 1);
    assert_eq!(out.children_pseudonymised, 0);
    let much_later = now + chrono::Duration::days(5 * 365 + 1);
    let out = saknad::store::retention::run(&mut app.conn(), 90, 1825, much_later).expect("retention");
    assert_eq!(out.children_pseudonymised, 2, "A and C");
    let again = saknad::store::retention::run(&mut app.conn(), 90, 1825, much_later).expect("retention");
    assert_eq!(again, saknad::store::retention::Outcome::default(), "idempotent");
    let (name, dob, guardian): (String, chrono::NaiveDate, Option<String>) = saknad::db::schema::children::table
        .find(a_id)
        .select((
            saknad::db::schema::children::given_name,
            saknad::db::schema::children::date_of_birth,
            saknad::db::schema::children::guardian_email,
        ))
        .first(&mut *app.conn())
        .expect("child");
    assert_eq!((name.as_str(), dob.to_string().as_str(), guardian), ("–", "2009-01-01", None));
    let reports: Vec<String> = saknad::db::schema::episodes::table
        .filter(saknad::db::schema::episodes::child_id.eq(a_id))
        .select(saknad::db::schema::episodes::report)
        .load(&mut *app.conn())
        .unwrap_or_default();
    assert!(reports.iter().all(|r| r == "{}"));
    let (_, after) = app.get("/api/v1/counties/01/stats?from=2026-03-01&to=2026-03-31", Some(&co)).await;
    assert_eq!(before, after, "statistics are identical before and after retention");
    let runs: i64 = saknad::db::schema::access_log::table
        .filter(saknad::db::schema::access_log::action.eq("retention_run"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap_or(0);
    assert_eq!(runs, 4, "every run is logged");
});
