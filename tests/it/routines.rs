use crate::cases::monday_10;
use crate::common::*;
use crate::{db_test, smtp_test};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rocket::http::Status;
use serde_json::{json, Value};

fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).single().unwrap_or_default()
}

async fn routine(app: &TestApp, token: &str) -> Value {
    let (s, r) = app.get("/api/v1/counties/01/routine", Some(token)).await;
    assert_eq!(s, Status::Ok);
    r
}

fn step_mut<'a>(r: &'a mut Value, key: &str) -> &'a mut Value {
    let steps = r["steps"].as_array_mut().expect("steps");
    let i = steps.iter().position(|s| s["key"] == key).expect("step");
    &mut steps[i]
}

fn step<'a>(case: &'a Value, key: &str) -> &'a Value {
    case["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == key)).unwrap_or(&Value::Null)
}

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

db_test!(the_national_default_routine_has_every_attribute, |app| {
    let w = World::new(&app).await;
    let r = routine(&app, &w.staff).await;
    assert_eq!((r["version"].as_i64(), r["review_period"].as_str()), (Some(1), Some("P3M")));
    let steps = r["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 21);
    // Staff tell the police the child is back, so the alert is cancelled (API.md second edition).
    let told = steps.iter().find(|s| s["key"] == "police_informed_found").cloned().unwrap_or_default();
    assert_eq!(
        (
            told["responsible"].as_str(),
            told["phase"].as_str(),
            told["deadline"].as_str(),
            told["condition"].as_str(),
            told["required"].as_bool()
        ),
        (Some("staff"), Some("found"), Some("PT1H"), Some("always"), Some(true))
    );
    let police = steps.iter().find(|s| s["key"] == "police_report").cloned().unwrap_or_default();
    assert_eq!(
        (
            police["responsible"].as_str(),
            police["phase"].as_str(),
            police["anchor"].as_str(),
            police["deadline"].as_str(),
            police["high_risk_deadline"].as_str(),
            police["condition"].as_str(),
            police["required"].as_bool(),
            police["ack_window"].as_str()
        ),
        (
            Some("staff"),
            Some("missing"),
            Some("discovered"),
            Some("PT1H"),
            Some("PT15M"),
            Some("always"),
            Some(true),
            Some("PT30M")
        )
    );
    assert!(
        police["title_sv"].as_str().is_some_and(|t| t.contains("polisen"))
            && police["title_en"].as_str().is_some_and(|t| t.contains("police"))
    );
    assert!(police["guidance_sv"].as_str().is_some_and(|t| t.contains("114 14")));
    let eservice = steps.iter().find(|s| s["key"] == "migrationsverket_eservice").cloned().unwrap_or_default();
    assert_eq!(eservice["deadline"], "monthly_by:7");
    assert_eq!(app.get("/api/v1/counties/99/routine", Some(&w.staff)).await.0, Status::NotFound);
});

db_test!(every_bad_template_is_refused_with_its_field_and_changes_nothing, |app| {
    let w = World::new(&app).await;
    let good = routine(&app, &w.co).await;
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|r: &mut Value| step_mut(r, "lvu_assessment")["responsible"] = json!("police")),
            "steps[8].responsible",
            "must be one of",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "lvu_assessment")["condition"] = json!("full_moon")),
            "steps[8].condition",
            "must be one of",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "lvu_assessment")["deadline"] = json!("three days")),
            "steps[8].deadline",
            "ISO 8601",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "lvu_assessment")["high_risk_deadline"] = json!("P2Y")),
            "steps[8].high_risk_deadline",
            "at most a year",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "notify_guardian")["ack_window"] = json!("P400D")),
            "steps[3].ack_window",
            "at most a year",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "review_7d")["key"] = json!("review_72h")),
            "steps[10].key",
            "duplicate key",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "review_7d")["phase"] = json!("later")),
            "steps[10].phase",
            "missing or found",
        ),
        (
            Box::new(|r: &mut Value| step_mut(r, "review_7d")["required"] = json!("yes")),
            "steps[10].required",
            "true or false",
        ),
        (Box::new(|r: &mut Value| step_mut(r, "review_7d")["title_sv"] = json!("")), "steps[10].title_sv", "required"),
        (
            Box::new(|r: &mut Value| {
                if let Some(s) = r["steps"].as_array_mut() {
                    s.retain(|x| x["key"] != "police_report")
                }
            }),
            "steps",
            "police_report",
        ),
        (Box::new(|r: &mut Value| r["steps"] = json!("all of them")), "steps", "list"),
        (
            Box::new(|r: &mut Value| r["steps"].as_array_mut().map(|s| s.push(json!(5))).unwrap_or(())),
            "steps[21]",
            "object",
        ),
        (Box::new(|r: &mut Value| r["review_period"] = json!("three months")), "review_period", "ISO 8601"),
    ];
    for (change, field_name, reason) in cases {
        let mut r = good.clone();
        change(&mut r);
        let (s, v) = app.put("/api/v1/counties/01/routine", Some(&w.co), r).await;
        assert_eq!(s, Status::UnprocessableEntity, "{field_name}: {v}");
        assert!(field(&v, field_name).is_some_and(|f| f.contains(reason)), "{field_name}: {v}");
    }
    assert_eq!(routine(&app, &w.co).await["version"], 1, "nothing was stored");
    assert_eq!(app.put("/api/v1/counties/01/routine", Some(&w.sw), good.clone()).await.0, Status::Forbidden);
    assert_eq!(app.put("/api/v1/counties/01/routine", Some(&w.admin), good.clone()).await.0, Status::Forbidden);
    assert_eq!(app.put("/api/v1/counties/01/routine", Some(&w.co_other), good.clone()).await.0, Status::NotFound);
});

