use crate::common::*;
use crate::db_test;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rocket::http::Status;
use serde_json::{json, Value};

/// Monday 30 November 2026, 10:00 in Stockholm: office hours.
pub fn monday_10() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).single().unwrap_or_default()
}

fn step<'a>(case: &'a Value, key: &str) -> &'a Value {
    case["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == key)).unwrap_or(&Value::Null)
}

fn keys(case: &Value) -> Vec<String> {
    case["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(|x| x["key"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

async fn setup(app: &TestApp) -> World {
    app.clock().set(monday_10());
    World::new(app).await
}

async fn open_case(app: &TestApp, w: &World) -> Value {
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), report(app, w.child, 10)).await;
    assert_eq!(s, Status::Created, "{c}");
    c
}

db_test!(staff_report_in_one_request_returns_steps_due_times_and_queued_notifications, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let reference = c["reference"].as_str().unwrap_or("");
    assert_eq!(reference, "AB-2026-0001");
    assert_eq!((c["status"].as_str(), c["risk_level"].as_str()), (Some("missing"), Some("low")));
    assert_eq!(c["child_id"].as_i64(), Some(w.child));
    assert_eq!(
        keys(&c),
        [
            "search_and_contact",
            "police_report",
            "notify_social_services",
            "notify_guardian",
            "notify_migrationsverket",
            "risk_assessment",
            "lvu_assessment",
            "review_72h",
            "review_7d",
            "review_3w",
            "migrationsverket_eservice"
        ]
    );
    let discovered = ts(&c["discovered_at"]);
    assert_eq!(ts(&step(&c, "police_report")["due_at"]), discovered + Duration::hours(1));
    assert_eq!(ts(&step(&c, "notify_guardian")["due_at"]), discovered + Duration::hours(24));
    assert_eq!(ts(&step(&c, "lvu_assessment")["due_at"]), discovered + Duration::days(3));
    // Monday + 1 working day = Tuesday, same wall-clock time.
    assert_eq!(ts(&step(&c, "notify_migrationsverket")["due_at"]), discovered + Duration::days(1));
    assert_eq!(step(&c, "migrationsverket_eservice")["due_at"], "2026-12-07T22:59:59Z");
    assert_eq!(step(&c, "search_and_contact")["status"], "done");
    assert_eq!(step(&c, "police_report")["status"], "pending");
    assert_eq!(step(&c, "police_report")["overdue"], false);
    let notes: Vec<(String, String, String)> = c["notifications"]
        .as_array()
        .map(|n| {
            n.iter()
                .map(|x| {
                    (
                        x["recipient_kind"].as_str().unwrap_or("").into(),
                        x["address"].as_str().unwrap_or("").into(),
                        x["status"].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expect = [
        ("police", "polis@polisen.se"),
        ("guardian", "greta@godman.se"),
        ("social_services", "sw@x.se"),
        ("social_services", "soc@stockholm.se"),
        ("migrationsverket", "mottagning@migrationsverket.se"),
    ];
    assert_eq!(notes.len(), expect.len(), "{notes:?}");
    for ((k, a, s), (ek, ea)) in notes.iter().zip(expect) {
        assert_eq!((k.as_str(), a.as_str(), s.as_str()), (ek, ea, "queued"));
    }
    let (s, got) = app.get(&format!("/api/v1/cases/{}", c["id"]), Some(&w.staff)).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(got["reference"], reference);
    assert!(got["timeline"]
        .as_array()
        .is_some_and(|t| t.iter().any(|e| e["kind"] == "reported" && e["actor_role"] == "staff")));
    assert!(got["police_reference"].is_null());
    // Two hours later the police report is overdue.
    app.clock().advance(Duration::hours(2));
    let (_, got) = app.get(&format!("/api/v1/cases/{}", c["id"]), Some(&w.sw)).await;
    assert_eq!(step(&got, "police_report")["overdue"], true);
    assert_eq!(step(&got, "search_and_contact")["overdue"], false);
});

db_test!(outside_office_hours_socialjour_is_told_and_high_risk_adds_the_coordinator, |app| {
    app.clock().set(Utc.with_ymd_and_hms(2026, 11, 29, 1, 0, 0).single().unwrap_or_default()); // Sunday 02:00
    let w = World::new(&app).await;
    let mut r = report(&app, w.child, 5);
    r["risk_indicators"] = json!(["trafficking_suspected", "under_15"]);
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!(s, Status::Created, "{c}");
    assert_eq!(c["risk_level"], "high");
    // Reported under_15 is ignored: the child is 16.
    assert_eq!(c["risk_indicators"], json!(["trafficking_suspected"]));
    let kinds: Vec<&str> = c["notifications"]
        .as_array()
        .map(|n| n.iter().filter_map(|x| x["recipient_kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["police", "guardian", "on_call", "migrationsverket", "trafficking_coordinator"]);
    assert!(keys(&c).contains(&"contact_trafficking_coordinator".to_string()));
    let d = ts(&c["discovered_at"]);
    assert_eq!(ts(&step(&c, "police_report")["due_at"]), d + Duration::minutes(15));
    assert_eq!(ts(&step(&c, "risk_assessment")["due_at"]), d + Duration::hours(4));
    // Sunday + 1 working day = Monday.
    assert_eq!(ts(&step(&c, "notify_migrationsverket")["due_at"]), d + Duration::days(1));
});

db_test!(every_report_validation_rule_names_its_field, |app| {
    let w = setup(&app).await;
    let (s, v) = app.post("/api/v1/cases", Some(&w.staff), json!({})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    for f in ["child_id", "discovered_at", "last_seen_at"] {
        assert_eq!(field(&v, f), Some("required"), "{f}");
    }
    let now = app.clock().now();
    let (s, v) = app
        .post(
            "/api/v1/cases",
            Some(&w.staff),
            json!({"child_id": w.child, "discovered_at": (now + Duration::hours(1)).to_rfc3339(),
                   "last_seen_at": (now + Duration::hours(2)).to_rfc3339(), "risk_indicators": ["aliens"], "clothing": 7,
                   "whereabouts_known": "yes"}),
        )
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(field(&v, "discovered_at"), Some("may not be in the future"));
    assert_eq!(field(&v, "last_seen_at"), Some("may not be after discovered_at"));
    assert_eq!(field(&v, "risk_indicators"), Some("unknown indicator: aliens"));
    assert_eq!(field(&v, "clothing"), Some("must be a string"));
    assert_eq!(field(&v, "whereabouts_known"), Some("must be true or false"));
    let (s, v) = app
        .post(
            "/api/v1/cases",
            Some(&w.staff),
            json!({"child_id": "abc", "discovered_at": "yesterday", "last_seen_at": "2026-13-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(
        field(&v, "child_id").is_some() && field(&v, "discovered_at").is_some() && field(&v, "last_seen_at").is_some()
    );
    let mut r = report(&app, 999_999, 5);
    r["child_id"] = json!(999_999);
    let (s, v) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!((s, field(&v, "child_id")), (Status::UnprocessableEntity, Some("no such child")));
    // Staff of another accommodation cannot report this child; the answer is the same as for no child.
    let (s, v) = app.post("/api/v1/cases", Some(&w.staff_other), report(&app, w.child, 5)).await;
    assert_eq!((s, field(&v, "child_id")), (Status::UnprocessableEntity, Some("no such child")));
    let (_, list) = app.get("/api/v1/cases", Some(&w.sw)).await;
    assert_eq!(list, json!([]), "refused reports wrote nothing");
});

db_test!(a_second_open_episode_is_a_conflict, |app| {
    let w = setup(&app).await;
    open_case(&app, &w).await;
    let (s, v) = app.post("/api/v1/cases", Some(&w.sw), report(&app, w.child, 1)).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "case_already_open"));
});

db_test!(two_concurrent_reports_give_one_episode, |app| {
    let w = setup(&app).await;
    let body = report(&app, w.child, 3).to_string();
    let send = |token: String, body: String| {
        let app = &app;
        async move { app.send(rocket::http::Method::Post, "/api/v1/cases", Some(&token), Some(body), &[]).await }
    };
    let (a, b) = rocket::tokio::join!(send(w.staff.clone(), body.clone()), send(w.sw.clone(), body.clone()));
    let mut statuses = vec![a.0, b.0];
    statuses.sort_by_key(|s| s.code);
    assert_eq!(statuses, [Status::Created, Status::Conflict], "{a:?} {b:?}");
    let conflict = if a.0 == Status::Conflict { &a.1 } else { &b.1 };
    assert_eq!(code(conflict), "case_already_open");
    let (_, list) = app.get("/api/v1/cases", Some(&w.sw)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
});

db_test!(idempotency_key_replays_and_refuses_a_different_body, |app| {
    let w = setup(&app).await;
    let body = report(&app, w.child, 3);
    let post = |b: &Value, key: &str| {
        let (app, b, key, token) = (&app, b.to_string(), key.to_string(), w.staff.clone());
        async move {
            app.send(rocket::http::Method::Post, "/api/v1/cases", Some(&token), Some(b), &[("Idempotency-Key", &key)])
                .await
        }
    };
    let (s1, c1) = post(&body, "k-1").await;
    assert_eq!(s1, Status::Created);
    let (s2, c2) = post(&body, "k-1").await;
    assert_eq!((s2, &c2), (Status::Created, &c1));
    let mut other = body.clone();
    other["clothing"] = json!("green coat");
    let (s3, v3) = post(&other, "k-1").await;
    assert_eq!(s3, Status::UnprocessableEntity);
    assert!(field(&v3, "Idempotency-Key").is_some());
    // Keys belong to a user: the social worker's same key is a new request (and meets the open episode).
    let (s4, v4) = app
        .send(
            rocket::http::Method::Post,
            "/api/v1/cases",
            Some(&w.sw),
            Some(body.to_string()),
            &[("Idempotency-Key", "k-1")],
        )
        .await;
    assert_eq!((s4, code(&v4)), (Status::Conflict, "case_already_open"));
    let (_, list) = app.get("/api/v1/cases", Some(&w.sw)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
});

db_test!(steps_are_completed_and_skipped_by_the_right_role, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let base = format!("/api/v1/cases/{}/steps", c["id"]);
    let (s, v) =
        app.post(&format!("{base}/police_report/complete"), Some(&w.staff), json!({"note": "called 114 14"})).await;
    assert_eq!(
        (s, field(&v, "police_reference")),
        (Status::UnprocessableEntity, Some("required to complete police_report"))
    );
    let (s, st) = app
        .post(&format!("{base}/police_report/complete"), Some(&w.staff), json!({"police_reference": "5000-K123456-26"}))
        .await;
    assert_eq!((s, st["status"].as_str()), (Status::Ok, Some("done")));
    assert!(st["completed_at"].is_string());
    let (s, _) =
        app.post(&format!("{base}/police_report/complete"), Some(&w.sw), json!({"police_reference": "x"})).await;
    assert_eq!(s, Status::Conflict);
    assert_eq!(
        app.post(&format!("{base}/lvu_assessment/complete"), Some(&w.staff), json!({})).await.0,
        Status::Forbidden
    );
    assert_eq!(
        app.post(&format!("{base}/lvu_assessment/complete"), Some(&w.staff_other), json!({})).await.0,
        Status::NotFound
    );
    assert_eq!(app.post(&format!("{base}/lvu_assessment/complete"), Some(&w.co), json!({})).await.0, Status::Forbidden);
    assert_eq!(
        app.post(&format!("{base}/lvu_assessment/complete"), Some(&w.sw), json!({"note": "not needed"})).await.0,
        Status::Ok
    );
    assert_eq!(app.post(&format!("{base}/no_such_step/complete"), Some(&w.sw), json!({})).await.0, Status::NotFound);
    let (s, v) = app.post(&format!("{base}/review_72h/skip"), Some(&w.sw), json!({})).await;
    assert_eq!((s, field(&v, "reason")), (Status::UnprocessableEntity, Some("required")));
    assert_eq!(
        app.post(&format!("{base}/review_72h/skip"), Some(&w.staff), json!({"reason": "x"})).await.0,
        Status::Forbidden
    );
    let (s, st) = app
        .post(&format!("{base}/notify_guardian/skip"), Some(&w.sw), json!({"reason": "guardian informed by phone"}))
        .await;
    assert_eq!(
        (s, st["status"].as_str(), st["note"].as_str()),
        (Status::Ok, Some("skipped"), Some("guardian informed by phone"))
    );
    let (_, got) = app.get(&format!("/api/v1/cases/{}", c["id"]), Some(&w.sw)).await;
    assert_eq!(got["police_reference"], "5000-K123456-26");
    let kinds: Vec<&str> =
        got["timeline"].as_array().map(|t| t.iter().filter_map(|e| e["kind"].as_str()).collect()).unwrap_or_default();
    assert_eq!(kinds.iter().filter(|k| **k == "step_done").count(), 3, "{kinds:?}");
    assert!(kinds.contains(&"step_skipped"));
});

db_test!(risk_assessment_changes_level_deadlines_and_steps, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let id = c["id"].clone();
    let path = format!("/api/v1/cases/{id}/risk-assessments");
    let (s, v) = app.post(&path, Some(&w.sw), json!({"level": "extreme", "indicators": ["nope"]})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(field(&v, "level").is_some() && field(&v, "indicators").is_some() && field(&v, "note").is_some());
    assert_eq!(app.post(&path, Some(&w.staff), json!({"level": "high", "note": "x"})).await.0, Status::Forbidden);
    let (s, a) = app
        .post(&path, Some(&w.sw), json!({"level": "high", "indicators": ["trafficking_suspected", "controlled_by_others"], "note": "older man picked him up"}))
        .await;
    assert_eq!(s, Status::Created, "{a}");
    assert_eq!((a["level"].as_str(), a["suggested_level"].as_str()), (Some("high"), Some("high")));
    let (_, got) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!((got["risk_level"].as_str(), got["risk_assessed"].as_bool()), (Some("high"), Some(true)));
    assert_eq!(step(&got, "risk_assessment")["status"], "done");
    let d = ts(&got["discovered_at"]);
    assert_eq!(ts(&step(&got, "lvu_assessment")["due_at"]), d + Duration::hours(24), "high risk shortens the deadline");
    assert_eq!(ts(&step(&got, "police_report")["due_at"]), d + Duration::minutes(15));
    assert_eq!(step(&got, "contact_trafficking_coordinator")["status"], "pending");
    let timeline = got["timeline"].as_array().cloned().unwrap_or_default();
    assert!(timeline
        .iter()
        .any(|e| e["kind"] == "risk_changed" && e["detail"]["from"] == "low" && e["detail"]["to"] == "high"));
    assert_eq!(got["risk_assessments"].as_array().map(Vec::len), Some(1));
    // Lowering again is recorded too, and the history keeps both.
    let (s, _) = app.post(&path, Some(&w.sw), json!({"level": "medium", "note": "located with family"})).await;
    assert_eq!(s, Status::Created);
    let (_, got) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(got["risk_assessments"].as_array().map(Vec::len), Some(2));
    assert_eq!(ts(&step(&got, "lvu_assessment")["due_at"]), d + Duration::days(3));
});

db_test!(found_then_closed_as_returned_after_the_required_steps, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let id = c["id"].clone();
    app.clock().advance(Duration::hours(5));
    let last_seen = ts(&c["last_seen_at"]);
    let (s, v) = app
        .post(
            &format!("/api/v1/cases/{id}/found"),
            Some(&w.staff),
            json!({"found_at": (last_seen - Duration::minutes(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!((s, field(&v, "found_at")), (Status::UnprocessableEntity, Some("may not be before last_seen_at")));
    let (s, v) = app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "returned"})).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "conflict"), "a missing child cannot be closed as returned");
    let found_at = app.clock().now() - Duration::minutes(30);
    let (s, f) = app
        .post(&format!("/api/v1/cases/{id}/found"), Some(&w.staff), json!({"found_at": found_at.to_rfc3339(), "found_place": "home", "found_by": "staff", "condition": "tired"}))
        .await;
    assert_eq!(s, Status::Ok, "{f}");
    assert_eq!((f["status"].as_str(), f["found_place"].as_str()), (Some("found"), Some("home")));
    for k in [
        "notify_found",
        "police_informed_found",
        "safe_and_well_check",
        "return_conversation",
        "post_return_risk_assessment",
        "update_care_plan",
    ] {
        assert_eq!(step(&f, k)["status"], "pending", "{k}");
    }
    assert_eq!(ts(&step(&f, "return_conversation")["due_at"]), found_at + Duration::hours(72));
    let found_notes: Vec<&str> = f["notifications"]
        .as_array()
        .map(|n| n.iter().filter(|x| x["kind"] == "case_found").filter_map(|x| x["recipient_kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(found_notes.first(), Some(&"police"));
    assert_eq!(found_notes.len(), 5);
    let (s, v) = app.post(&format!("/api/v1/cases/{id}/found"), Some(&w.sw), json!({})).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "conflict"));
    let (s, v) = app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "returned"})).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "required_steps_pending"));
    let pending = v["error"]["fields"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    for k in ["police_informed_found", "return_conversation", "safe_and_well_check"] {
        assert!(pending.contains(&k.to_string()), "{k} in {pending:?}");
    }
    // Found means found: no step of the missing phase is pending, each says why (API.md second edition).
    for s in f["steps"].as_array().into_iter().flatten().filter(|s| s["phase"] == "missing") {
        assert_ne!(s["status"], "pending", "{s}");
        if s["status"] == "skipped" && s["completed_at"].is_string() {
            assert!(s["note"].as_str().is_some_and(|n| !n.is_empty()), "{s}");
        }
    }
    assert_eq!(step(&f, "police_report")["note"], "the child was found");
    assert!(!pending.contains(&"police_report".to_string()) && !pending.contains(&"risk_assessment".to_string()));
    assert!(!pending.contains(&"update_care_plan".to_string()), "optional steps do not block");
    for k in pending {
        let (s, _) = app
            .post(&format!("/api/v1/cases/{id}/steps/{k}/skip"), Some(&w.sw), json!({"reason": "handled elsewhere"}))
            .await;
        assert_eq!(s, Status::Ok, "{k}");
    }
    assert_eq!(
        app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.staff), json!({"reason": "returned"})).await.0,
        Status::Forbidden
    );
    let (s, closed) = app
        .post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "returned", "note": "back home"}))
        .await;
    assert_eq!(s, Status::Ok, "{closed}");
    assert_eq!((closed["status"].as_str(), closed["closure_reason"].as_str()), (Some("closed"), Some("returned")));
    assert_eq!(step(&closed, "update_care_plan")["status"], "skipped");
    assert!(step(&closed, "update_care_plan")["note"].as_str().is_some_and(|n| n.contains("returned")));
    assert_eq!(
        app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "returned"})).await.0,
        Status::Conflict
    );
    assert_eq!(
        app.post(&format!("/api/v1/cases/{id}/steps/review_7d/complete"), Some(&w.sw), json!({})).await.0,
        Status::Conflict
    );
    // A new episode for the same child is allowed now, gets the next reference and counts the previous one.
    let (s, c2) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 1)).await;
    assert_eq!(s, Status::Created, "{c2}");
    assert_eq!(c2["reference"], "AB-2026-0002");
    assert_eq!(c2["risk_level"], "medium", "previous episode within 90 days");
    assert_eq!(c2["risk_indicators"], json!(["previous_episodes", "substance_misuse"]));
    let (_, open) = app.get("/api/v1/cases?status=open", Some(&w.sw)).await;
    assert_eq!(open.as_array().map(Vec::len), Some(1));
    let (_, closed_list) = app.get("/api/v1/cases?status=closed", Some(&w.sw)).await;
    assert_eq!(closed_list.as_array().map(Vec::len), Some(1));
    assert_eq!(app.get("/api/v1/cases?status=lost", Some(&w.sw)).await.0, Status::UnprocessableEntity);
});

