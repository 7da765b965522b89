use crate::cases::monday_10;
use crate::common::*;
use crate::smtp::{ACCEPT, DOWN, REJECT};
use crate::smtp_test;
use chrono::Duration;
use diesel::prelude::*;
use rocket::http::{ContentType, Status};
use saknad::db::schema::notifications;
use serde_json::{json, Value};

async fn reported(app: &TestApp) -> (World, Value) {
    app.clock().set(monday_10());
    let w = World::new(app).await;
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), report(app, w.child, 10)).await;
    assert_eq!(s, Status::Created, "{c}");
    (w, c)
}

fn ack_link(text: &str) -> Option<String> {
    let links: Vec<&str> = text.lines().filter(|l| l.contains("/ack/")).collect();
    assert!(links.len() <= 1, "more than one link line: {links:?}");
    links.first().map(|l| {
        assert!(l.trim() == *l && l.starts_with("http://saknad.test/ack/"), "the link stands on its own line: {l:?}");
        l.to_string()
    })
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap_or("").to_string()
}

/// The episode as the social worker sees it (logging in again: tests move the clock past token expiry).
async fn case(app: &TestApp, _w: &World, id: &Value) -> Value {
    let token = app.login("sw@x.se").await;
    app.get(&format!("/api/v1/cases/{id}"), Some(&token)).await.1
}

fn note<'a>(c: &'a Value, kind: &str) -> &'a Value {
    c["notifications"].as_array().and_then(|n| n.iter().find(|x| x["recipient_kind"] == kind)).unwrap_or(&Value::Null)
}

fn normalise(s: &str) -> String {
    let mut out = Vec::new();
    for line in s.lines() {
        let l = if line.contains("/ack/") { "http://saknad.test/ack/[TOKEN]".to_string() } else { line.to_string() };
        out.push(l);
    }
    out.join("\n")
}

smtp_test!(a_report_reaches_every_party_with_a_minimised_message, |app, smtp| {
    let (w, c) = reported(&app).await;
    app.put_photo(&w.sw, w.child).await;
    assert_eq!(app.drain().await, 5);
    let police = smtp.to("polis@polisen.se");
    assert_eq!(police.len(), 1);
    let p = &police[0];
    let text = p.text();
    assert!(p.subject().contains("AB-2026-0001"), "{}", p.subject());
    assert!(!p.subject().contains("Amir"), "no name in the subject line");
    for must in [
        "Amir Rahimi",
        "Ami",
        "2010-03-14",
        "12-345678",
        "Afghanistan",
        "dari, svenska",
        "165 cm",
        "red jacket, blue jeans",
        "phone, 200 kr",
        "070-111 22 33",
        "Centralstationen",
        "a resident",
        "did not come back from school",
        "searched the house",
        "a friend in Solna",
        "asthma inhaler",
        "HVB A",
        "08-123 456",
        "sw@x.se",
        "låg",
    ] {
        assert!(text.contains(must), "police text lacks {must:?}:\n{text}");
    }
    assert!(ack_link(&text).is_some());
    assert!(p.html().contains("Amir Rahimi") && p.html().contains("/ack/"), "{}", p.html());
    assert_eq!(p.attachments(), 1, "the photo is attached for the police");
    insta::assert_snapshot!("police_case_reported", normalise(&text));
    // Migrationsverket: identity, dossier number and dates only.
    let mv = smtp.to("mottagning@migrationsverket.se");
    assert_eq!(mv.len(), 1);
    let mtext = mv[0].text();
    assert!(mtext.contains("Amir Rahimi") && mtext.contains("12-345678") && mtext.contains("2010-03-14"));
    for never in ["red jacket", "Centralstationen", "Solna", "asthma", "070-111", "165 cm", "HVB A", "/ack/"] {
        assert!(!mtext.contains(never) && !mv[0].html().contains(never), "Migrationsverket must not get {never:?}");
    }
    assert_eq!(mv[0].attachments(), 0);
    insta::assert_snapshot!("migrationsverket_case_reported", normalise(&mtext));
    // Both social-services addresses get the full report; the guardian a notice (SPEC §7): each has a link.
    let links: Vec<String> = ["greta@godman.se", "sw@x.se", "soc@stockholm.se"]
        .iter()
        .map(|a| {
            let m = smtp.to(a);
            assert_eq!(m.len(), 1, "{a}");
            let full = *a != "greta@godman.se";
            assert_eq!(m[0].text().contains("red jacket"), full, "{a}");
            assert_eq!(m[0].text().contains("Amir"), full, "{a}");
            ack_link(&m[0].text()).unwrap_or_default()
        })
        .collect();
    assert!(links.iter().all(|l| !l.is_empty()));
    let mut unique = links.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "every recipient has a personal link");
    // Message-IDs are the stored ones and distinct.
    let stored: Vec<String> =
        notifications::table.select(notifications::message_id).load(&mut *app.conn()).unwrap_or_default();
    for m in smtp.messages() {
        assert!(stored.contains(&m.header("Message-ID")), "{}", m.header("Message-ID"));
    }
    let after = case(&app, &w, &c["id"]).await;
    assert!(after["notifications"]
        .as_array()
        .is_some_and(|n| n.iter().all(|x| x["status"] == "sent" && x["sent_at"].is_string())));
    let step =
        |k: &str| after["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == k).cloned()).unwrap_or_default();
    assert_eq!(step("notify_migrationsverket")["status"], "done", "done when delivered");
    assert_eq!(step("notify_guardian")["status"], "pending", "waits for the acknowledgement");
    assert!(after["timeline"].as_array().is_some_and(|t| t.iter().any(|e| e["kind"] == "notification_sent")));
});

