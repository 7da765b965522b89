//! The second factor (issue #18): TOTP enrolment and login, recovery codes, sessions without the factor, the
//! admin's reset, and `SAKNAD_REQUIRE_MFA` for every role that reaches personal data.

use crate::common::*;
use crate::db_test;
use chrono::Duration;
use rocket::http::{Cookie, Status};
use saknad::auth::mfa::code_at;
use saknad::domain::role::Role;
use serde_json::{json, Value};

fn unix(app: &TestApp) -> u64 {
    u64::try_from(app.clock().now().timestamp()).unwrap_or(0)
}

/// Enrols a TOTP authenticator for the holder of `token`; the secret and the recovery codes.
pub async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let (s, e) = app.post("/api/v1/me/mfa", Some(token), json!({})).await;
    assert_eq!(s, Status::Created, "{e}");
    let secret = e["secret"].as_str().unwrap_or_default().to_string();
    let code = code_at(&secret, unix(app)).unwrap_or_default();
    let (s, v) = app.post("/api/v1/me/mfa/confirm", Some(token), json!({"code": code})).await;
    assert_eq!(s, Status::Ok, "{v}");
    let codes = v["recovery_codes"].as_array().map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect());
    (secret, codes.unwrap_or_default())
}

async fn login_with(app: &TestApp, email: &str, code: Option<&str>) -> (Status, Value) {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    app.post("/api/v1/auth/login", None, body).await
}

