//! Separation of duties (issue #18): the admin never knows a password, a second party hears of new access
//! and of changed recipient addresses, addresses stay in the county's allowed domains; and the secrets the
//! server starts with must be hard to guess.

use crate::common::*;
use crate::smtp_test;
use rocket::http::Status;
use serde_json::json;

/// The set-password link in a mail's text.
fn link(text: &str) -> Option<String> {
    text.lines().map(str::trim).find(|l| l.contains("/set-password/")).map(|l| l.replace("http://saknad.test", ""))
}

smtp_test!(a_new_account_chooses_its_own_password_from_a_one_time_link_and_the_county_is_told, |app, smtp| {
    let w = World::new(&app).await;
    let new = json!({"email": "nina@x.se", "name": "Nina Ny", "role": "social_worker", "municipality_code": "0184"});
    let mut with_password = new.clone();
    with_password["password"] = json!("chosen by the admin 2026");
    let (s, v) = app.post("/api/v1/users", Some(&w.admin), with_password).await;
    assert_eq!((s, field(&v, "password").is_some()), (Status::UnprocessableEntity, true), "{v}");
    let (s, v) = app.post("/api/v1/users", Some(&w.admin), new).await;
    assert_eq!(s, Status::Created, "{v}");
    // Nobody can sign in as her yet: she has no password until she chooses one.
    for pw in ["", PASSWORD, "chosen by the admin 2026"] {
        let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": "nina@x.se", "password": pw})).await;
        assert_ne!(s, Status::Ok);
    }
    app.drain().await;
    let to_her = smtp.to("nina@x.se");
    assert_eq!(to_her.len(), 1);
    let path = link(&to_her[0].text()).unwrap_or_default();
    assert!(path.starts_with("/set-password/"), "{}", to_her[0].text());
    insta::assert_snapshot!("set_password_new", format!("{}\n\n{}", to_her[0].subject(), mask(&to_her[0].text())));
    let county = smtp.to("lst@lst.se");
    assert_eq!(county.len(), 1, "the county mailbox hears of the new access");
    let text = county[0].text();
    assert!(
        text.contains("Nina Ny <nina@x.se>") && text.contains("socialsekreterare") && text.contains("Solna"),
        "{text}"
    );
    assert!(text.contains("Ada Admin"), "and who gave it: {text}");
    insta::assert_snapshot!("security_user_created", format!("{}\n\n{}", county[0].subject(), mask(&text)));
    // The link's page: a guessable password is refused at the field and the link still works.
    let (s, html) = app.public_page(&path).await;
    assert!(s == Status::Ok && html.contains("nina@x.se") && html.contains("id=\"new_password\""), "{s}: {html}");
    let (s, html) = choose(&app, &path, "nina12345678").await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(html.contains("id=\"new_password-error\"") && html.contains("för lätt att gissa"), "{html}");
    let (s, _) = choose(&app, &path, "en lång mening om sommaren i Solna").await;
    assert_eq!(s, Status::SeeOther);
    let (s, v) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nina@x.se", "password": "en lång mening om sommaren i Solna"}),
        )
        .await;
    assert_eq!(s, Status::Ok, "{v}");
    let (s, _) = choose(&app, &path, "en annan lång mening om vintern").await;
    assert_eq!(s, Status::Gone, "the link works once");
    let (s, _) = app.public_page(&path).await;
    assert_eq!(s, Status::Gone);
    // A reset: a new link to her, the old password ends; the admin never sees one.
    let id = v["user"]["id"].as_i64().unwrap_or(0);
    let (s, _) = app.post(&format!("/api/v1/users/{id}/password"), Some(&w.admin), json!({})).await;
    assert_eq!(s, Status::NoContent);
    let (s, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nina@x.se", "password": "en lång mening om sommaren i Solna"}),
        )
        .await;
    assert_eq!(s, Status::Unauthorized);
    app.drain().await;
    let reset = smtp.to("nina@x.se");
    assert_eq!(reset.len(), 2);
    assert!(link(&reset[1].text()).is_some_and(|l| l != path));
    insta::assert_snapshot!("set_password_reset", format!("{}\n\n{}", reset[1].subject(), mask(&reset[1].text())));
    // Giving an account access again is told too.
    app.patch(&format!("/api/v1/users/{id}"), Some(&w.admin), json!({"active": false})).await;
    app.patch(&format!("/api/v1/users/{id}"), Some(&w.admin), json!({"active": true})).await;
    app.drain().await;
    let county = smtp.to("lst@lst.se");
    assert_eq!(county.len(), 2);
    assert!(county[1].subject().contains("tillgång igen"), "{}", county[1].subject());
    for m in smtp.messages() {
        let shown = format!("{} {} {}", m.subject(), m.text(), m.html());
        assert!(crate::notifications::codes_in(&shown.replace(['<', '>'], " ")).is_empty(), "{shown}");
    }
});