smtp_test!(english_for_a_guardian_whose_language_is_not_swedish_and_the_coordinator_gets_little, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    app.patch(&format!("/api/v1/children/{}", w.child), Some(&w.sw), json!({"guardian": {"language": "en"}})).await;
    let mut r = report(&app, w.child, 5);
    r["risk_indicators"] = json!(["trafficking_suspected"]);
    let (s, _) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!(s, Status::Created);
    app.drain().await;
    let g = smtp.to("greta@godman.se");
    assert!(g[0].subject().contains("Report: child missing from care"), "{}", g[0].subject());
    assert!(g[0].text().contains("Read the details on the page"), "{}", g[0].text());
    assert!(!g[0].text().contains("red jacket"), "a guardian gets a notice");
    assert!(!g[0].text().contains("Läs uppgifterna"), "one language per message");
    // The page behind the link is in the guardian's language too.
    let link = ack_link(&g[0].text()).unwrap_or_default();
    let path = link.split_once("/ack/").map(|(_, t)| format!("/ack/{t}")).unwrap_or_default();
    let (_, page) = app.public_page(&path).await;
    assert!(page.contains("<td>Clothing</td><td>red jacket"), "{page}");
    assert!(!page.contains("Klädsel"), "one language per page");
    let nmt = smtp.to("nmt@lst.se");
    assert_eq!(nmt.len(), 1);
    let t = nmt[0].text();
    // A notice by default (SPEC §7): the reference and a link; the page holds the risk and whom to call.
    assert!(t.contains("AB-2026-0001") && t.contains("020-390 000") && !t.contains("sw@x.se"), "{t}");
    let link = ack_link(&t).unwrap_or_default();
    let (_, page) = app.public_page(&format!("/ack/{}", token_of(&link))).await;
    assert!(page.contains("misstänkt människohandel") && page.contains("sw@x.se"), "{page}");
    for never in ["Amir", "Rahimi", "2010-03-14", "red jacket", "Centralstationen", "12-345678"] {
        assert!(!t.contains(never) && !page.contains(never), "coordinator must not get {never:?}");
    }
    insta::assert_snapshot!("coordinator_case_reported", normalise(&t));
});