db_test!(an_episode_keeps_the_routine_version_it_started_with, |app| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let (_, old) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    let mut r = routine(&app, &w.co).await;
    step_mut(&mut r, "police_report")["deadline"] = json!("PT30M");
    step_mut(&mut r, "lvu_assessment")["deadline"] = json!("working_days:2");
    r["note"] = json!("shorter police deadline after the 2026 review");
    let (s, v2) = app.put("/api/v1/counties/01/routine", Some(&w.co), r).await;
    assert_eq!((s, v2["version"].as_i64()), (Status::Ok, Some(2)), "{v2}");
    let (_, history) = app.get("/api/v1/counties/01/routine/versions", Some(&w.co)).await;
    assert_eq!(
        history.as_array().map(|h| h.iter().filter_map(|v| v["version"].as_i64()).collect::<Vec<_>>()),
        Some(vec![2, 1])
    );
    assert_eq!(history[0]["note"], "shorter police deadline after the 2026 review");
    let (s, v1) = app.get("/api/v1/counties/01/routine/versions/1", Some(&w.co)).await;
    assert_eq!((s, step(&v1, "police_report")["deadline"].as_str()), (Status::Ok, Some("PT1H")));
    // A second child reported after the edit follows version 2.
    let mut b = child_body(w.acc);
    b["given_name"] = json!("Second");
    let (_, kid) = app.post("/api/v1/children", Some(&w.sw), b).await;
    let (_, new) = app.post("/api/v1/cases", Some(&w.staff), report(&app, kid["id"].as_i64().unwrap_or(0), 0)).await;
    let (d_old, d_new) = (ts(&old["discovered_at"]), ts(&new["discovered_at"]));
    assert_eq!(ts(&step(&old, "police_report")["due_at"]), d_old + Duration::hours(1));
    assert_eq!(ts(&step(&new, "police_report")["due_at"]), d_new + Duration::minutes(30));
    assert_eq!(ts(&step(&new, "lvu_assessment")["due_at"]), d_new + Duration::days(2), "Monday + 2 working days");
    assert_eq!((old["routine_version"].as_i64(), new["routine_version"].as_i64()), (Some(1), Some(2)));
    // Compliance of the old episode is judged against version 1: done 45 minutes after discovery is on time.
    app.clock().advance(Duration::minutes(45));
    let (s, _) = app
        .post(
            &format!("/api/v1/cases/{}/steps/police_report/complete", old["id"]),
            Some(&w.staff),
            json!({"police_reference": "K1"}),
        )
        .await;
    assert_eq!(s, Status::Ok);
    let (_, comp) = app.get(&format!("/api/v1/cases/{}/compliance", old["id"]), Some(&w.co)).await;
    assert_eq!(comp["routine_version"], 1);
    let police = comp["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["key"] == "police_report").cloned())
        .unwrap_or_default();
    assert_eq!(police["outcome"], "on_time");
    let (_, comp) = app.get(&format!("/api/v1/cases/{}/compliance", new["id"]), Some(&w.sw)).await;
    let police = comp["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["key"] == "police_report").cloned())
        .unwrap_or_default();
    assert_eq!((police["outcome"].as_str(), police["late_by_minutes"].as_i64()), (Some("overdue"), Some(15)));
});

db_test!(compliance_shows_late_and_skipped_steps_and_hides_reasons_from_the_county, |app| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let (_, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    let id = c["id"].clone();
    app.clock().advance(Duration::minutes(100));
    app.post(
        &format!("/api/v1/cases/{id}/steps/police_report/complete"),
        Some(&w.staff),
        json!({"police_reference": "K2"}),
    )
    .await;
    app.post(
        &format!("/api/v1/cases/{id}/steps/review_72h/skip"),
        Some(&w.sw),
        json!({"reason": "the child was located by the police"}),
    )
    .await;
    let (_, comp) = app.get(&format!("/api/v1/cases/{id}/compliance"), Some(&w.sw)).await;
    let find = |c: &Value, k: &str| {
        c["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == k).cloned()).unwrap_or_default()
    };
    assert_eq!(
        (find(&comp, "police_report")["outcome"].as_str(), find(&comp, "police_report")["late_by_minutes"].as_i64()),
        (Some("late"), Some(40))
    );
    assert_eq!(find(&comp, "review_72h")["skip_reason"], "the child was located by the police");
    assert_eq!(find(&comp, "search_and_contact")["outcome"], "on_time");
    assert_eq!(find(&comp, "lvu_assessment")["outcome"], "pending");
    let (_, pseudo) = app.get(&format!("/api/v1/cases/{id}/compliance"), Some(&w.co)).await;
    assert_eq!(find(&pseudo, "review_72h")["outcome"], "skipped");
    assert!(find(&pseudo, "review_72h")["skip_reason"].is_null());
    assert!(!pseudo.to_string().contains("located"));
});

db_test!(the_worklist_shows_each_user_their_own_steps_most_urgent_first, |app| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let mut r = report(&app, w.child, 0);
    r["search_actions"] = Value::Null;
    let (_, c) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    let (s, staff) = app.get("/api/v1/worklist", Some(&w.staff)).await;
    assert_eq!(s, Status::Ok);
    let keys = |l: &Value| {
        l.as_array()
            .map(|a| a.iter().filter_map(|x| x["key"].as_str().map(String::from)).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(keys(&staff), ["search_and_contact", "police_report"]);
    assert_eq!(staff[0]["reference"], c["reference"]);
    assert_eq!(staff[0]["overdue"], true, "searching is due at report");
    assert_eq!(staff[1]["overdue"], false);
    let (_, sw) = app.get("/api/v1/worklist", Some(&w.sw)).await;
    let sw_keys = keys(&sw);
    assert_eq!(sw_keys.first().map(String::as_str), Some("notify_social_services"));
    assert!(sw_keys.contains(&"lvu_assessment".to_string()) && !sw_keys.contains(&"police_report".to_string()));
    let due: Vec<DateTime<Utc>> =
        sw.as_array().map(|a| a.iter().map(|x| ts(&x["due_at"])).collect()).unwrap_or_default();
    assert!(due.windows(2).all(|p| p[0] <= p[1]), "most urgent first");
    assert_eq!(app.get("/api/v1/worklist", Some(&w.staff_other)).await.1, json!([]));
    assert_eq!(app.get("/api/v1/worklist", Some(&w.sw_other)).await.1, json!([]));
    assert_eq!(app.get("/api/v1/worklist", Some(&w.co)).await.0, Status::Forbidden);
    app.clock().advance(Duration::hours(2));
    let (_, staff) = app.get("/api/v1/worklist", Some(&w.staff)).await;
    assert_eq!(staff[1]["overdue"], true);
    app.post(
        &format!("/api/v1/cases/{}/steps/police_report/complete", c["id"]),
        Some(&w.staff),
        json!({"police_reference": "K"}),
    )
    .await;
    assert_eq!(keys(&app.get("/api/v1/worklist", Some(&w.staff)).await.1), ["search_and_contact"]);
});

smtp_test!(overdue_steps_are_reminded_once_then_in_a_daily_digest_at_seven_across_dst, |app, smtp| {
    // Saturday 28 March 2026, 23:00 in Stockholm (CET); the clocks go forward that night.
    app.clock().set(utc(2026, 3, 28, 22, 0));
    let w = World::new(&app).await;
    let (_, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    app.drain().await;
    let reminders = |smtp: &crate::smtp::SmtpSink, to: &str| {
        smtp.to(to)
            .into_iter()
            .filter(|m| m.header("X-Saknad-Reference") == "AB-2026-0001" && m.subject().contains("Påminnelse"))
            .count()
    };
    let digests = |smtp: &crate::smtp::SmtpSink, to: &str| {
        smtp.to(to).into_iter().filter(|m| m.subject().contains("Daglig")).count()
    };
    assert_eq!(reminders(&smtp, "staff@x.se"), 0);
    // The police report is due at 00:00 CET = 23:00 UTC: staff and the accommodation are reminded, once.
    app.clock().set(utc(2026, 3, 28, 22, 59));
    app.drain().await;
    assert_eq!(reminders(&smtp, "staff@x.se"), 0, "not before the deadline");
    app.clock().set(utc(2026, 3, 28, 23, 1));
    app.drain().await;
    assert_eq!(reminders(&smtp, "staff@x.se"), 1);
    assert_eq!(reminders(&smtp, "hvb@x.se"), 1);
    app.drain().await;
    assert_eq!(reminders(&smtp, "staff@x.se"), 1, "once per step");
    let text = smtp.to("staff@x.se")[0].text();
    assert!(
        text.contains("AB-2026-0001") && text.contains("Anmäl till polisen") && !text.contains("Amir"),
        "no child's name in a reminder"
    );
    // 07:00 on Sunday is 05:00 UTC (CEST): no digest at 04:59 UTC, one at 05:00 UTC.
    app.clock().set(utc(2026, 3, 29, 4, 59));
    app.drain().await;
    assert_eq!(digests(&smtp, "staff@x.se"), 0);
    app.clock().set(utc(2026, 3, 29, 5, 0));
    app.drain().await;
    assert_eq!(digests(&smtp, "staff@x.se"), 1);
    let digest = smtp
        .to("staff@x.se")
        .into_iter()
        .find(|m| m.subject().contains("Daglig"))
        .map(|m| m.text())
        .unwrap_or_default();
    assert!(digest.contains("Anmäl till polisen"), "{digest}");
    app.clock().set(utc(2026, 3, 29, 12, 0));
    app.drain().await;
    assert_eq!(digests(&smtp, "staff@x.se"), 1, "one digest a day");
    // After the steps are done there is no digest any more.
    let staff = app.login("staff@x.se").await;
    let (s, _) = app
        .post(
            &format!("/api/v1/cases/{}/steps/police_report/complete", c["id"]),
            Some(&staff),
            json!({"police_reference": "K"}),
        )
        .await;
    assert_eq!(s, Status::Ok);
    app.clock().set(utc(2026, 3, 30, 5, 0));
    app.drain().await;
    assert_eq!(digests(&smtp, "staff@x.se"), 1, "nothing overdue, no digest");
    // The social worker's steps: digests go to the social workers and the municipality mailbox.
    assert!(digests(&smtp, "soc@stockholm.se") >= 1);
});

smtp_test!(working_day_deadlines_skip_easter_and_closed_episodes_are_never_reminded, |app, smtp| {
    app.clock().set(utc(2026, 4, 2, 8, 0)); // Thursday 2 April 2026, 10:00 CEST
    let w = World::new(&app).await;
    let mut r = routine(&app, &w.co).await;
    if let Some(s) = r["steps"].as_array_mut() {
        s.push(json!({"key": "contact_school", "title_sv": "Kontakta skolan", "title_en": "Contact the school", "responsible": "social_worker",
                      "phase": "missing", "deadline": "working_days:1", "condition": "always", "required": false}));
    }
    assert_eq!(app.put("/api/v1/counties/01/routine", Some(&w.co), r).await.0, Status::Ok);
    let (_, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    // Good Friday, the weekend and Easter Monday are skipped: due Tuesday 7 April 10:00 CEST.
    assert!(
        (ts(&step(&c, "contact_school")["due_at"]) - utc(2026, 4, 7, 8, 0)).num_seconds().abs() < 2,
        "{}",
        step(&c, "contact_school")
    );
    let about_school = |smtp: &crate::smtp::SmtpSink| {
        smtp.to("sw@x.se")
            .into_iter()
            .filter(|m| m.subject().contains("Påminnelse") && m.text().contains("Kontakta skolan"))
            .count()
    };
    app.clock().set(utc(2026, 4, 6, 12, 0));
    app.drain().await;
    let before = about_school(&smtp);
    app.clock().set(utc(2026, 4, 7, 8, 1));
    app.drain().await;
    assert_eq!(about_school(&smtp), before + 1, "reminded once it is overdue");
    let sw = app.login("sw@x.se").await;
    app.post(&format!("/api/v1/cases/{}/close", c["id"]), Some(&sw), json!({"reason": "withdrawn", "note": "error"}))
        .await;
    app.drain().await;
    let n = smtp.messages().len();
    app.clock().set(utc(2026, 4, 8, 5, 0));
    app.drain().await;
    assert_eq!(smtp.messages().len(), n, "a closed episode has nothing overdue");
});

db_test!(long_running_episodes_prompt_review_and_turning_18, |app| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let mut b = child_body(w.acc);
    b["date_of_birth"] = json!("2009-01-10");
    let (_, kid) = app.post("/api/v1/children", Some(&w.sw), b).await;
    let (_, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, kid["id"].as_i64().unwrap_or(0), 0)).await;
    let id = c["id"].clone();
    let kinds = |c: &Value| {
        c["timeline"]
            .as_array()
            .map(|t| t.iter().filter_map(|e| e["kind"].as_str().map(String::from)).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    app.clock().set(utc(2027, 1, 10, 12, 0));
    app.drain().await;
    let sw = app.login("sw@x.se").await;
    let (_, got) = app.get(&format!("/api/v1/cases/{id}"), Some(&sw)).await;
    assert!(kinds(&got).contains(&"turned_18".to_string()));
    assert!(!kinds(&got).contains(&"review_period_ended".to_string()));
    let has_handover =
        |c: &Value| c["steps"].as_array().is_some_and(|s| s.iter().any(|x| x["key"] == "long_term_handover"));
    assert!(!has_handover(&got), "the three-month hand-over is not a step from the start");
    app.clock().set(utc(2027, 3, 1, 9, 0));
    app.drain().await;
    app.drain().await;
    let sw = app.login("sw@x.se").await;
    let (_, got) = app.get(&format!("/api/v1/cases/{id}"), Some(&sw)).await;
    assert_eq!(kinds(&got).iter().filter(|k| *k == "review_period_ended").count(), 1, "prompted once");
    // Still missing after three months: the hand-over to the police, överförmyndaren and Migrationsverket
    // is the social worker's step, due five working days from now.
    let handover = got["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == "long_term_handover")).cloned();
    let handover = handover.unwrap_or_default();
    assert_eq!(
        (handover["responsible"].as_str(), handover["status"].as_str()),
        (Some("social_worker"), Some("pending"))
    );
    let late = ts(&handover["due_at"]) - utc(2027, 3, 8, 9, 0);
    assert!(late.num_seconds().abs() < 60, "due {}", handover["due_at"]);
    assert!(handover["title"].as_str().is_some_and(|t| t.contains("överförmyndaren")));
    assert_eq!(kinds(&got).iter().filter(|k| *k == "turned_18").count(), 1);
    let (s, _) = app.post(&format!("/api/v1/cases/{id}/extend"), Some(&sw), json!({})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    let (s, ext) =
        app.post(&format!("/api/v1/cases/{id}/extend"), Some(&sw), json!({"reason": "the police still search"})).await;
    assert_eq!(s, Status::Ok);
    assert!(kinds(&ext).contains(&"review_extended".to_string()));
    app.clock().advance(Duration::days(95));
    app.drain().await;
    let sw = app.login("sw@x.se").await;
    let (_, got) = app.get(&format!("/api/v1/cases/{id}"), Some(&sw)).await;
    assert_eq!(
        kinds(&got).iter().filter(|k| *k == "review_period_ended").count(),
        2,
        "prompted again after the extension"
    );
    let (s, closed) =
        app.post(&format!("/api/v1/cases/{id}/close"), Some(&sw), json!({"reason": "review_period_ended"})).await;
    assert_eq!((s, closed["closure_reason"].as_str()), (Status::Ok, Some("review_period_ended")));
});

smtp_test!(a_ten_minute_guardian_window_escalates_after_ten_minutes, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let mut r = routine(&app, &w.co).await;
    step_mut(&mut r, "notify_guardian")["ack_window"] = json!("PT10M");
    assert_eq!(app.put("/api/v1/counties/01/routine", Some(&w.co), r).await.0, Status::Ok);
    app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    app.drain().await;
    let escalations = |smtp: &crate::smtp::SmtpSink| {
        smtp.messages().into_iter().filter(|m| m.subject().contains("eskalering")).count()
    };
    app.clock().advance(Duration::minutes(9));
    app.drain().await;
    assert_eq!(escalations(&smtp), 0);
    app.clock().advance(Duration::minutes(2));
    app.drain().await;
    // The guardian gets it again, and the child's social worker hears of it.
    assert_eq!(smtp.to("greta@godman.se").len(), 2);
    assert!(smtp.to("sw@x.se").iter().any(|m| m.subject().contains("eskalering")));
});

smtp_test!(a_report_in_the_afternoon_brings_no_instant_reminder_and_no_digest_until_seven, |app, smtp| {
    app.clock().set(utc(2026, 11, 30, 13, 0)); // Monday 14:00 in Stockholm
    let w = World::new(&app).await;
    let mut r = report(&app, w.child, 0);
    r.as_object_mut().map(|o| o.remove("search_actions"));
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!(s, Status::Created, "{c}");
    assert_eq!(step(&c, "search_and_contact")["status"], "pending");
    app.clock().advance(chrono::Duration::seconds(30));
    app.drain().await;
    let reminders =
        |smtp: &crate::smtp::SmtpSink| smtp.messages().iter().filter(|m| m.subject().contains("Påminnelse")).count();
    let digests =
        |smtp: &crate::smtp::SmtpSink| smtp.messages().iter().filter(|m| m.subject().contains("Daglig")).count();
    assert_eq!(reminders(&smtp), 0, "no reminder for the search the reporter is doing");
    assert_eq!(digests(&smtp), 0, "no daily digest in the afternoon");
    // Past the police deadline the owners are reminded of that step, still without a digest.
    app.clock().set(utc(2026, 11, 30, 14, 1));
    app.drain().await;
    assert!(reminders(&smtp) >= 1);
    assert!(smtp
        .messages()
        .iter()
        .filter(|m| m.subject().contains("Påminnelse"))
        .all(|m| !m.text().contains("Sök i lokalerna")));
    assert_eq!(digests(&smtp), 0);
    // At 07:00 the next morning the digest lists what is still pending, the search included.
    app.clock().set(utc(2026, 12, 1, 6, 0));
    app.drain().await;
    assert!(digests(&smtp) >= 1);
    assert!(smtp.messages().iter().any(|m| m.subject().contains("Daglig") && m.text().contains("Sök i lokalerna")));
    assert!(!saknad::store::reminders::is_digest_hour(utc(2026, 12, 1, 7, 0)), "08:00 is past the hour");
});

smtp_test!(reminders_go_to_the_childs_own_social_worker_and_at_night_to_socialjour, |app, smtp| {
    app.clock().set(utc(2026, 11, 30, 20, 0)); // Monday 21:00 in Stockholm
    let w = World::new(&app).await;
    app.user("sw2@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
    app.user("jour@x.se", saknad::domain::role::Role::OnCall, Some("01"), Some("0114,0180"), None);
    app.user("jour.b@x.se", saknad::domain::role::Role::OnCall, Some("01"), Some("0184"), None);
    let mut r = report(&app, w.child, 0);
    r["risk_indicators"] = json!(["trafficking_suspected"]);
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!((s, c["risk_level"].as_str()), (Status::Created, Some("high")), "{c}");
    app.drain().await;
    let reminded = |who: &str| smtp.to(who).into_iter().filter(|m| m.subject().contains("Påminnelse")).count();
    // The high-risk assessment is due within 4 hours: 01:00, at night.
    app.clock().set(utc(2026, 12, 1, 0, 5));
    app.drain().await;
    assert!(reminded("sw@x.se") >= 1, "the child's own social worker");
    assert!(reminded("jour@x.se") >= 1 && reminded("jour@stockholm.se") >= 1, "socialjour at night");
    assert_eq!((reminded("sw2@x.se"), reminded("jour.b@x.se")), (0, 0), "not every social worker, nor another jour");
    // By day the same kind of step reminds the own social worker only.
    let (jour_night, sw_night) = (reminded("jour@x.se"), reminded("sw@x.se"));
    app.clock().set(utc(2026, 12, 3, 9, 0)); // Thursday 10:00: the LVU assessment (P3D, 24 h at high risk) and more
    app.drain().await;
    assert!(reminded("sw@x.se") > sw_night);
    assert_eq!(reminded("jour@x.se"), jour_night, "socialjour is not reminded in office hours");
    assert_eq!(reminded("sw2@x.se"), 0);
});

smtp_test!(a_reassigned_child_brings_its_reminders_to_the_new_social_worker, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let sw2 = app.user("sw2@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
    let other = app.user("sw3@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0184"), None);
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    assert_eq!(s, Status::Created);
    let child = format!("/api/v1/children/{}", w.child);
    // A social worker of another municipality is refused at the field, and nothing changes.
    let (s, v) = app.patch(&child, Some(&w.sw), json!({"social_worker_id": other})).await;
    assert_eq!((s, field(&v, "social_worker_id").is_some()), (Status::UnprocessableEntity, true), "{v}");
    let (s, v) = app.patch(&child, Some(&w.staff), json!({"social_worker_id": sw2})).await;
    assert_eq!(s, Status::Forbidden, "staff may change only the sheet: {v}");
    assert_eq!(app.get(&child, Some(&w.sw)).await.1["social_worker"]["email"], "sw@x.se");
    // From the child page, as the social worker would.
    let (s, _) = app
        .submit(&format!("/children/{}/social-worker", w.child), &w.sw, &[("social_worker_id", &sw2.to_string())])
        .await;
    assert_eq!(s, Status::SeeOther);
    let (_, kid) = app.get(&child, Some(&w.sw)).await;
    assert_eq!(kid["social_worker"]["email"], "sw2@x.se");
    let (_, case) = app.get(&format!("/api/v1/cases/{}", c["id"]), Some(&w.sw)).await;
    let assigned =
        case["timeline"].as_array().and_then(|t| t.iter().find(|e| e["kind"] == "social_worker_assigned").cloned());
    assert!(assigned.is_some(), "a reassignment is an event of the open episode");
    let (_, page) = app.page(&format!("/cases/{}", c["id"]), &w.sw).await;
    assert!(page.contains("ny ansvarig socialsekreterare") && !page.contains("social_worker_assigned"));
    app.drain().await;
    app.clock().set(utc(2026, 12, 1, 9, 5)); // Tuesday 10:05: the risk assessment (24 h) is overdue
    app.drain().await;
    let reminded = |who: &str| smtp.to(who).into_iter().filter(|m| m.subject().contains("Påminnelse")).count();
    assert!(reminded("sw2@x.se") >= 1, "the new social worker is reminded");
    assert_eq!(reminded("sw@x.se"), 0, "the former one is not");
});

smtp_test!(the_morning_digest_hands_over_what_socialjour_did_at_night, |app, smtp| {
    app.clock().set(utc(2026, 11, 30, 21, 0)); // Monday 22:00 in Stockholm
    let w = World::new(&app).await;
    app.user("jour@x.se", saknad::domain::role::Role::OnCall, Some("01"), Some("0180"), None);
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 0)).await;
    assert_eq!(s, Status::Created);
    let id = c["id"].clone();
    app.drain().await;
    // At 01:30 socialjour assesses the risk.
    app.clock().set(utc(2026, 12, 1, 0, 30));
    let jour = app.login("jour@x.se").await;
    let (s, v) = app
        .post(
            &format!("/api/v1/cases/{id}/risk-assessments"),
            Some(&jour),
            json!({"level": "high", "indicators": ["substance_misuse"], "note": "spoke to the police"}),
        )
        .await;
    assert_eq!(s, Status::Created, "{v}");
    app.drain().await;
    let handover = |smtp: &crate::smtp::SmtpSink, who: &str| {
        smtp.to(who).into_iter().filter(|m| m.text().contains("Gjort av socialjouren")).collect::<Vec<_>>()
    };
    assert!(handover(&smtp, "sw@x.se").is_empty(), "not before the morning");
    app.clock().set(utc(2026, 12, 1, 6, 10)); // Tuesday 07:10
    app.drain().await;
    let got = handover(&smtp, "sw@x.se");
    assert_eq!(got.len(), 1, "one hand-over to the child's own social worker");
    let text = got[0].text();
    assert!(
        text.contains("AB-2026-0001") && text.contains("01:30") && text.contains("Riskbedömning registrerad"),
        "{text}"
    );
    assert!(text.contains(&format!("/cases/{id}")));
    insta::assert_snapshot!("handover", format!("{}\n\n{}", got[0].subject(), text));
    for never in ["Amir", "Rahimi", "spoke to the police"] {
        assert!(!text.contains(never), "the hand-over names the episode, not the child: {never}");
    }
    assert!(handover(&smtp, "jour@x.se").is_empty() && handover(&smtp, "sw.b@x.se").is_empty());
    // Once a day.
    app.clock().set(utc(2026, 12, 1, 6, 40));
    app.drain().await;
    assert_eq!(handover(&smtp, "sw@x.se").len(), 1);
});