db_test!(with_totp_enrolled_the_login_needs_a_code_and_each_code_works_once, |app| {
    let w = World::new(&app).await;
    // A second session of hers, opened before the enrolment (another device).
    let before = app.login("staff@x.se").await;
    let (s, status) = app.get("/api/v1/me/mfa", Some(&w.staff)).await;
    assert_eq!((s, status["enabled"].as_bool(), status["required"].as_bool()), (Status::Ok, Some(false), Some(false)));
    // The enrolment: a secret, its otpauth link and QR code; a wrong code confirms nothing.
    let (s, e) = app.post("/api/v1/me/mfa", Some(&w.staff), json!({})).await;
    assert_eq!(s, Status::Created, "{e}");
    assert!(e["otpauth_uri"].as_str().is_some_and(|u| u.starts_with("otpauth://totp/Saknad:")));
    assert!(e["qr_svg"].as_str().is_some_and(|q| q.contains("<svg")));
    let (s, v) = app.post("/api/v1/me/mfa/confirm", Some(&w.staff), json!({"code": "000000"})).await;
    assert_eq!((s, field(&v, "code")), (Status::UnprocessableEntity, Some("wrong code")));
    let (_, status) = app.get("/api/v1/me/mfa", Some(&w.staff)).await;
    assert_eq!(status["enabled"], false, "nothing enabled by a wrong code");
    let secret = e["secret"].as_str().unwrap_or_default().to_string();
    let first = code_at(&secret, unix(&app)).unwrap_or_default();
    let (s, v) = app.post("/api/v1/me/mfa/confirm", Some(&w.staff), json!({"code": first})).await;
    assert_eq!(s, Status::Ok, "{v}");
    let recovery: Vec<String> = v["recovery_codes"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
        .unwrap_or_default();
    assert_eq!(recovery.len(), 10);
    // The owner is told by email.
    let mails = saknad::store::account_mail::all(&mut app.conn()).expect("mail");
    assert!(mails.iter().any(|m| m.address == "staff@x.se" && m.params.contains("mfa_enabled")), "{mails:?}");
    // The password alone no longer opens a session; the code used to confirm cannot be used again.
    let (s, v) = login_with(&app, "staff@x.se", None).await;
    assert_eq!((s, code(&v)), (Status::Unauthorized, "mfa_required"), "{v}");
    assert!(v.get("token").is_none());
    let (s, v) = login_with(&app, "staff@x.se", Some(&first)).await;
    assert_eq!((s, code(&v)), (Status::Unauthorized, "invalid_credentials"), "a code works once: {v}");
    app.clock().advance(Duration::seconds(31));
    let next = code_at(&secret, unix(&app)).unwrap_or_default();
    let (s, v) = login_with(&app, "staff@x.se", Some(&next)).await;
    assert_eq!(s, Status::Ok, "{v}");
    let strong = v["token"].as_str().unwrap_or_default().to_string();
    assert_eq!(app.get("/api/v1/children", Some(&strong)).await.0, Status::Ok);
    // A recovery code, once.
    let (s, v) = login_with(&app, "staff@x.se", Some(&recovery[3].to_uppercase())).await;
    assert_eq!(s, Status::Ok, "{v}");
    let (s, _) = login_with(&app, "staff@x.se", Some(&recovery[3])).await;
    assert_eq!(s, Status::Unauthorized);
    let (_, status) = app.get("/api/v1/me/mfa", Some(&strong)).await;
    assert_eq!((status["enabled"].as_bool(), status["recovery_codes_left"].as_i64()), (Some(true), Some(9)));
    // The session from before the enrolment has no second factor: it reaches its own account and the code.
    let (s, v) = app.get("/api/v1/children", Some(&before)).await;
    assert_eq!((s, code(&v)), (Status::Forbidden, "mfa_required"));
    assert_eq!(app.get("/api/v1/me", Some(&before)).await.0, Status::Ok);
    let (s, v) = app.post("/api/v1/me/mfa", Some(&before), json!({})).await;
    assert_eq!((s, code(&v)), (Status::Forbidden, "mfa_required"), "the password alone cannot move the factor");
    let (s, _) = app.post("/api/v1/me/mfa/verify", Some(&before), json!({"code": "123456"})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    app.clock().advance(Duration::seconds(31));
    let now_code = code_at(&secret, unix(&app)).unwrap_or_default();
    let (s, v) = app.post("/api/v1/me/mfa/verify", Some(&before), json!({"code": now_code})).await;
    assert_eq!(s, Status::NoContent, "{v}");
    assert_eq!(app.get("/api/v1/children", Some(&before)).await.0, Status::Ok);
    // New recovery codes replace the old ones.
    let (s, v) = app.post("/api/v1/me/mfa/recovery-codes", Some(&strong), json!({})).await;
    assert_eq!(s, Status::Ok, "{v}");
    let (s, _) = login_with(&app, "staff@x.se", Some(&recovery[4])).await;
    assert_eq!(s, Status::Unauthorized, "the old codes are gone");
});

db_test!(wrong_codes_wait_like_wrong_passwords, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let t = app.login("a@test.se").await;
    enrol(&app, &t).await;
    for _ in 0..5 {
        let (s, _) = login_with(&app, "a@test.se", Some("000000")).await;
        assert_eq!(s, Status::Unauthorized);
    }
    let (s, v) = login_with(&app, "a@test.se", Some("000000")).await;
    assert_eq!((s, code(&v)), (Status::TooManyRequests, "rate_limited"), "{v}");
});

db_test!(the_admin_removes_a_lost_factor_and_the_county_is_told, |app| {
    let w = World::new(&app).await;
    let id = saknad::store::users::by_email(&mut app.conn(), "sw@x.se").ok().flatten().map(|u| u.id).unwrap_or(0);
    enrol(&app, &w.sw).await;
    let (s, _) = app.post(&format!("/api/v1/users/{id}/mfa/reset"), Some(&w.sw), json!({})).await;
    assert_eq!(s, Status::Forbidden, "only the admin");
    let (s, _) = app.post(&format!("/api/v1/users/{id}/mfa/reset"), Some(&w.admin), json!({})).await;
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.get("/api/v1/me", Some(&w.sw)).await.0, Status::Unauthorized, "the sessions ended");
    let (s, v) = login_with(&app, "sw@x.se", None).await;
    assert_eq!((s, v["user"]["mfa_enabled"].as_bool()), (Status::Ok, Some(false)), "{v}");
    let mails = saknad::store::account_mail::all(&mut app.conn()).expect("mail");
    let to = |a: &str| mails.iter().filter(|m| m.address == a && m.params.contains("mfa_reset")).count();
    assert_eq!((to("lst@lst.se"), to("sw@x.se")), (1, 1), "the county mailbox and the owner: {mails:?}");
});