smtp_test!(found_and_closed_reach_everyone_told_before_police_first, |app, smtp| {
    let (w, c) = reported(&app).await;
    app.drain().await;
    let id = c["id"].clone();
    app.clock().advance(Duration::minutes(20));
    app.post(&format!("/api/v1/cases/{id}/found"), Some(&w.staff), json!({"found_place": "Solna centrum"})).await;
    let before = smtp.messages().len();
    app.drain().await;
    let found: Vec<_> = smtp.messages().into_iter().skip(before).collect();
    assert_eq!(found.len(), 5);
    assert!(found[0].to.contains(&"polis@polisen.se".to_string()), "police first");
    assert!(found.iter().all(|m| m.subject().contains("påträffats")));
    let mv = found.iter().find(|m| m.to.contains(&"mottagning@migrationsverket.se".to_string())).cloned();
    assert!(mv.is_some_and(|m| !m.text().contains("Solna centrum") && m.text().contains("Påträffad")));
    let after = case(&app, &w, &id).await;
    let notify_found = after["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["key"] == "notify_found").cloned())
        .unwrap_or_default();
    assert_eq!(notify_found["status"], "done");
    app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "transferred"})).await;
    let before = smtp.messages().len();
    app.drain().await;
    let closed: Vec<_> = smtp.messages().into_iter().skip(before).collect();
    assert_eq!(closed.len(), 5);
    assert!(closed.iter().all(|m| m.subject().contains("avslutat")));
    // The guardian's notice says what happened and links to the page; the others give the reason.
    let guardian = |m: &&crate::smtp::Received| m.to.contains(&"greta@godman.se".to_string());
    assert!(closed.iter().filter(|m| !guardian(m)).all(|m| m.text().contains("överfört")));
    assert!(closed.iter().filter(guardian).all(|m| m.text().contains("/ack/") && !m.text().contains("Amir")));
    // Found means found: neither mail repeats health, description or what the child wore (SPEC §7).
    for m in found.iter().chain(closed.iter()) {
        for never in ["asthma", "165 cm", "red jacket", "Centralstationen"] {
            assert!(!m.text().contains(never) && !m.html().contains(never), "{never:?} to {:?}", m.to);
        }
    }
});

smtp_test!(an_outage_is_retried_with_backoff_and_delivered_after_recovery, |app, smtp| {
    smtp.set_mode(DOWN);
    let (w, c) = reported(&app).await;
    assert_eq!(app.drain().await, 0);
    let after = case(&app, &w, &c["id"]).await;
    assert_eq!(note(&after, "police")["status"], "failed");
    let (attempts, next): (Vec<i32>, Vec<chrono::NaiveDateTime>) = {
        let rows: Vec<(i32, chrono::NaiveDateTime)> = notifications::table
            .select((notifications::attempts, notifications::next_attempt_at))
            .load(&mut *app.conn())
            .unwrap_or_default();
        rows.into_iter().unzip()
    };
    assert!(attempts.iter().all(|a| *a == 1));
    let now = app.clock().now().naive_utc();
    assert!(next.iter().all(|n| *n > now && *n <= now + Duration::seconds(11)), "first retry within 10 s");
    // Not due yet: nothing is attempted.
    assert_eq!(app.drain().await, 0);
    assert!(smtp.messages().is_empty());
    // The server answers but rejects commands on the open connection.
    smtp.set_mode(REJECT);
    app.clock().advance(Duration::seconds(11));
    assert_eq!(app.drain().await, 0);
    let attempts: Vec<i32> =
        notifications::table.select(notifications::attempts).load(&mut *app.conn()).unwrap_or_default();
    assert!(attempts.iter().all(|a| *a == 2));
    smtp.set_mode(ACCEPT);
    app.clock().advance(Duration::seconds(21));
    assert_eq!(app.drain().await, 5);
    assert_eq!(smtp.messages().len(), 5);
    let after = case(&app, &w, &c["id"]).await;
    assert!(after["notifications"].as_array().is_some_and(|n| n.iter().all(|x| x["status"] == "sent")));
});

