//! How messages travel (SPEC §7): `full` only over a connection that requires TLS, `notice` with a page behind
//! its link whose every view is logged and which expires with the acknowledgement token.

use crate::cases::monday_10;
use crate::common::*;
use crate::smtp::Received;
use crate::smtp_test;
use chrono::Duration;
use diesel::prelude::*;
use rocket::http::Status;
use saknad::db::schema::{access_log, counties, notifications};
use serde_json::{json, Value};

async fn reported(app: &TestApp) -> (World, Value) {
    app.clock().set(monday_10());
    let w = World::new(app).await;
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), report(app, w.child, 10)).await;
    assert_eq!(s, Status::Created, "{c}");
    app.drain().await;
    (w, c)
}

/// The path of the one link in a message (`/ack/…`).
fn link_path(m: &Received) -> String {
    let text = m.text();
    let line = text.lines().find(|l| l.contains("/ack/")).unwrap_or_default();
    line.split_once("/ack/").map(|(_, t)| format!("/ack/{}", t.trim())).unwrap_or_default()
}

fn log(app: &TestApp, action: &str) -> Vec<(Option<String>, Option<String>)> {
    access_log::table
        .filter(access_log::action.eq(action))
        .order(access_log::seq)
        .select((access_log::actor_role, access_log::detail))
        .load(&mut *app.conn())
        .unwrap_or_default()
}

/// What must never be in a notice: the child's name, date of birth, description, health, the report.
const PERSONAL: [&str; 8] =
    ["Amir", "Rahimi", "2010-03-14", "165 cm", "red jacket", "asthma", "Centralstationen", "a friend in Solna"];

smtp_test!(a_guardian_gets_a_notice_and_reads_the_content_on_a_logged_page_that_expires, |app, smtp| {
    let (w, c) = reported(&app).await;
    let g = smtp.to("greta@godman.se");
    assert_eq!(g.len(), 1);
    let (text, html) = (g[0].text(), g[0].html());
    for never in PERSONAL {
        assert!(!text.contains(never) && !html.contains(never), "the guardian's notice holds {never:?}:\n{text}");
    }
    assert!(text.contains(c["reference"].as_str().unwrap_or("?")), "the notice gives the reference:\n{text}");
    assert!(text.contains("Läs uppgifterna på sidan") && text.contains("Länken gäller till"), "{text}");
    assert_eq!(g[0].attachments(), 0, "no photo in a notice");
    // The police get the full report over TLS.
    let p = smtp.to("polis@polisen.se");
    assert!(p[0].text().contains("red jacket") && p[0].text().contains("Amir Rahimi"));
    // The access log says what each email carried.
    let sent = log(&app, "email_sent");
    let guardian_sent: Vec<_> = sent.iter().filter_map(|e| e.1.clone()).filter(|d| d.starts_with("guardian")).collect();
    assert_eq!(guardian_sent, vec!["guardian (notice): reference".to_string()]);
    assert!(sent.iter().any(|e| e.1.as_deref().is_some_and(|d| d.starts_with("police: reference,identity"))));
    // The page behind the link shows the content, and logs the view with what it disclosed.
    let path = link_path(&g[0]);
    assert!(log(&app, "notice_viewed").is_empty());
    let (s, page) = app.public_page(&path).await;
    assert_eq!(s, Status::Ok);
    for must in ["Amir Rahimi", "red jacket", "asthma", "Centralstationen", "name=\"name\""] {
        assert!(page.contains(must), "the page lacks {must:?}");
    }
    let _ = app.public_page(&path).await;
    let views = log(&app, "notice_viewed");
    assert_eq!(views.len(), 2, "each view is logged");
    assert_eq!(views[0].0.as_deref(), Some("recipient:guardian"));
    let detail = views[0].1.clone().unwrap_or_default();
    assert!(detail.starts_with("guardian: reference,identity") && detail.contains("health"), "{detail}");
    assert!(!detail.contains("photo"), "the page shows no photo: {detail}");
    // Acknowledged from the page, the content stays readable until the link expires.
    let (s, _) =
        app.post(&format!("/api/v1/ack/{}", path.trim_start_matches("/ack/")), None, json!({"name": "Greta"})).await;
    assert_eq!(s, Status::Ok);
    let (s, page) = app.public_page(&path).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("redan kvitterat") && page.contains("red jacket") && !page.contains("name=\"name\""));
    // Once the child is found, the page no longer shows description or health either.
    app.post(&format!("/api/v1/cases/{}/found", c["id"]), Some(&w.staff), json!({"found_place": "Solna"})).await;
    let (_, page) = app.public_page(&path).await;
    assert!(page.contains("Amir Rahimi") && !page.contains("red jacket") && !page.contains("asthma"), "{page}");
    // The link expires with the acknowledgement token: then nothing is shown, and nothing logged as read.
    let before = log(&app, "notice_viewed").len();
    app.clock().advance(Duration::days(15));
    let (s, page) = app.public_page(&path).await;
    assert_eq!(s, Status::Gone);
    assert!(!page.contains("Amir"));
    assert_eq!(log(&app, "notice_viewed").len(), before);
});