#[rocket::async_test]
async fn with_mfa_required_every_role_that_reaches_personal_data_enrols_first() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn_with(backend, |f| f.merge(("require_mfa", true))).await else { continue };
        app.user("sw@x.se", Role::SocialWorker, Some("01"), Some("0180"), None);
        app.user("na@x.se", Role::NationalAnalyst, None, None, None);
        let (s, v) = login_with(&app, "sw@x.se", None).await;
        assert_eq!((s, v["mfa_enrolment_required"].as_bool()), (Status::Ok, Some(true)), "{v}");
        let t = v["token"].as_str().unwrap_or_default().to_string();
        let (s, v) = app.get("/api/v1/children", Some(&t)).await;
        assert_eq!((s, code(&v)), (Status::Forbidden, "mfa_required"));
        assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Ok);
        // The pages send the person to the second factor's page, which shows the QR code.
        let resp =
            app.client.get("/children").cookie(Cookie::new(saknad::auth::SESSION_COOKIE, t.clone())).dispatch().await;
        assert_eq!((resp.status(), resp.headers().get_one("Location")), (Status::SeeOther, Some("/mfa")));
        let (s, html) = app.page("/mfa", &t).await;
        assert!(s == Status::Ok && html.contains("<svg") && html.contains("id=\"mfa-confirm\""), "{s}");
        enrol(&app, &t).await;
        assert_eq!(app.get("/api/v1/children", Some(&t)).await.0, Status::Ok, "enrolling gave the second factor");
        // The national analyst sees only aggregates: no second factor needed.
        let (s, v) = login_with(&app, "na@x.se", None).await;
        assert_eq!((s, v["mfa_enrolment_required"].as_bool()), (Status::Ok, Some(false)));
        let na = v["token"].as_str().unwrap_or_default().to_string();
        assert_eq!(app.get("/api/v1/stats?from=2026-01-01&to=2026-12-31", Some(&na)).await.0, Status::Ok);
    }
}

db_test!(the_second_factor_pages_enrol_verify_and_show_the_codes, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let t = app.login("a@test.se").await;
    let (s, html) = app.page("/mfa", &t).await;
    assert_eq!(s, Status::Ok);
    let secret = html.split("id=\"mfa-secret\">").nth(1).and_then(|r| r.split('<').next()).unwrap_or("").to_string();
    assert_eq!(secret.len(), 32, "{html}");
    let (s, _, html) = app.submit_page("/mfa/confirm", &t, &[("code", "12345x")]).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(html.contains("id=\"code-error\"") && html.contains("Koden stämmer inte"), "{html}");
    let code = code_at(&secret, unix(&app)).unwrap_or_default();
    let (s, _, html) = app.submit_page("/mfa/confirm", &t, &[("code", &code)]).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(html.matches("<li><code>").count(), 10, "the recovery codes, once: {html}");
    // A new login in the browser goes to the code page first.
    let (s, v) = login_with(&app, "a@test.se", None).await;
    assert_eq!(s, Status::Unauthorized, "{v}");
    let resp = app
        .client
        .post("/login?csrf=form-test-token-form-test-token-form-test")
        .cookie(Cookie::new("saknad_csrf", "form-test-token-form-test-token-form-test"))
        .header(rocket::http::ContentType::Form)
        .body(format!("email=a%40test.se&password={}", urlencode(PASSWORD)))
        .dispatch()
        .await;
    assert_eq!(resp.headers().get_one("Location"), Some("/mfa"));
    let session = resp.cookies().get(saknad::auth::SESSION_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let (_, html) = app.page("/mfa", &session).await;
    assert!(html.contains("id=\"mfa-verify\""), "{html}");
    let (s, _, html) = app.submit_page("/mfa/verify", &session, &[("code", "000000")]).await;
    assert_eq!(s, Status::UnprocessableEntity, "{html}");
    app.clock().advance(Duration::seconds(31));
    let code = code_at(&secret, unix(&app)).unwrap_or_default();
    let (s, location) = app.submit("/mfa/verify", &session, &[("code", &code)]).await;
    assert_eq!((s, location.as_deref()), (Status::SeeOther, Some("/")));
    assert_eq!(app.page("/children", &session).await.0, Status::Ok);
});