smtp_test!(after_48_hours_a_notification_fails_for_good_and_the_county_is_told, |app, smtp| {
    smtp.set_mode(DOWN);
    let (w, c) = reported(&app).await;
    for _ in 0..12 {
        app.clock().advance(Duration::minutes(10) + Duration::seconds(1));
        app.drain().await;
    }
    let attempts: Vec<i32> = notifications::table
        .filter(notifications::kind.eq("case_reported"))
        .select(notifications::attempts)
        .load(&mut *app.conn())
        .unwrap_or_default();
    assert!(attempts.iter().all(|a| *a >= 10), "{attempts:?}");
    app.clock().advance(Duration::hours(48));
    app.drain().await;
    smtp.set_mode(ACCEPT);
    app.clock().advance(Duration::seconds(11));
    app.drain().await;
    // Each original gave up; the county mailbox hears of each one, without the child's identity.
    let county = smtp.to("lst@lst.se");
    assert!(!county.is_empty());
    assert!(county.iter().any(|m| m.subject().contains("kunde inte levereras")));
    assert!(county.iter().all(|m| !m.text().contains("Amir") && !m.text().contains("red jacket")));
    let after = case(&app, &w, &c["id"]).await;
    assert!(after["timeline"].as_array().is_some_and(|t| t.iter().any(|e| e["kind"] == "notification_gave_up")));
    assert_eq!(note(&after, "police")["status"], "failed");
});

smtp_test!(a_claim_left_by_a_dead_process_is_delivered_once_after_the_lease, |app, smtp| {
    let (_w, _c) = reported(&app).await;
    // Another process claimed every row and died before sending.
    let now = app.clock().now();
    let (_, ids) = saknad::store::delivery::claim(&mut app.conn(), now, 100).expect("claim");
    assert_eq!(ids.len(), 5);
    assert_eq!(app.drain().await, 0, "leased rows are left alone");
    app.clock().advance(Duration::minutes(5) + Duration::seconds(1));
    assert_eq!(app.drain().await, 5);
    assert_eq!(app.drain().await, 0);
    let mut ids: Vec<String> = smtp.messages().iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), 5);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "exactly one Message-ID per notification");
});

smtp_test!(two_workers_on_one_database_send_each_notification_once, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    // Ten children, ten reports: 50 messages.
    for i in 0..9 {
        let mut b = child_body(w.acc);
        b["given_name"] = json!(format!("Child{i}"));
        let (_, kid) = app.post("/api/v1/children", Some(&w.sw), b).await;
        app.post("/api/v1/cases", Some(&w.staff), report(&app, kid["id"].as_i64().unwrap_or(0), 5)).await;
    }
    app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 5)).await;
    let st = app.state();
    let url = app.db_url.clone();
    let other = saknad::db::Db::open(&saknad::db::DbUrl::parse(&url).expect("url"), 4).expect("second pool");
    let (a, b) = rocket::tokio::join!(
        saknad::notify::worker::run_once(&st.db, &st.outbox, &st.clock),
        saknad::notify::worker::run_once(&other, &st.outbox, &st.clock)
    );
    let sent = a.unwrap_or(0) + b.unwrap_or(0);
    assert_eq!(sent, 50);
    let mut ids: Vec<String> = smtp.messages().iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), 50);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "no notification was sent twice");
});