db_test!(other_closures_cancel_pending_steps_and_withdrawn_needs_a_note, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let id = c["id"].clone();
    let (s, v) = app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "withdrawn"})).await;
    assert_eq!((s, field(&v, "note")), (Status::UnprocessableEntity, Some("required when the report is withdrawn")));
    let (s, v) = app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "gone"})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(field(&v, "reason").is_some());
    let (s, closed) = app
        .post(
            &format!("/api/v1/cases/{id}/close"),
            Some(&w.sw),
            json!({"reason": "withdrawn", "note": "the child was at school"}),
        )
        .await;
    assert_eq!(s, Status::Ok);
    let pending = closed["steps"].as_array().map(|s| s.iter().filter(|x| x["status"] == "pending").count());
    assert_eq!(pending, Some(0));
    assert!(step(&closed, "police_report")["note"].as_str().is_some_and(|n| n.contains("withdrawn")));
    let closed_notes =
        closed["notifications"].as_array().map(|n| n.iter().filter(|x| x["kind"] == "case_closed").count());
    assert_eq!(closed_notes, Some(5));
});

db_test!(derived_indicators_raise_the_suggestion, |app| {
    let w = setup(&app).await;
    let mut young = child_body(w.acc);
    young["date_of_birth"] = json!("2013-01-01");
    young["assigning_municipality_code"] = json!("0184");
    let (_, kid) = app.post("/api/v1/children", Some(&w.sw), young).await;
    let mut r = report(&app, kid["id"].as_i64().unwrap_or(0), 5);
    r["risk_indicators"] = json!([]);
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!(s, Status::Created);
    assert_eq!((c["risk_level"].as_str(), c["risk_indicators"].clone()), (Some("medium"), json!(["under_15"])));
    assert!(keys(&c).contains(&"notify_assigning_municipality".to_string()));
    // Turning 18 within 30 days is derived too.
    let mut old = child_body(w.acc);
    old["date_of_birth"] = json!("2008-12-15");
    let (_, kid) = app.post("/api/v1/children", Some(&w.sw), old).await;
    let (_, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, kid["id"].as_i64().unwrap_or(0), 5)).await;
    assert_eq!(c["risk_indicators"], json!(["turning_18_soon", "substance_misuse"]));
});