smtp_test!(a_full_messages_link_never_shows_the_content_again, |app, smtp| {
    let (_w, _c) = reported(&app).await;
    let p = smtp.to("polis@polisen.se");
    let (s, page) = app.public_page(&link_path(&p[0])).await;
    assert_eq!(s, Status::Ok, "the police acknowledge on the page");
    assert!(!page.contains("red jacket") && !page.contains("Amir"), "a full message's link shows only the form");
    // Migrationsverket is told without acknowledgement: its link opens nothing.
    let mv = smtp.to("mottagning@migrationsverket.se");
    assert!(!mv[0].text().contains("/ack/"), "no link in a full message that needs no acknowledgement");
});

smtp_test!(plain full_is_refused_without_tls_and_the_contacts_page_says_so, |app, smtp| {
    let (w, _c) = reported(&app).await;
    assert!(smtp.messages().len() >= 5, "every party is still told: {}", smtp.messages().len());
    for m in smtp.messages() {
        for never in PERSONAL {
            assert!(!m.text().contains(never) && !m.html().contains(never), "{never:?} over plain SMTP to {:?}", m.to);
        }
        assert_eq!(m.attachments(), 0);
    }
    let p = smtp.to("polis@polisen.se");
    assert!(p[0].text().contains("förbindelsen till e-postservern inte kräver kryptering"), "{}", p[0].text());
    // The police still read and acknowledge on the page.
    let (s, page) = app.public_page(&link_path(&p[0])).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("red jacket") && page.contains("name=\"reference\""));
    let sent = log(&app, "email_sent");
    assert!(sent.iter().any(|e| e.1.as_deref().is_some_and(|d| d.starts_with("police (notice: full refused"))));
    let (s, page) = app.page("/contacts", &w.co).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("id=\"delivery-tls-missing\""), "the county officer is told why");
    let modes: Vec<Option<String>> = notifications::table
        .filter(notifications::status.eq("sent"))
        .select(notifications::delivery_mode)
        .load(&mut *app.conn())
        .unwrap_or_default();
    assert!(!modes.is_empty() && modes.iter().all(|m| m.as_deref() == Some("notice")), "{modes:?}");
});

smtp_test!(a_county_chooses_the_mode_per_recipient_and_a_bad_mode_changes_nothing, |app, smtp| {
    app.clock().set(monday_10());
    let w = World::new(&app).await;
    let (s, got) = app.get("/api/v1/counties/01/contacts", Some(&w.co)).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(got["guardian_delivery"], "notice");
    assert_eq!(got["trafficking_coordinator_delivery"], "notice");
    assert_eq!(got["police_delivery"], "full");
    let mut body = got.clone();
    body["police_delivery"] = json!("encrypted");
    let (s, e) = app.put("/api/v1/counties/01/contacts", Some(&w.co), body).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(code(&e), "validation_failed");
    assert!(field(&e, "police_delivery").is_some(), "{e}");
    let stored: Option<String> =
        counties::table.find("01").select(counties::police_delivery).first(&mut *app.conn()).unwrap_or_default();
    assert_eq!(stored, None, "nothing stored");
    let mut body = got.clone();
    body["police_delivery"] = json!("notice");
    body["guardian_delivery"] = json!("full");
    let (s, put) = app.put("/api/v1/counties/01/contacts", Some(&w.co), body).await;
    assert_eq!(s, Status::Ok, "{put}");
    // With TLS the contacts page has no warning.
    let (_, page) = app.page("/contacts", &w.co).await;
    assert!(!page.contains("id=\"delivery-tls-missing\"") && page.contains("name=\"guardian_delivery\""));
    let (s, _) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created);
    app.drain().await;
    assert!(smtp.to("greta@godman.se")[0].text().contains("red jacket"), "the county chose full for guardians");
    // The access log's anchor went to the county mailbox, once, over the same connection.
    let anchors = smtp.anchors();
    assert_eq!(anchors.len(), 1);
    assert!(anchors[0].to.contains(&"lst@lst.se".to_string()) && anchors[0].text().contains("saknad-anchor v1 "));
    let p = smtp.to("polis@polisen.se");
    assert!(!p[0].text().contains("red jacket") && p[0].attachments() == 0, "and notices for the police");
});