smtp_test!(acknowledgement_links_are_single_use_expire_and_resist_tampering, |app, smtp| {
    let (w, c) = reported(&app).await;
    app.drain().await;
    let police_link = ack_link(&smtp.to("polis@polisen.se")[0].text()).unwrap_or_default();
    let token = token_of(&police_link);
    assert!(token.len() >= 43 && token.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
    // GET shows the page and consumes nothing.
    for _ in 0..2 {
        let resp = app.client.get(format!("/ack/{token}")).dispatch().await;
        assert_eq!(resp.status(), Status::Ok);
        let html = resp.into_string().await.unwrap_or_default();
        assert!(html.contains("AB-2026-0001") && html.contains("name=\"reference\"") && html.contains("lang=\"sv\""));
        assert!(!html.contains("Amir"), "the page shows no personal data");
    }
    // A login token is not an acknowledgement token, and an acknowledgement token is not a login.
    assert_eq!(app.post(&format!("/api/v1/ack/{}", w.staff), None, json!({"name": "x"})).await.0, Status::NotFound);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Unauthorized);
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    assert_eq!(app.post(&format!("/api/v1/ack/{tampered}"), None, json!({"name": "x"})).await.0, Status::NotFound);
    assert_eq!(app.client.get(format!("/ack/{tampered}")).dispatch().await.status(), Status::NotFound);
    let (s, v) = app.post(&format!("/api/v1/ack/{token}"), None, json!({})).await;
    assert_eq!((s, field(&v, "name")), (Status::UnprocessableEntity, Some("required")));
    let (s, v) = app
        .post(&format!("/api/v1/ack/{token}"), None, json!({"name": "Insp. Berg", "reference": "5000-K99-26"}))
        .await;
    assert_eq!((s, v["reference"].as_str()), (Status::Ok, Some("AB-2026-0001")));
    let (s, v) = app.post(&format!("/api/v1/ack/{token}"), None, json!({"name": "again"})).await;
    assert_eq!((s, code(&v)), (Status::Gone, "gone"));
    assert_eq!(app.client.get(format!("/ack/{token}")).dispatch().await.status(), Status::Gone);
    let after = case(&app, &w, &c["id"]).await;
    assert_eq!(after["police_reference"], "5000-K99-26");
    assert_eq!(note(&after, "police")["acknowledged_by"], "Insp. Berg");
    let step = |c: &Value, k: &str| {
        c["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == k).cloned()).unwrap_or_default()
    };
    assert_eq!(step(&after, "police_report")["status"], "done");
    assert!(after["timeline"]
        .as_array()
        .is_some_and(|t| t.iter().any(|e| e["kind"] == "acknowledged" && e["actor_name"] == "Insp. Berg")));
    // The guardian acknowledges through the page form.
    let g = token_of(&ack_link(&smtp.to("greta@godman.se")[0].text()).unwrap_or_default());
    let resp = app.client.post(format!("/ack/{g}")).header(ContentType::Form).body("name=").dispatch().await;
    assert_eq!(resp.status(), Status::UnprocessableEntity, "a name is required");
    let resp =
        app.client.post(format!("/ack/{g}")).header(ContentType::Form).body("name=Greta+Godman").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    let after = case(&app, &w, &c["id"]).await;
    assert_eq!(step(&after, "notify_guardian")["status"], "done");
    // A social-services link expires after 14 days.
    let s = token_of(&ack_link(&smtp.to("soc@stockholm.se")[0].text()).unwrap_or_default());
    app.clock().advance(Duration::days(14) + Duration::seconds(1));
    let (st, v) = app.post(&format!("/api/v1/ack/{s}"), None, json!({"name": "late"})).await;
    assert_eq!((st, code(&v)), (Status::Gone, "gone"));
});

smtp_test!(unacknowledged_messages_escalate_along_the_chain_and_stop_after_ack_or_closure, |app, smtp| {
    let (w, c) = reported(&app).await;
    app.drain().await;
    // The guardian acknowledges; the police and social services do not.
    let g = token_of(&ack_link(&smtp.to("greta@godman.se")[0].text()).unwrap_or_default());
    app.post(&format!("/api/v1/ack/{g}"), None, json!({"name": "Greta"})).await;
    app.clock().advance(Duration::minutes(29));
    app.drain().await;
    assert!(smtp.to("vakthavande@polisen.se").is_empty(), "not before the 30-minute police window");
    app.clock().advance(Duration::minutes(2));
    app.drain().await;
    let fallback = smtp.to("vakthavande@polisen.se");
    assert_eq!(fallback.len(), 1, "police → police fallback");
    assert!(fallback[0].text().contains("red jacket") && ack_link(&fallback[0].text()).is_some());
    assert_eq!(smtp.to("polis@polisen.se").len(), 2, "the police message is sent again");
    app.clock().advance(Duration::minutes(30));
    app.drain().await;
    assert_eq!(
        smtp.to("jour@stockholm.se").len(),
        1,
        "social services → socialjour, one message however many addresses were silent"
    );
    let county = smtp.to("lst@lst.se");
    assert!(!county.is_empty(), "the police chain ends at the county mailbox");
    assert!(county.iter().all(|m| !m.text().contains("Amir")));
    app.clock().advance(Duration::hours(30));
    app.drain().await;
    assert_eq!(smtp.to("greta@godman.se").len(), 1, "no escalation after the guardian acknowledged");
    let after = case(&app, &w, &c["id"]).await;
    assert!(after["timeline"].as_array().is_some_and(|t| t.iter().any(|e| e["kind"] == "escalated")));
    // After closure nothing escalates any more.
    let (sw, staff) = (app.login("sw@x.se").await, app.login("staff@x.se").await);
    let (_, c2) = {
        app.post(
            &format!("/api/v1/cases/{}/close", c["id"]),
            Some(&sw),
            json!({"reason": "withdrawn", "note": "error"}),
        )
        .await;
        let mut b = child_body(w.acc);
        b["guardian"]["email"] = json!("other.guardian@godman.se");
        let (_, kid) = app.post("/api/v1/children", Some(&sw), b).await;
        app.post("/api/v1/cases", Some(&staff), report(&app, kid["id"].as_i64().unwrap_or(0), 1)).await
    };
    assert!(c2["id"].is_i64(), "{c2}");
    app.drain().await;
    app.post(&format!("/api/v1/cases/{}/close", c2["id"]), Some(&sw), json!({"reason": "withdrawn", "note": "error"}))
        .await;
    app.drain().await;
    let before = smtp.messages().len();
    app.clock().advance(Duration::days(3));
    app.drain().await;
    assert_eq!(smtp.messages().len(), before, "closed episodes never escalate");
});

crate::db_test!(without_an_smtp_server_messages_are_written_as_eml_files, |app| {
    let (_w, _c) = reported(&app).await;
    assert_eq!(app.drain().await, 5);
    let dir = app.state().settings.data_dir.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    // The access log's daily anchor to the county mailbox is a mail file of its own.
    let is_anchor = |p: &std::path::PathBuf| p.to_string_lossy().contains("-anchor-");
    let eml: Vec<_> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "eml") && !is_anchor(p)).collect();
    assert_eq!(eml.len(), 5, "{files:?}");
    assert_eq!(files.iter().filter(|p| is_anchor(p)).count(), 1, "one anchor to the one county mailbox");
    let first = std::fs::read_to_string(eml[0]).unwrap_or_default();
    assert!(first.contains("Message-ID:") && first.contains("X-Saknad-Reference: AB-2026-0001"));
    // A mail holds a child's report: readable by the server's user only.
    use std::os::unix::fs::PermissionsExt;
    for f in &eml {
        let mode = std::fs::metadata(f).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600, "{}", f.display());
    }
});

