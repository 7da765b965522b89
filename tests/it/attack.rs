//! What an attack pass on the release of issue #18 found, each as a test that failed before its fix.

use crate::common::*;
use crate::db_test;
use chrono::Duration;
use rocket::http::{ContentType, Cookie, Header, Status};
use saknad::auth::mfa::code_at;
use saknad::domain::role::Role;
use serde_json::json;

fn unix(app: &TestApp) -> u64 {
    u64::try_from(app.clock().now().timestamp()).unwrap_or(0)
}

/// A password-only login through the login page from `ip`: the session cookie and the device cookie.
async fn page_login(
    app: &TestApp,
    email: &str,
    ip: &str,
    device: Option<&str>,
) -> (Status, Option<String>, Option<String>) {
    let csrf = "form-test-token-form-test-token-form-test";
    let peer = std::net::SocketAddr::new(ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()), 40000);
    let mut req = app
        .client
        .post(format!("/login?csrf={csrf}"))
        .remote(peer)
        .cookie(Cookie::new("saknad_csrf", csrf))
        .header(ContentType::Form)
        .body(format!("email={}&password={}", urlencode(email), urlencode(PASSWORD)));
    if let Some(d) = device {
        req = req.cookie(Cookie::new(saknad::auth::DEVICE_COOKIE, d.to_string()));
    }
    let resp = req.dispatch().await;
    let get = |name: &str| resp.cookies().get(name).map(|c| c.value().to_string());
    (resp.status(), get(saknad::auth::SESSION_COOKIE), get(saknad::auth::DEVICE_COOKIE))
}

/// An API login with a code, from `ip`, with a device cookie.
async fn api_login(app: &TestApp, email: &str, code: &str, ip: &str, device: Option<&str>) -> (Status, Option<String>) {
    let peer = std::net::SocketAddr::new(ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()), 40000);
    let mut req = app
        .client
        .post("/api/v1/auth/login")
        .remote(peer)
        .header(ContentType::JSON)
        .body(json!({"email": email, "password": PASSWORD, "code": code}).to_string());
    if let Some(d) = device {
        req = req.cookie(Cookie::new(saknad::auth::DEVICE_COOKIE, d.to_string()));
    }
    let resp = req.dispatch().await;
    (resp.status(), resp.headers().get_one("Retry-After").map(String::from))
}

db_test!(a_secret_being_enrolled_belongs_to_its_session_alone, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let (owner, attacker) = (app.login("a@test.se").await, app.login("a@test.se").await);
    // The attacker, with the password only, plants a secret; the owner's enrolment page shows another.
    let (_, planted) = app.post("/api/v1/me/mfa", Some(&attacker), json!({})).await;
    let planted = planted["secret"].as_str().unwrap_or_default().to_string();
    let (_, html) = app.page("/mfa", &owner).await;
    let shown = html.split("id=\"mfa-secret\">").nth(1).and_then(|r| r.split('<').next()).unwrap_or("").to_string();
    assert!(shown.len() == 32 && shown != planted, "the owner is shown the attacker's secret");
    let (_, again) = app.page("/mfa", &attacker).await;
    assert!(!again.contains(&shown), "and the owner's secret is not shown to the other session");
    let code = code_at(&shown, unix(&app)).unwrap_or_default();
    let (s, _, _) = app.submit_page("/mfa/confirm", &owner, &[("code", &code)]).await;
    assert_eq!(s, Status::Ok);
    app.clock().advance(Duration::seconds(31));
    let guess = code_at(&planted, unix(&app)).unwrap_or_default();
    let (s, _) = api_login(&app, "a@test.se", &guess, "10.0.0.1", None).await;
    assert_eq!(s, Status::Unauthorized, "the planted secret opens nothing");
});

db_test!(wrong_codes_are_counted_for_the_account_whatever_browser_they_come_from, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let t = app.login("a@test.se").await;
    crate::mfa::enrol(&app, &t).await;
    // Browsers made known to the account with the password alone each tried to get five guesses of their own.
    let mut devices = Vec::new();
    for _ in 0..3 {
        let (s, _, device) = page_login(&app, "a@test.se", "10.0.0.8", None).await;
        assert_eq!(s, Status::SeeOther);
        devices.push(device.unwrap_or_default());
    }
    let mut refused = 0;
    for d in &devices {
        for _ in 0..3 {
            if api_login(&app, "a@test.se", "000000", "10.0.0.8", Some(d)).await.0 == Status::TooManyRequests {
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 4, "five wrong codes for the account, then each further one waits");
});

db_test!(a_browser_that_signed_in_before_is_not_kept_out_by_its_shared_address, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let (s, _, device) = page_login(&app, "a@test.se", "10.0.0.90", None).await;
    assert_eq!(s, Status::SeeOther);
    // Someone else at the same office address fails twenty times on other accounts.
    for i in 0..20 {
        let peer = std::net::SocketAddr::new("10.0.0.90".parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()), 1);
        app.client
            .post("/api/v1/auth/login")
            .remote(peer)
            .header(ContentType::JSON)
            .body(json!({"email": format!("nobody{i}@x.se"), "password": "wrong password x"}).to_string())
            .dispatch()
            .await;
    }
    let (s, _, _) = page_login(&app, "a@test.se", "10.0.0.90", device.as_deref()).await;
    assert_eq!(s, Status::SeeOther, "the owner's browser goes in");
    // Another browser at that address waits, told for as long as it really must.
    app.clock().advance(Duration::minutes(5));
    let resp = app
        .client
        .post("/api/v1/auth/login")
        .remote(std::net::SocketAddr::new("10.0.0.90".parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()), 1))
        .header(ContentType::JSON)
        .body(json!({"email": "a@test.se", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    let retry: i64 = resp.headers().get_one("Retry-After").and_then(|r| r.parse().ok()).unwrap_or(0);
    assert_eq!(resp.status(), Status::TooManyRequests);
    assert!((595..=601).contains(&retry), "ten minutes left of the window, not a fixed minute: {retry}");
});

db_test!(the_api_is_the_api_however_its_path_is_spelled, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let t = app.login("a@test.se").await;
    crate::mfa::enrol(&app, &t).await;
    for path in ["//api/v1/me/mfa/recovery-codes", "/%61pi/v1/me/mfa/recovery-codes"] {
        let resp = app
            .client
            .post(path)
            .cookie(Cookie::new(saknad::auth::SESSION_COOKIE, t.clone()))
            .header(ContentType::Plain)
            .header(Header::new("Origin", "http://evil.example"))
            .dispatch()
            .await;
        assert_eq!(resp.status(), Status::Forbidden, "a cross-site cookie write to {path}");
    }
    let resp =
        app.client.get("//api/v1/me").header(Header::new("Authorization", format!("Bearer {t}"))).dispatch().await;
    assert_eq!(resp.headers().get_one("Cache-Control"), Some("no-store"));
});