db_test!(county_officers_see_pseudonymised_episodes_of_their_county_only, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let id = c["id"].clone();
    let (s, got) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.co)).await;
    assert_eq!(s, Status::Ok);
    assert_eq!((got["reference"].as_str(), got["municipality_code"].as_str()), (Some("AB-2026-0001"), Some("0180")));
    assert!(got["steps"].as_array().is_some_and(|s| !s.is_empty()));
    let (s, list) = app.get("/api/v1/cases", Some(&w.co)).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (Status::Ok, Some(1)));
    for body in [got.to_string(), list.to_string()] {
        for secret in [
            "Amir",
            "Rahimi",
            "Ami\"",
            "2010-03-14",
            "red jacket",
            "Centralstationen",
            "resident",
            "Solna",
            "greta",
            "polis@",
            "searched",
            "child_id",
            "timeline",
        ] {
            assert!(!body.contains(secret), "county officer sees {secret}: {body}");
        }
    }
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), Some(&w.co_other)).await.0, Status::NotFound);
    let (_, other_list) = app.get("/api/v1/cases", Some(&w.co_other)).await;
    assert_eq!(other_list, json!([]));
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), Some(&w.admin)).await.0, Status::Forbidden);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), Some(&w.analyst)).await.0, Status::Forbidden);
    assert_eq!(app.get("/api/v1/children", Some(&w.co)).await.0, Status::Forbidden);
});