#[rocket::async_test]
async fn every_smtp_url_form_is_accepted_and_nonsense_is_refused() {
    use saknad::notify::mailer::Mailer;
    let dir = std::path::Path::new("/tmp");
    // Only a connection that requires TLS may carry a full message (SPEC §7); opportunistic STARTTLS may be
    // stripped by whoever sits between.
    for (url, tls) in [
        ("smtp://127.0.0.1:2525", false),
        ("smtp://mail.kommun.se:587?tls=opportunistic", false),
        ("smtp://user:secret@mail.kommun.se:587?tls=required", true),
        ("smtps://mail.kommun.se:465", true),
    ] {
        let m = Mailer::from_settings(Some(url), None, dir);
        assert_eq!(m.as_ref().map(Mailer::tls_required).ok(), Some(tls), "{url}");
    }
    assert!(Mailer::from_settings(Some("smtp://"), None, dir).is_err());
    let ca = crate::smtp::ca_file();
    let ca = std::path::Path::new(&ca);
    assert!(Mailer::from_settings(Some("smtps://127.0.0.1:465"), Some(ca), dir).is_ok());
    let refused = Mailer::from_settings(Some("smtp://127.0.0.1:25"), Some(ca), dir).err().unwrap_or_default();
    assert!(refused.contains("requires TLS"), "{refused}");
    assert!(matches!(Mailer::from_settings(None, None, dir), Ok(Mailer::Files(_))));
}

