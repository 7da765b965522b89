//! API.md "Headers and files": caching, HSTS and cookie flags, the CSRF rule for the cookie-authenticated
//! API, client addresses from trusted proxies only, and owner-only files.

use crate::common::*;
use crate::db_test;
use diesel::prelude::*;
use rocket::http::{ContentType, Cookie, Header, Status};
use saknad::db::schema::access_log;
use serde_json::json;

fn session(token: &str) -> Cookie<'static> {
    Cookie::new(saknad::auth::SESSION_COOKIE, token.to_string())
}

fn login(app: &TestApp) -> rocket::local::asynchronous::LocalRequest<'_> {
    let body = json!({"email": "sw@x.se", "password": PASSWORD}).to_string();
    app.client.post("/api/v1/auth/login").header(ContentType::JSON).body(body)
}

/// How many risk assessments the episode's timeline holds.
async fn assessed(app: &TestApp, sw: &str, id: &serde_json::Value) -> usize {
    let (_, case) = app.get(&format!("/api/v1/cases/{id}"), Some(sw)).await;
    case["timeline"].as_array().map(|t| t.iter().filter(|e| e["kind"] == "risk_assessed").count()).unwrap_or(0)
}

db_test!(api_answers_are_never_cached_and_https_brings_hsts_and_secure_cookies, |app| {
    let w = World::new(&app).await;
    let resp = app
        .client
        .get(format!("/api/v1/children/{}", w.child))
        .header(Header::new("Authorization", format!("Bearer {}", w.sw)))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.headers().get_one("Cache-Control"), Some("no-store"), "a child's record stays out of caches");
    assert!(resp.headers().get_one("Strict-Transport-Security").is_none(), "not over plain http");
    let resp = login(&app).dispatch().await;
    let cookie = resp.headers().get("Set-Cookie").find(|c| c.starts_with("saknad_session=")).unwrap_or("").to_string();
    assert!(cookie.contains("Secure"), "http://saknad.test is not this machine: the cookie is Secure: {cookie}");
    let https = TestApp::spawn_with(app.backend, |f| f.merge(("public_url", "https://saknad.kommun.se"))).await;
    if let Some(https) = https {
        https.user("sw@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
        let resp = login(&https).dispatch().await;
        assert_eq!(resp.status(), Status::Ok);
        assert!(resp.headers().get_one("Strict-Transport-Security").is_some_and(|h| h.contains("max-age=")));
    }
    let local = TestApp::spawn_with(app.backend, |f| f.merge(("public_url", "http://127.0.0.1:8000"))).await;
    if let Some(local) = local {
        local.user("sw@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
        let resp = login(&local).dispatch().await;
        let cookie =
            resp.headers().get("Set-Cookie").find(|c| c.starts_with("saknad_session=")).unwrap_or("").to_string();
        assert!(!cookie.contains("Secure"), "development on this machine over http keeps working: {cookie}");
    }
});

db_test!(a_browser_session_writes_to_the_api_only_as_same_origin_json, |app| {
    let w = World::new(&app).await;
    let (s, c) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created);
    let path = format!("/api/v1/cases/{}/risk-assessments", c["id"]);
    let body = json!({"level": "high", "indicators": [], "note": "forged"}).to_string();
    // A cross-site form or fetch: text/plain, or a form with _method=DELETE.
    let resp = app.client.post(&path).cookie(session(&w.sw)).header(ContentType::Plain).body(&body).dispatch().await;
    assert_eq!(resp.status(), Status::Forbidden);
    assert_eq!(assessed(&app, &w.sw, &c["id"]).await, 0, "nothing recorded");
    app.put_photo(&w.sw, w.child).await;
    let resp = app
        .client
        .post(format!("/api/v1/children/{}/photo", w.child))
        .cookie(session(&w.sw))
        .header(ContentType::Form)
        .body("_method=DELETE")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Forbidden);
    let (s, _) = app.get(&format!("/api/v1/children/{}", w.child), Some(&w.sw)).await;
    assert_eq!(s, Status::Ok);
    let (_, kid) = app.get(&format!("/api/v1/children/{}", w.child), Some(&w.sw)).await;
    assert_eq!(kid["has_photo"], true, "the photo is still there");
    // JSON from another origin is refused too; from this server's own pages it passes.
    let json_from = |origin: &'static str| {
        app.client
            .post(&path)
            .cookie(session(&w.sw))
            .header(ContentType::JSON)
            .header(Header::new("Origin", origin))
            .body(&body)
    };
    assert_eq!(json_from("https://evil.example").dispatch().await.status(), Status::Forbidden);
    assert_eq!(assessed(&app, &w.sw, &c["id"]).await, 0);
    assert_eq!(json_from("http://saknad.test").dispatch().await.status(), Status::Created);
    assert_eq!(assessed(&app, &w.sw, &c["id"]).await, 1);
    // Reads with the cookie, and API clients with a bearer token, are not affected.
    let resp = app.client.get(format!("/api/v1/cases/{}", c["id"])).cookie(session(&w.sw)).dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
});