/// The set-password form sent from the link's page (no session: the link is the credential).
async fn choose(app: &TestApp, path: &str, pw: &str) -> (Status, String) {
    let csrf = "form-test-token-form-test-token-form-test";
    let resp = app
        .client
        .post(format!("{path}?csrf={csrf}"))
        .cookie(rocket::http::Cookie::new("saknad_csrf", csrf))
        .header(rocket::http::ContentType::Form)
        .body(format!("new_password={}", urlencode(pw)))
        .dispatch()
        .await;
    (resp.status(), resp.into_string().await.unwrap_or_default())
}

fn mask(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.contains("/set-password/") {
                "http://saknad.test/set-password/[TOKEN]".to_string()
            } else if let Some(i) = l.find("2026-").or_else(|| l.find("2027-")) {
                // A local time, `YYYY-MM-DD HH:MM`.
                format!("{}[TIME]{}", &l[..i], l.get(i + 16..).unwrap_or(""))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

smtp_test!(a_changed_recipient_address_is_told_to_the_county_and_the_old_address_and_must_be_allowed, |app, smtp| {
    let w = World::new(&app).await;
    // The county officer moves the police's report elsewhere: both the county mailbox and the police hear.
    let contacts = |police: &str| {
        json!({"police_email": police, "police_fallback_email": "vakthavande@polisen.se",
            "migrationsverket_email": "mottagning@migrationsverket.se", "trafficking_coordinator_email": "nmt@lst.se",
            "county_email": "lst@lst.se"})
    };
    let (s, v) = app.put("/api/v1/counties/01/contacts", Some(&w.co), contacts("polis.ny@polisen.se")).await;
    assert_eq!(s, Status::Ok, "{v}");
    app.drain().await;
    let county = smtp.to("lst@lst.se");
    assert_eq!(county.len(), 1);
    let text = county[0].text();
    assert!(
        text.contains("polis@polisen.se") && text.contains("polis.ny@polisen.se") && text.contains("Polisen"),
        "{text}"
    );
    insta::assert_snapshot!("security_contact_changed", format!("{}\n\n{}", county[0].subject(), mask(&text)));
    let old = smtp.to("polis@polisen.se");
    assert_eq!(old.len(), 1, "the replaced address hears of it");
    insta::assert_snapshot!("security_contact_replaced", format!("{}\n\n{}", old[0].subject(), mask(&old[0].text())));
    // Allowed domains: set by the admin only, checked by shape, logged and told.
    let domains =
        json!({"domains": ["polisen.se", "migrationsverket.se", "lst.se", "stockholm.se", "x.se", "@Godman.se"]});
    assert_eq!(app.put("/api/v1/counties/01/allowed-domains", Some(&w.co), domains.clone()).await.0, Status::Forbidden);
    let (s, v) =
        app.put("/api/v1/counties/01/allowed-domains", Some(&w.admin), json!({"domains": ["not a domain"]})).await;
    assert_eq!((s, field(&v, "domains").is_some()), (Status::UnprocessableEntity, true));
    let (s, v) = app.put("/api/v1/counties/01/allowed-domains", Some(&w.admin), domains).await;
    assert_eq!(s, Status::Ok, "{v}");
    assert!(v["domains"].as_array().is_some_and(|d| d.contains(&json!("godman.se"))), "{v}");
    let (s, v) = app.get("/api/v1/counties/01/allowed-domains", Some(&w.co)).await;
    assert_eq!((s, v["domains"].as_array().map(Vec::len)), (Status::Ok, Some(6)));
    // Now an address elsewhere is refused at its field and nothing changes.
    let (s, v) = app.put("/api/v1/counties/01/contacts", Some(&w.co), contacts("tips@gmail.com")).await;
    assert_eq!(
        (s, field(&v, "police_email")),
        (Status::UnprocessableEntity, Some("not in the county's allowed email domains"))
    );
    let (_, now) = app.get("/api/v1/counties/01/contacts", Some(&w.co)).await;
    assert_eq!(now["police_email"], "polis.ny@polisen.se");
    let (s, v) = app
        .post(
            "/api/v1/users",
            Some(&w.admin),
            json!({"email": "x@gmail.com", "name": "X", "role": "social_worker", "municipality_code": "0180"}),
        )
        .await;
    assert_eq!(
        (s, field(&v, "email")),
        (Status::UnprocessableEntity, Some("not in the county's allowed email domains"))
    );
    let (s, v) = app
        .put("/api/v1/municipalities/0180/contacts", Some(&w.sw), json!({"social_services_email": "soc@hotmail.com"}))
        .await;
    assert_eq!((s, field(&v, "social_services_email").is_some()), (Status::UnprocessableEntity, true));
    app.drain().await;
    let county = smtp.to("lst@lst.se");
    assert!(county.iter().any(|m| m.subject().contains("e-postdomäner")), "the domains change is told");
});

#[test]
fn secrets_that_are_easy_to_guess_stop_the_server_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    for (key, value) in [
        ("jwt_secret", "a".repeat(32)),
        ("jwt_secret", "0123456789abcdef0123456789abcdef".into()),
        ("audit_key", "saknad-saknad-saknad-saknad-saknad".into()),
    ] {
        let f = test_figment("sqlite://x", dir.path()).merge((key, value.clone()));
        let err = saknad::config::Settings::from_figment(&f).err().unwrap_or_default();
        assert!(err.contains("too easy to guess"), "{key}={value}: {err}");
    }
    let ok = test_figment("sqlite://x", dir.path()).merge(("audit_key", "UDa4fatB-sOLdR4_ML5TnlXLEmHgMCZL2i7q35igBsw"));
    assert!(saknad::config::Settings::from_figment(&ok).is_ok());
}

#[rocket::async_test]
async fn the_admin_cannot_reach_a_childs_data_through_an_account_of_their_making() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let w = World::new(&app).await;
    let (s, v) = app
        .post(
            "/api/v1/users",
            Some(&w.admin),
            json!({"email": "mole@x.se", "name": "Mole", "role": "social_worker", "municipality_code": "0180"}),
        )
        .await;
    assert_eq!(s, Status::Created, "{v}");
    let id = v["id"].as_i64().unwrap_or(0);
    // No password of the admin's choosing, neither at creation nor by a reset.
    let (s, _) = app
        .post(&format!("/api/v1/users/{id}/password"), Some(&w.admin), json!({"password": "known to the admin 2026"}))
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    for pw in ["known to the admin 2026", ""] {
        let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": "mole@x.se", "password": pw})).await;
        assert_ne!(s, Status::Ok);
    }
    let (s, _) = app.get(&format!("/api/v1/children/{}", w.child), Some(&w.admin)).await;
    assert_eq!(s, Status::Forbidden);
}