db_test!(every_read_and_change_is_in_the_access_log, |app| {
    use diesel::prelude::*;
    use saknad::db::schema::access_log;
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    app.get(&format!("/api/v1/cases/{}", c["id"]), Some(&w.sw)).await;
    app.get("/api/v1/cases", Some(&w.co)).await;
    let rows: Vec<(String, Option<String>, Option<String>)> = access_log::table
        .order(access_log::seq)
        .select((access_log::action, access_log::object_id, access_log::county_code))
        .load(&mut *app.conn())
        .unwrap_or_default();
    let id = c["id"].to_string();
    assert!(rows
        .iter()
        .any(|r| r.0 == "case_created" && r.1.as_deref() == Some(id.as_str()) && r.2.as_deref() == Some("01")));
    assert!(rows.iter().any(|r| r.0 == "case_read" && r.1.as_deref() == Some(id.as_str())));
    assert!(rows.iter().any(|r| r.0 == "case_list"));
    let (_, v) = app.get("/api/v1/audit/verify", Some(&w.admin)).await;
    assert_eq!(v["ok"], true);
});

db_test!(the_host_municipality_may_read_and_record_found_and_nothing_else, |app| {
    let w = World::new(&app).await;
    // A child of Stockholm (0180) placed at HVB B in Solna (0184): Solna's social worker is the host.
    let mut b = child_body(w.acc_other);
    b["given_name"] = serde_json::json!("Samir");
    let (s, child) = app.post("/api/v1/children", Some(&w.sw), b).await;
    assert_eq!(s, Status::Created, "{child}");
    let child = child["id"].as_i64().unwrap_or(0);
    let (s, case) = app.post("/api/v1/cases", Some(&w.staff_other), report(&app, child, 10)).await;
    assert_eq!(s, Status::Created, "{case}");
    let id = case["id"].as_i64().unwrap_or(0);
    let host = &w.sw_other;
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), Some(host)).await.0, Status::Ok);
    assert_eq!(app.get(&format!("/api/v1/children/{child}"), Some(host)).await.0, Status::NotFound);
    let refused = [
        (format!("/api/v1/cases/{id}/risk-assessments"), serde_json::json!({"level": "none", "note": "seems fine"})),
        (format!("/api/v1/cases/{id}/steps/lvu_assessment/skip"), serde_json::json!({"reason": "not needed"})),
        (format!("/api/v1/cases/{id}/steps/risk_assessment/complete"), serde_json::json!({"note": "done"})),
        (format!("/api/v1/cases/{id}/steps/search_and_contact/complete"), serde_json::json!({"note": "done"})),
        (format!("/api/v1/cases/{id}/extend"), serde_json::json!({"reason": "still missing"})),
        (format!("/api/v1/cases/{id}/additions"), serde_json::json!({"field": "other", "text": "seen in Solna"})),
    ];
    for (path, body) in &refused {
        let (s, v) = app.post(path, Some(host), body.clone()).await;
        assert_eq!((s, code(&v)), (Status::Forbidden, "forbidden"), "POST {path}");
    }
    let (_, before) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(before["risk_level"], case["risk_level"], "no assessment was recorded");
    let pending = |c: &serde_json::Value, key: &str| {
        c["steps"].as_array().into_iter().flatten().any(|s| s["key"] == key && s["status"] == "pending")
    };
    assert!(pending(&before, "lvu_assessment") && pending(&before, "risk_assessment"));
    // Found is theirs to record; closing is not.
    let (s, v) =
        app.post(&format!("/api/v1/cases/{id}/found"), Some(host), serde_json::json!({"found_place": "Solna C"})).await;
    assert_eq!((s, v["status"].as_str()), (Status::Ok, Some("found")), "{v}");
    let (s, _) = app
        .post(&format!("/api/v1/cases/{id}/close"), Some(host), serde_json::json!({"reason": "withdrawn", "note": "x"}))
        .await;
    assert_eq!(s, Status::Forbidden);
    let (_, after) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(after["status"], "found");
    // The responsible social worker may do what the host may not.
    let (s, _) = app
        .post(
            &format!("/api/v1/cases/{id}/risk-assessments"),
            Some(&w.sw),
            serde_json::json!({"level": "low", "note": "back"}),
        )
        .await;
    assert_eq!(s, Status::Created);
});