/// The address the access log recorded for the last failed login.
fn last_ip(app: &TestApp) -> Option<String> {
    access_log::table
        .filter(access_log::action.eq("login_failed"))
        .order(access_log::seq.desc())
        .select(access_log::ip)
        .first::<Option<String>>(&mut *app.conn())
        .ok()
        .flatten()
}

async fn failed_login(app: &TestApp, peer: &str, headers: &[(&'static str, &'static str)]) -> Status {
    let mut req = app
        .client
        .post("/api/v1/auth/login")
        .remote(format!("{peer}:40000").parse().unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 1))))
        .header(ContentType::JSON)
        .body(json!({"email": "nobody@x.se", "password": "wrong password"}).to_string());
    for (k, v) in headers {
        req = req.header(Header::new(*k, *v));
    }
    req.dispatch().await.status()
}

db_test!(client_address_headers_are_believed_only_from_trusted_proxies, |app| {
    // From an unknown peer the header is a claim: the peer's address is logged and limited.
    assert_eq!(failed_login(&app, "198.51.100.7", &[("X-Real-IP", "203.0.113.1")]).await, Status::Unauthorized);
    assert_eq!(last_ip(&app).as_deref(), Some("198.51.100.7"));
    for i in 0..25 {
        let fake: &'static str = Box::leak(format!("203.0.113.{i}").into_boxed_str());
        failed_login(&app, "198.51.100.7", &[("X-Real-IP", fake)]).await;
    }
    assert_eq!(
        failed_login(&app, "198.51.100.7", &[("X-Real-IP", "203.0.113.200")]).await,
        Status::TooManyRequests,
        "rotating X-Real-IP does not reset the per-address limit"
    );
    let proxied = TestApp::spawn_with(app.backend, |f| f.merge(("trusted_proxies", "10.0.0.2, 10.0.0.3"))).await;
    if let Some(p) = proxied {
        failed_login(&p, "10.0.0.2", &[("X-Real-IP", "203.0.113.9")]).await;
        assert_eq!(last_ip(&p).as_deref(), Some("203.0.113.9"), "the trusted proxy's word");
        failed_login(&p, "10.0.0.2", &[("X-Forwarded-For", "192.0.2.66, 203.0.113.10, 10.0.0.3")]).await;
        assert_eq!(last_ip(&p).as_deref(), Some("203.0.113.10"), "the last address no trusted proxy added");
    }
    let bad = saknad::config::Settings::from_figment(
        &test_figment("sqlite://x", std::path::Path::new("/tmp")).merge(("trusted_proxies", "proxy.kommun.se")),
    );
    assert!(bad.is_err_and(|e| e.contains("SAKNAD_TRUSTED_PROXIES")));
});

db_test!(the_database_and_its_files_are_readable_by_the_owner_only, |app| {
    use std::os::unix::fs::PermissionsExt;
    if app.backend != Backend::Sqlite {
        return;
    }
    let _w = World::new(&app).await;
    let file = app.db_url.trim_start_matches("sqlite://").to_string();
    for f in [file.clone(), format!("{file}-wal")] {
        let mode = std::fs::metadata(&f).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600, "{f}");
    }
});