/// The `snake_case` words a reader sees in an email (links left out: their tokens are not words).
pub fn codes_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| !w.contains("://"))
        .flat_map(|w| w.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| w.contains('_') && !w.starts_with('_') && !w.ends_with('_'))
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .map(str::to_string)
        .collect()
}

smtp_test!(every_email_of_an_episode_is_snapshotted_and_shows_no_code, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let mut r = report(&app, w.child, 10);
    r["risk_indicators"] = json!(["trafficking_suspected", "substance_misuse"]);
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), r).await;
    assert_eq!(s, Status::Created, "{c}");
    let id = c["id"].clone();
    app.drain().await;
    // Nobody acknowledges: reminders for the overdue steps and escalations follow.
    app.clock().advance(Duration::minutes(61));
    app.drain().await;
    app.post(&format!("/api/v1/cases/{id}/found"), Some(&w.staff), json!({"found_place": "Solna centrum"})).await;
    app.drain().await;
    app.post(&format!("/api/v1/cases/{id}/close"), Some(&w.sw), json!({"reason": "transferred"})).await;
    app.drain().await;
    let all = smtp.messages();
    let kinds: std::collections::BTreeSet<String> = all.iter().map(|m| m.header("X-Saknad-Kind")).collect();
    assert!(all.len() >= 15, "{} messages: {kinds:?}", all.len());
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for m in &all {
        let (text, html) = (m.text(), m.html());
        let shown = format!("{} {text} {html}", m.subject());
        let codes = codes_in(&shown.replace(['<', '>'], " "));
        assert!(codes.is_empty(), "{} to {:?} shows codes {codes:?}:\n{text}", m.subject(), m.to);
        let who = m.to.first().and_then(|a| a.split('@').next()).unwrap_or("nobody").to_string();
        let n = seen.entry(who.clone()).or_default();
        *n += 1;
        insta::assert_snapshot!(format!("episode_{who}_{n}"), format!("{}\n\n{}", m.subject(), normalise(&text)));
    }
});

smtp_test!(the_acknowledgement_page_opens_in_the_recipients_language_and_can_be_switched, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    app.patch(&format!("/api/v1/children/{}", w.child), Some(&w.sw), json!({"guardian": {"language": "en"}})).await;
    let (s, _) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 5)).await;
    assert_eq!(s, Status::Created);
    app.drain().await;
    let link = ack_link(&smtp.to("greta@godman.se")[0].text()).unwrap_or_default();
    let path = link.trim_start_matches("http://saknad.test");
    let page = app.client.get(path.to_string()).dispatch().await.into_string().await.unwrap_or_default();
    assert!(page.contains("lang=\"en\""), "an English guardian's page is in English");
    assert!(page.contains(&format!("href=\"{path}?lang=sv\"")), "with a switch to Swedish");
    let sv = app.client.get(format!("{path}?lang=sv")).dispatch().await.into_string().await.unwrap_or_default();
    assert!(sv.contains("lang=\"sv\"") && sv.contains(&format!("action=\"{path}?lang=sv\"")), "Swedish, and it stays");
    // The police page for a Swedish recipient stays Swedish.
    let police = ack_link(&smtp.to("polis@polisen.se")[0].text()).unwrap_or_default();
    let page = app.client.get(police.trim_start_matches("http://saknad.test").to_string()).dispatch().await;
    assert!(page.into_string().await.unwrap_or_default().contains("lang=\"sv\""));
});