db_test!(what_is_learnt_later_is_added_to_the_report_and_a_second_report_is_added_not_dropped, |app| {
    let w = World::new(&app).await;
    let (s, case) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created, "{case}");
    let id = case["id"].as_i64().unwrap_or(0);
    let path = format!("/api/v1/cases/{id}/additions");
    // Refused by field, nothing stored.
    for (body, f) in [
        (json!({"field": "shoes", "text": "white trainers"}), "field"),
        (json!({"field": "clothing", "text": "  "}), "text"),
        (json!({"text": "white trainers"}), "field"),
    ] {
        let (s, v) = app.post(&path, Some(&w.staff), body.clone()).await;
        assert_eq!(s, Status::UnprocessableEntity, "{body}: {v}");
        assert!(field(&v, f).is_some(), "{body}: {v}");
    }
    let (_, c) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(c["additions"], json!([]), "nothing stored by a refusal");
    let (s, c) = app.post(&path, Some(&w.staff), json!({"field": "clothing", "text": "white trainers"})).await;
    assert_eq!(s, Status::Created, "{c}");
    assert_eq!(c["additions"][0]["field"], "clothing");
    assert_eq!(c["additions"][0]["text"], "white trainers");
    assert!(c["additions"][0]["by"].as_str().is_some_and(|b| !b.is_empty()), "who added it: {c}");
    assert_eq!(c["clothing"], "red jacket, blue jeans", "the report itself is not rewritten");
    let (s, _) =
        app.post(&path, Some(&w.sw), json!({"field": "possible_whereabouts", "text": "an uncle in Malmö"})).await;
    assert_eq!(s, Status::Created);
    // The county officer sees neither the text nor that there is any.
    let (_, pseudo) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.co)).await;
    assert!(pseudo.get("additions").is_none() && !pseudo.to_string().contains("trainers"), "{pseudo}");
    // Every addition is in the access log as a change.
    let (_, log) = app
        .get(&format!("/api/v1/counties/01/access-log?case={}", case["reference"].as_str().unwrap_or("")), Some(&w.co))
        .await;
    assert_eq!(log.as_array().map(|l| l.iter().filter(|e| e["action"] == "report_added").count()), Some(2));
    // A second staff member reports the same child from the form: what they wrote is added, not dropped.
    app.user("staff2@x.se", saknad::domain::role::Role::Staff, Some("01"), Some("0180"), Some(w.acc));
    let staff2 = app.login("staff2@x.se").await;
    let (s, to, html) = app
        .submit_page(
            &format!("/children/{}/report", w.child),
            &staff2,
            &[
                ("discovered_at", "2026-11-30T09:00"),
                ("last_seen_at", "2026-11-30T08:00"),
                ("last_seen_place", "Slussen"),
                ("clothing", "grey hoodie"),
                ("circumstances", "left with two older men in a car"),
            ],
        )
        .await;
    assert!(s.code < 400, "{s}: {html}");
    assert_eq!(to.as_deref(), Some(format!("/cases/{id}").as_str()));
    let (_, page) = app.page(&format!("/cases/{id}"), &staff2).await;
    for said in [
        "Tillägg till anmälan",
        "grey hoodie",
        "left with two older men in a car",
        "Slussen",
        "white trainers",
        "an uncle in Malmö",
    ] {
        assert!(page.contains(said), "the case page shows {said:?}: {page}");
    }
    let (_, c) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(c["additions"].as_array().map(Vec::len), Some(5), "{c}");
    // Nothing more once the episode is closed.
    let (s, _) = app
        .post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "withdrawn", "note": "duplicate"}))
        .await;
    assert_eq!(s, Status::Ok);
    let (s, v) = app.post(&path, Some(&w.staff), json!({"field": "other", "text": "late news"})).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "conflict"));
});