db_test!(a_logout_ends_the_session_however_it_is_sent, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let t = app.login("a@test.se").await;
    let resp = app
        .client
        .post("/api/v1/auth/logout")
        .cookie(Cookie::new(saknad::auth::SESSION_COOKIE, t.clone()))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NoContent);
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Unauthorized);
});

db_test!(the_warning_of_failed_attempts_waits_for_the_owner_who_gives_the_code, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    let t = app.login("a@test.se").await;
    let (secret, _) = crate::mfa::enrol(&app, &t).await;
    for _ in 0..3 {
        let (s, _) =
            app.post("/api/v1/auth/login", None, json!({"email": "a@test.se", "password": "wrong password x"})).await;
        assert_eq!(s, Status::Unauthorized);
    }
    // The guesser with the password alone does not learn of it, and does not use the warning up.
    let (s, _, _) = page_login(&app, "a@test.se", "10.0.0.161", None).await;
    assert_eq!(s, Status::SeeOther);
    app.clock().advance(Duration::seconds(31));
    let code = code_at(&secret, unix(&app)).unwrap_or_default();
    let (s, v) =
        app.post("/api/v1/auth/login", None, json!({"email": "a@test.se", "password": PASSWORD, "code": code})).await;
    assert_eq!(s, Status::Ok, "{v}");
    assert_eq!(v["failed_logins"]["count"], 3, "{v}");
});

db_test!(a_changed_delivery_mode_is_told_and_a_name_is_one_line, |app| {
    let w = World::new(&app).await;
    let (s, _) = app
        .put("/api/v1/counties/01/contacts", Some(&w.co), json!({"police_email": "polis@polisen.se", "county_email": "lst@lst.se",
            "police_fallback_email": "vakthavande@polisen.se", "migrationsverket_email": "mottagning@migrationsverket.se",
            "trafficking_coordinator_email": "nmt@lst.se", "guardian_delivery": "full"}))
        .await;
    assert_eq!(s, Status::Ok);
    let mails = saknad::store::account_mail::all(&mut app.conn()).expect("mail");
    let told: Vec<_> =
        mails.iter().filter(|m| m.address == "lst@lst.se" && m.params.contains("guardian_delivery")).collect();
    assert_eq!(told.len(), 1, "{mails:?}");
    assert!(told[0].params.contains("\"old\":\"notice\"") && told[0].params.contains("\"new\":\"full\""));
    for name in ["IT-avdelningen\n\nOBS: ingen åtgärd behövs", "Alva Admin <admin@demo.saknad.se>"] {
        let (s, v) = app.patch("/api/v1/me", Some(&w.co), json!({"name": name})).await;
        assert_eq!((s, field(&v, "name")), (Status::UnprocessableEntity, Some("one line without < or >")), "{name:?}");
    }
});

db_test!(a_socialjour_address_must_be_allowed_in_every_county_it_serves, |app| {
    let w = World::new(&app).await;
    let (s, _) = app
        .put(
            "/api/v1/counties/01/allowed-domains",
            Some(&w.admin),
            json!({"domains": ["x.se", "lst.se", "polisen.se"]}),
        )
        .await;
    assert_eq!(s, Status::Ok);
    // Uppsala (03) first, Stockholm (0180) second.
    let (s, v) = app
        .post("/api/v1/users", Some(&w.admin), json!({"email": "x4@attacker.example", "name": "X Four", "role": "on_call", "municipality_codes": ["0380", "0180"]}))
        .await;
    assert_eq!(
        (s, field(&v, "email")),
        (Status::UnprocessableEntity, Some("not in the county's allowed email domains")),
        "{v}"
    );
});

db_test!(a_csrf_token_this_server_did_not_make_is_refused, |app| {
    let w = World::new(&app).await;
    let resp = app
        .client
        .post("/language?csrf=a")
        .cookie(Cookie::new("saknad_csrf", "a"))
        .cookie(Cookie::new(saknad::auth::SESSION_COOKIE, w.sw.clone()))
        .header(ContentType::Form)
        .body("lang=en")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Forbidden);
});