smtp_test!(an_unacknowledged_police_mail_goes_to_whoever_will_phone_the_police_by_day_and_at_night, |app, smtp| {
    // By day (Monday 10:00): the child's own social worker, not every social worker of the municipality.
    let (w, c) = reported(&app).await;
    app.user("sw2@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
    app.user("jour@x.se", saknad::domain::role::Role::OnCall, Some("01"), Some("0180,0184"), None);
    app.drain().await;
    app.clock().advance(Duration::minutes(31));
    app.drain().await;
    let escalated_to = |who: &str| {
        smtp.to(who).into_iter().filter(|m| m.subject().contains("eskalering")).map(|m| m.text()).collect::<Vec<_>>()
    };
    let sw = escalated_to("sw@x.se");
    assert_eq!(sw.len(), 1, "the social worker is told at once");
    assert!(sw[0].contains("Ring polisen på 114 14") && sw[0].contains("polisen."), "{}", sw[0]);
    assert!(escalated_to("sw2@x.se").is_empty() && escalated_to("jour@x.se").is_empty());
    assert_eq!(escalated_to("vakthavande@polisen.se").len(), 1, "beside the fallback mailbox, not instead");
    // Whoever phones acknowledges; nothing more escalates and the county mailbox is not needed.
    let link = ack_link(&smtp.to("sw@x.se").last().map(|m| m.text()).unwrap_or_default()).unwrap_or_default();
    let (s, _) = app.post(&format!("/api/v1/ack/{}", token_of(&link)), None, json!({"name": "Sam"})).await;
    assert_eq!(s, Status::Ok);
    app.clock().advance(Duration::hours(2));
    app.drain().await;
    assert!(escalated_to("lst@lst.se").is_empty(), "acknowledged by the social worker: not to the county");
    let sw_token = app.login("sw@x.se").await;
    app.post(&format!("/api/v1/cases/{}/close", c["id"]), Some(&sw_token), json!({"reason": "withdrawn", "note": "x"}))
        .await;
    // At night (Tuesday 02:00): socialjour, its users and its mailbox; the county mailbox last.
    app.clock()
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 1, 0, 0).single().unwrap_or_default());
    let staff = app.login("staff@x.se").await;
    let (s, c2) = app.post("/api/v1/cases", Some(&staff), report(&app, w.child, 5)).await;
    assert_eq!(s, Status::Created, "{c2}");
    app.drain().await;
    let (sw_before, jour_before) = (escalated_to("sw@x.se").len(), escalated_to("jour@stockholm.se").len());
    app.clock().advance(Duration::minutes(31));
    app.drain().await;
    let jour = escalated_to("jour@x.se");
    assert_eq!(jour.len(), 1, "the on-call social worker of the municipality");
    assert!(jour[0].contains("Ring polisen på 114 14"));
    assert!(escalated_to("jour@stockholm.se").len() > jour_before, "and the socialjour mailbox");
    assert_eq!(escalated_to("sw@x.se").len(), sw_before, "not the day social worker at night");
    app.clock().advance(Duration::minutes(31));
    app.drain().await;
    let county = escalated_to("lst@lst.se");
    assert!(!county.is_empty(), "nobody acknowledged: the county mailbox, last");
    assert!(county.iter().all(|t| !t.contains("Amir") && !t.contains("Ring polisen")));
});

smtp_test!(a_reference_from_the_phone_call_is_quoted_in_the_police_mail_and_records_the_police_report, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let mut body = report(&app, w.child, 10);
    body["police_reference"] = json!(String::from_utf8(vec![b'x'; 65]).unwrap_or_default());
    let (s, v) = app.post("/api/v1/cases", Some(&w.staff), body.clone()).await;
    assert_eq!((s, field(&v, "police_reference").is_some()), (Status::UnprocessableEntity, true), "{v}");
    body["police_reference"] = json!("5000-K123456-26");
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), body).await;
    assert_eq!(s, Status::Created, "{c}");
    assert_eq!(c["police_reference"], "5000-K123456-26");
    let police = c["steps"].as_array().and_then(|s| s.iter().find(|x| x["key"] == "police_report").cloned());
    let police = police.unwrap_or_default();
    assert_eq!(police["status"], "done", "the police were phoned");
    app.drain().await;
    let mail = smtp.to("polis@polisen.se");
    assert_eq!(mail.len(), 1);
    assert!(mail[0].text().contains("5000-K123456-26"), "the written report quotes the reference");
    app.clock().advance(Duration::minutes(31));
    app.drain().await;
    assert!(smtp.messages().iter().all(|m| !m.subject().contains("eskalering") || !m.text().contains("Ring polisen")));
    let (_, page) = app.page(&format!("/cases/{}", c["id"]), &app.login("staff@x.se").await).await;
    assert!(page.contains("polisen ringdes; diarienumret angavs i anmälan"), "the step's note in words");
});