db_test!(a_refused_step_on_the_case_page_shows_its_error_at_the_field_and_keeps_what_was_typed, |app| {
    let w = World::new(&app).await;
    let (s, case) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created, "{case}");
    let id = case["id"].as_i64().unwrap_or(0);
    let (s, _, html) = app
        .submit_page(
            &format!("/cases/{id}/steps/police_report/complete"),
            &w.staff,
            &[("police_reference", ""), ("note", "ringde 114 14 kl 02.10")],
        )
        .await;
    assert_eq!(s, Status::UnprocessableEntity, "{html}");
    assert!(html.contains("<title>Fel:"), "Fel: in the title");
    assert!(html.contains("id=\"done-police_report-police_reference-error\""), "the error at the reference: {html}");
    assert!(html.contains("href=\"#done-police_report-police_reference\""), "the summary links to it");
    assert!(html.contains("value=\"ringde 114 14 kl 02.10\""), "the note typed is kept");
    assert!(html.contains("<details class=\"task-action\" open>"), "the step's action stays open");
    let (_, c) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(step(&c, "police_report")["status"], "pending", "nothing stored");
    let (s, _, html) =
        app.submit_page(&format!("/cases/{id}/close"), &w.sw, &[("reason", "withdrawn"), ("close_note", "")]).await;
    assert_eq!(s, Status::UnprocessableEntity, "{html}");
    assert!(html.contains("id=\"close-close_note-error\""), "the closing note's error at its field: {html}");
});

db_test!(only_trafficking_indicators_bring_in_the_coordinator_and_push_factors_raise_the_level, |app| {
    let w = World::new(&app).await;
    let kinds = |c: &Value| -> Vec<String> {
        c["notifications"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["recipient_kind"].as_str().map(String::from))
            .collect()
    };
    let has_step = |c: &Value, k: &str| c["steps"].as_array().into_iter().flatten().any(|s| s["key"] == k);
    let child = |n: &str| {
        let mut b = child_body(w.acc);
        b["given_name"] = json!(n);
        b
    };
    let report_with = |indicators: Value, name: &'static str| {
        let app = &app;
        let w = &w;
        let body = child(name);
        async move {
            let (s, c) = app.post("/api/v1/children", Some(&w.sw), body).await;
            assert_eq!(s, Status::Created, "{c}");
            let mut r = report(app, c["id"].as_i64().unwrap_or(0), 10);
            r["risk_indicators"] = indicators;
            let (s, case) = app.post("/api/v1/cases", Some(&w.staff), r).await;
            assert_eq!(s, Status::Created, "{case}");
            case
        }
    };
    // High risk for health reasons alone: the coordinator is not told.
    let health = report_with(json!(["health_or_medication"]), "Hamid").await;
    assert_eq!(health["risk_level"], "high");
    assert!(!kinds(&health).contains(&"trafficking_coordinator".to_string()), "{:?}", kinds(&health));
    assert!(!has_step(&health, "contact_trafficking_coordinator"));
    // Any trafficking-related indicator alone: told, and the step added.
    for (i, indicator) in
        ["controlled_by_others", "unexplained_money_or_goods", "unknown_adult_contacts"].iter().enumerate()
    {
        let name = ["Karim", "Jamal", "Nasir"][i];
        let c = report_with(json!([indicator]), name).await;
        assert!(kinds(&c).contains(&"trafficking_coordinator".to_string()), "{indicator}: {:?}", kinds(&c));
        assert!(has_step(&c, "contact_trafficking_coordinator"), "{indicator}");
    }
    // A recently rejected asylum application raises the suggestion to medium.
    let asylum = report_with(json!(["asylum_rejected_recently"]), "Reza").await;
    assert_eq!(asylum["risk_level"], "medium");
    // A trafficking sign seen at the assessment brings the coordinator in then, once.
    let id = health["id"].as_i64().unwrap_or(0);
    let assess = json!({"level": "high", "indicators": ["health_or_medication", "unknown_adult_contacts"], "note": "older men seen"});
    let (s, v) = app.post(&format!("/api/v1/cases/{id}/risk-assessments"), Some(&w.sw), assess.clone()).await;
    assert_eq!(s, Status::Created, "{v}");
    let (s, _) = app.post(&format!("/api/v1/cases/{id}/risk-assessments"), Some(&w.sw), assess).await;
    assert_eq!(s, Status::Created);
    let (_, after) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.sw)).await;
    assert_eq!(kinds(&after).iter().filter(|k| *k == "trafficking_coordinator").count(), 1, "{:?}", kinds(&after));
    assert!(has_step(&after, "contact_trafficking_coordinator"));
});