smtp_test!(every_security_notice_is_snapshotted_in_both_languages_and_shows_no_code, |app, smtp| {
    let now = app.clock().now();
    let f = saknad::app::mail::fields(&[
        ("account", "Nina Ny <nina@x.se>".into()),
        ("role", "on_call".into()),
        ("scope", "Solna, Sundbyberg".into()),
        ("field", "trafficking_coordinator_email".into()),
        ("old", "nmt@lst.se".into()),
        ("new", "nmt2@lst.se".into()),
        ("by", "Ada Admin <admin@test.se>".into()),
    ]);
    for event in saknad::notify::account::EVENTS {
        for lang in ["sv", "en"] {
            saknad::app::mail::notice(&mut app.conn(), &format!("{event}.{lang}@x.se"), lang, event, f.clone(), now)
                .expect("queue");
        }
    }
    app.drain().await;
    for event in saknad::notify::account::EVENTS {
        for lang in ["sv", "en"] {
            let got = smtp.to(&format!("{event}.{lang}@x.se"));
            assert_eq!(got.len(), 1, "{event} {lang}");
            let (subject, text, html) = (got[0].subject(), got[0].text(), got[0].html());
            assert!(!subject.trim_start_matches("[Saknad]").trim().is_empty(), "{event} {lang} has a subject");
            let shown = format!("{subject} {text} {html}");
            let codes = crate::notifications::codes_in(&shown.replace(['<', '>'], " "));
            assert!(codes.is_empty(), "{event} {lang} shows {codes:?}");
            assert!(!shown.contains("on_call") && shown.contains(if lang == "sv" { "socialjour" } else { "on-call" }));
            insta::assert_snapshot!(format!("notice_{event}_{lang}"), format!("{subject}\n\n{}", mask(&text)));
        }
    }
});