db_test!(the_return_conversation_is_a_record_replaced_by_a_later_one_and_pseudonymised_for_the_county, |app| {
    let w = World::new(&app).await;
    let (s, case) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 60)).await;
    assert_eq!(s, Status::Created, "{case}");
    let id = case["id"].as_i64().unwrap_or(0);
    let path = format!("/api/v1/cases/{id}/return-conversation");
    let (s, v) = app.post(&path, Some(&w.sw), json!({"outcome": "declined"})).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "conflict"), "not while the child is missing");
    let (s, _) =
        app.post(&format!("/api/v1/cases/{id}/found"), Some(&w.staff), json!({"found_place": "Slussen"})).await;
    assert_eq!(s, Status::Ok);
    let now = app.clock().now();
    for (body, f) in [
        (json!({"outcome": "held"}), "held_at"),
        (json!({"outcome": "talked"}), "outcome"),
        (json!({"outcome": "held", "held_at": now.to_rfc3339(), "reasons": ["boredom"]}), "reasons"),
        (json!({"outcome": "held", "held_at": now.to_rfc3339(), "conducted_by": "police"}), "conducted_by"),
        (json!({"outcome": "held", "held_at": (now + Duration::hours(2)).to_rfc3339()}), "held_at"),
        (json!({"outcome": "declined", "exploitation_indicators": ["sad"]}), "exploitation_indicators"),
    ] {
        let (s, v) = app.post(&path, Some(&w.sw), body.clone()).await;
        assert_eq!(s, Status::UnprocessableEntity, "{body}: {v}");
        assert!(field(&v, f).is_some(), "{body}: {v}");
    }
    assert_eq!(app.post(&path, Some(&w.staff), json!({"outcome": "declined"})).await.0, Status::Forbidden);
    let held = json!({"outcome": "held", "held_at": now.to_rfc3339(), "conducted_by": "independent", "interpreter_used": true,
        "reasons": ["fear_of_deportation", "friends_or_family"], "exploitation_indicators": ["unknown_adult_contacts"],
        "stayed_with": "two older men in Rinkeby", "actions": "safety plan, new contact person"});
    let (s, c) = app.post(&path, Some(&w.sw), held).await;
    assert_eq!(s, Status::Created, "{c}");
    let rc = &c["return_conversation"];
    assert_eq!(
        (rc["outcome"].as_str(), rc["conducted_by"].as_str(), rc["interpreter_used"].as_bool()),
        (Some("held"), Some("independent"), Some(true))
    );
    assert_eq!(rc["reasons"], json!(["fear_of_deportation", "friends_or_family"]));
    assert_eq!(rc["stayed_with"], "two older men in Rinkeby");
    assert_eq!(step(&c, "return_conversation")["status"], "done", "it completes the step");
    // The county officer: outcome, who, interpreter, reasons and dates; never where, with whom or actions.
    let (_, pseudo) = app.get(&format!("/api/v1/cases/{id}"), Some(&w.co)).await;
    let prc = &pseudo["return_conversation"];
    assert_eq!(prc["outcome"], "held");
    assert!(prc["held_at"].is_string() && prc["reasons"].is_array());
    for hidden in ["stayed_with", "actions", "exploitation_indicators"] {
        assert!(prc.get(hidden).is_none(), "{hidden}: {prc}");
    }
    assert!(!pseudo.to_string().contains("Rinkeby"));
    // From the day the child was reported missing: a test run around local midnight has the report on the
    // day before (CI at 00:05 once counted nothing).
    let from = saknad::domain::calendar::local_date(now - Duration::hours(4)).format("%Y-%m-%d").to_string();
    let today = crate::cases::local_today(&app);
    let stats_path = format!("/api/v1/counties/01/stats?from={from}&to={today}");
    let (_, stats) = app.get(&stats_path, Some(&w.co)).await;
    assert_eq!(stats["return_conversations_held_within_72h"], 1, "held at once after the child was found");
    // A later record replaces it; the timeline keeps both.
    let (s, c) = app.post(&path, Some(&w.sw), json!({"outcome": "declined"})).await;
    assert_eq!(s, Status::Created);
    assert_eq!(c["return_conversation"]["outcome"], "declined");
    assert!(c["return_conversation"]["stayed_with"].is_null());
    let talks = c["timeline"].as_array().map(|t| t.iter().filter(|e| e["kind"] == "return_conversation").count());
    assert_eq!(talks, Some(2));
    // In the statistics, suppressed as a small cell; a declined conversation was not held.
    let (s, stats) = app.get(&stats_path, Some(&w.co)).await;
    assert_eq!(stats["return_conversations_held_within_72h"], 0);
    assert_eq!(s, Status::Ok, "{stats}");
    let cells = stats["return_conversation_outcomes"].as_array().cloned().unwrap_or_default();
    let keys: Vec<&str> = cells.iter().filter_map(|c| c["key"].as_str()).collect();
    assert_eq!(keys, ["held", "declined", "not_reached"]);
    let declined = cells.iter().find(|c| c["key"] == "declined").cloned().unwrap_or_default();
    assert_eq!((declined["episodes"].is_null(), declined["suppressed"].as_bool()), (true, Some(true)), "{declined}");
    assert_eq!(declined["label"], "barnet avböjde");
    // Closed more than 30 days ago: too late.
    let (s, _) =
        app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "withdrawn", "note": "x"})).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(
        app.post(&path, Some(&w.sw), json!({"outcome": "not_reached"})).await.0,
        Status::Created,
        "within 30 days"
    );
    app.clock().set(app.clock().now() + Duration::days(31));
    let sw = app.login("sw@x.se").await;
    let (s, v) = app.post(&path, Some(&sw), json!({"outcome": "not_reached"})).await;
    assert_eq!((s, code(&v)), (Status::Conflict, "conflict"));
});

pub fn local_today(app: &TestApp) -> String {
    saknad::domain::calendar::local_date(app.clock().now()).format("%Y-%m-%d").to_string()
}

db_test!(the_return_conversation_is_recorded_from_the_case_page, |app| {
    let w = World::new(&app).await;
    let (_, case) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 60)).await;
    let id = case["id"].as_i64().unwrap_or(0);
    app.post(&format!("/api/v1/cases/{id}/found"), Some(&w.staff), json!({})).await;
    let (s, html) = app.page(&format!("/cases/{id}"), &w.sw).await;
    assert_eq!(s, Status::Ok);
    assert!(
        html.contains("action=\"/cases/{id}/return-conversation".replace("{id}", &id.to_string()).as_str()),
        "{html}"
    );
    let path = format!("/cases/{id}/return-conversation");
    let held_at = saknad::domain::calendar::to_local(app.clock().now()).format("%Y-%m-%dT%H:%M").to_string();
    let (s, _, html) = app.submit_page(&path, &w.sw, &[("outcome", "held"), ("stayed_with", "hos en kompis")]).await;
    assert_eq!(s, Status::UnprocessableEntity, "{html}");
    assert!(html.contains("id=\"talk-held_at-error\""), "the error at the time it was held: {html}");
    assert!(html.contains("hos en kompis"), "what was typed is kept");
    let (s, _, html) = app
        .submit_page(
            &path,
            &w.sw,
            &[
                ("outcome", "held"),
                ("held_at", &held_at),
                ("conducted_by", "social_worker"),
                ("reasons[]", "turning_18"),
                ("interpreter_used", "true"),
            ],
        )
        .await;
    assert!(s.code < 400, "{s}: {html}");
    let (_, html) = app.page(&format!("/cases/{id}"), &w.sw).await;
    assert!(
        html.contains("id=\"return-conversation\"") && html.contains("att fylla 18") && html.contains("hölls"),
        "{html}"
    );
    let (_, pseudo) = app.page(&format!("/cases/{id}"), &w.co).await;
    assert!(!pseudo.contains("return-conversation?csrf"), "the county officer has no form");
});

db_test!(socialjour_acts_on_the_open_episodes_of_its_municipalities_and_may_not_close, |app| {
    let w = World::new(&app).await;
    // Created through the API as API.md says, serving one municipality or several.
    let user = |codes: Value| json!({"email": "jour@x.se", "name": "Jonna Jour", "role": "on_call", "municipality_codes": codes});
    let (s, v) = app.post("/api/v1/users", Some(&w.admin), user(json!([]))).await;
    assert_eq!(s, Status::UnprocessableEntity, "{v}");
    assert!(field(&v, "municipality_codes").is_some(), "{v}");
    let (s, v) = app.post("/api/v1/users", Some(&w.admin), user(json!(["9999"]))).await;
    assert!(s == Status::UnprocessableEntity && field(&v, "municipality_codes").is_some(), "{v}");
    let (s, v) = app.post("/api/v1/users", Some(&w.admin), user(json!(["0184", "0114"]))).await;
    assert_eq!(s, Status::Created, "{v}");
    assert_eq!(v["role"], "on_call");
    assert_eq!(v["municipality_codes"], json!(["0184", "0114"]));
    app.user("natt@x.se", saknad::domain::role::Role::OnCall, Some("01"), Some("0184,0114"), None);
    let jour = app.login("natt@x.se").await;
    // A child Solna is responsible for, and one of Stockholm's.
    let mut b = child_body(w.acc_other);
    b["given_name"] = json!("Samir");
    b["assigning_municipality_code"] = json!("0184");
    let (s, solna_child) = app.post("/api/v1/children", Some(&w.sw_other), b).await;
    assert_eq!(s, Status::Created, "{solna_child}");
    let (s, solna) = app
        .post("/api/v1/cases", Some(&w.staff_other), report(&app, solna_child["id"].as_i64().unwrap_or(0), 10))
        .await;
    assert_eq!(s, Status::Created, "{solna}");
    let (s, stockholm) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created);
    let (id, other) = (solna["id"].as_i64().unwrap_or(0), stockholm["id"].as_i64().unwrap_or(0));
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), Some(&jour)).await.0, Status::Ok);
    assert_eq!(
        app.get(&format!("/api/v1/cases/{other}"), Some(&jour)).await.0,
        Status::NotFound,
        "outside its municipalities"
    );
    let (_, list) = app.get("/api/v1/cases", Some(&jour)).await;
    assert_eq!(list.as_array().map(|l| l.iter().filter_map(|c| c["id"].as_i64()).collect::<Vec<_>>()), Some(vec![id]));
    assert_eq!(app.get(&format!("/api/v1/children/{}", solna_child["id"]), Some(&jour)).await.0, Status::Forbidden);
    assert_eq!(app.post("/api/v1/children", Some(&jour), child_body(w.acc_other)).await.0, Status::Forbidden);
    let (s, wl) = app.get("/api/v1/worklist", Some(&jour)).await;
    assert_eq!(s, Status::Ok);
    assert!(wl.as_array().is_some_and(|l| l.iter().any(|i| i["case_id"] == id)), "{wl}");
    // The social worker's work on the open episode …
    for (path, body) in [
        (format!("/api/v1/cases/{id}/steps/lvu_assessment/complete"), json!({"note": "inget LVU-behov i natt"})),
        (format!("/api/v1/cases/{id}/steps/review_72h/skip"), json!({"reason": "tas av handläggaren"})),
        (format!("/api/v1/cases/{id}/risk-assessments"), json!({"level": "high", "indicators": [], "note": "natt"})),
        (format!("/api/v1/cases/{id}/found"), json!({"found_place": "Solna C"})),
        (format!("/api/v1/cases/{id}/return-conversation"), json!({"outcome": "not_reached"})),
    ] {
        let (s, v) = app.post(&path, Some(&jour), body).await;
        assert!(s.code < 300, "POST {path}: {s} {v}");
    }
    // … but not closing it, and nothing outside its municipalities.
    let (s, _) =
        app.post(&format!("/api/v1/cases/{id}/close"), Some(&jour), json!({"reason": "withdrawn", "note": "x"})).await;
    assert_eq!(s, Status::Forbidden);
    let (s, _) = app.post(&format!("/api/v1/cases/{other}/found"), Some(&jour), json!({})).await;
    assert_eq!(s, Status::NotFound);
    // Its pages: the case list and the case, with the actions it may take.
    let (s, html) = app.page(&format!("/cases/{id}"), &jour).await;
    assert_eq!(s, Status::Ok, "{html}");
    assert!(!html.contains("id=\"close-button\""), "no closing for socialjour");
    assert_eq!(app.page("/worklist", &jour).await.0, Status::Ok);
});

db_test!(the_third_disappearance_within_thirty_days_adds_a_strategy_meeting, |app| {
    let w = setup(&app).await;
    let mut seen = Vec::new();
    for round in 0..4 {
        // Logging in again each round: the clock moves past the tokens' lifetime.
        let (staff, sw) = (app.login("staff@x.se").await, app.login("sw@x.se").await);
        let (s, c) = app.post("/api/v1/cases", Some(&staff), report(&app, w.child, 10)).await;
        assert_eq!(s, Status::Created, "{c}");
        let meeting = step(&c, "strategy_meeting").clone();
        seen.push(meeting["status"].as_str().map(String::from));
        if round == 2 {
            // Social worker, five working days from the discovery on Sunday 20 December 09:50 (Christmas Eve
            // to Boxing Day are not working days).
            assert_eq!(
                (
                    meeting["responsible"].as_str(),
                    meeting["due_at"].as_str().map(|t| &t[..16]),
                    meeting["phase"].as_str()
                ),
                (Some("social_worker"), Some("2026-12-29T08:50"), Some("missing"))
            );
        }
        let id = c["id"].clone();
        let (s, _) = app
            .post(&format!("/api/v1/cases/{id}/close"), Some(&sw), json!({"reason": "withdrawn", "note": "x"}))
            .await;
        assert_eq!(s, Status::Ok);
        // 10, then 25 days apart: the third is within 30 days of the first, the fourth is not of the second.
        app.clock().advance(Duration::days(if round == 2 { 25 } else { 10 }));
    }
    let pending = Some("pending".to_string());
    assert_eq!(seen, vec![None, None, pending, None]);
});

db_test!(each_step_shows_its_owner_the_routines_guidance_in_their_language, |app| {
    let w = setup(&app).await;
    let c = open_case(&app, &w).await;
    let id = c["id"].clone();
    let (s, staff) = app.page(&format!("/cases/{id}"), &w.staff).await;
    assert_eq!(s, Status::Ok);
    assert!(
        staff.contains("<p class=\"guidance\">Ring 114 14 (112 vid akut fara). Anteckna polisens diarienummer.</p>")
    );
    // Staff do not act on the social worker's steps, so they are not shown how.
    assert!(!staff.contains("Bedöm risknivån med indikatorlistan"));
    let (_, sw) = app.page(&format!("/cases/{id}"), &w.sw).await;
    assert!(sw.contains("<p class=\"guidance\">Bedöm risknivån med indikatorlistan och motivera bedömningen.</p>"));
    app.user("sw.en@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
    {
        use diesel::prelude::*;
        use saknad::db::schema::users;
        let n = diesel::update(users::table.filter(users::email.eq("sw.en@x.se")))
            .set(users::language.eq("en"))
            .execute(&mut *app.conn());
        assert_eq!(n.ok(), Some(1));
    }
    let en = app.login("sw.en@x.se").await;
    let (_, page) = app.page(&format!("/cases/{id}"), &en).await;
    assert!(page.contains("<p class=\"guidance\">Assess the risk level with the indicator list and give reasons.</p>"));
});
