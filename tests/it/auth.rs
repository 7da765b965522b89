use crate::common::*;
use crate::db_test;
use chrono::Duration;
use rocket::http::{ContentType, Status};
use saknad::domain::role::Role;
use serde_json::json;

db_test!(login_returns_token_user_and_strict_cookie, |app| {
    app.user("sw@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    let resp = app
        .client
        .post("/api/v1/auth/login")
        .header(rocket::http::ContentType::JSON)
        .body(json!({"email": "SW@test.se", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    let cookie = resp.headers().get("Set-Cookie").find(|c| c.starts_with("saknad_session=")).unwrap_or("").to_string();
    let (s, v) = read(resp).await;
    assert_eq!(s, Status::Ok, "{v}");
    assert!(v["token"].as_str().is_some_and(|t| t.split('.').count() == 3));
    assert!(v["expires_at"].as_str().is_some());
    assert_eq!(v["user"]["role"], "social_worker");
    assert_eq!(v["user"]["municipality_code"], "0180");
    assert_eq!(v["user"]["county_code"], "01");
    assert!(v["user"]["accommodation_id"].is_null());
    assert!(cookie.starts_with("saknad_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let token = v["token"].as_str().unwrap_or_default();
    let (s, me) = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(me["email"], "sw@test.se");
});

db_test!(wrong_password_and_unknown_account_are_the_same_401, |app| {
    app.user("a@test.se", Role::Admin, None, None, None);
    let (s, v) =
        app.post("/api/v1/auth/login", None, json!({"email": "a@test.se", "password": "wrong password!"})).await;
    assert_eq!((s, code(&v)), (Status::Unauthorized, "invalid_credentials"));
    let (s2, v2) =
        app.post("/api/v1/auth/login", None, json!({"email": "x@test.se", "password": "wrong password!"})).await;
    assert_eq!((s2, v2), (s, v));
    let (s, v) = app.post("/api/v1/auth/login", None, json!({"email": "a@test.se"})).await;
    assert_eq!((s, field(&v, "password")), (Status::UnprocessableEntity, Some("required")));
});

db_test!(missing_garbage_and_foreign_tokens_are_401, |app| {
    let (s, v) = app.get("/api/v1/me", None).await;
    assert_eq!((s, code(&v)), (Status::Unauthorized, "unauthorized"));
    let (s, _) = app.get("/api/v1/me", Some("not.a.token")).await;
    assert_eq!(s, Status::Unauthorized);
    let id = app.user("a@test.se", Role::Admin, None, None, None);
    let token = app.login("a@test.se").await;
    let sid =
        saknad::auth::token::Keys::new(SECRET).decode(&token, app.clock().now()).map(|c| c.sid).unwrap_or_default();
    assert!(!sid.is_empty());
    let now = app.clock().now();
    let other = saknad::auth::token::Keys::new("zPKl2jLs3Kt-DHg6JJHs1OaxK0uysos5_tq6iCH3clw");
    let (forged, _) = other.issue(id, "stamp", &sid, now, now + Duration::hours(1)).unwrap_or_default();
    let (s, _) = app.get("/api/v1/me", Some(&forged)).await;
    assert_eq!(s, Status::Unauthorized);
    // A valid signature with a wrong stamp (e.g. an old token) is refused too, and so is a made-up session.
    let keys = &app.state().keys;
    let (stale, _) = keys.issue(id, "old-stamp", &sid, now, now + Duration::hours(1)).unwrap_or_default();
    assert_eq!(app.get("/api/v1/me", Some(&stale)).await.0, Status::Unauthorized);
    let stamp = app.conn_user(id).security_stamp;
    let (no_session, _) = keys.issue(id, &stamp, "no-such-session", now, now + Duration::hours(1)).unwrap_or_default();
    assert_eq!(app.get("/api/v1/me", Some(&no_session)).await.0, Status::Unauthorized);
    // Signed with the server's own secret and the user's real session, but claiming to live for ever.
    let (forever, _) = keys.issue(id, &stamp, &sid, now, now + Duration::seconds(1 << 62 >> 20)).unwrap_or_default();
    assert_eq!(app.get("/api/v1/me", Some(&forever)).await.0, Status::Unauthorized);
    let (fine, _) = keys.issue(id, &stamp, &sid, now, now + Duration::hours(1)).unwrap_or_default();
    assert_eq!(app.get("/api/v1/me", Some(&fine)).await.0, Status::Ok, "the same claims with a possible life pass");
});

db_test!(a_session_ends_after_eight_hours_however_busy, |app| {
    let token = app.admin().await;
    for _ in 0..23 {
        app.clock().advance(Duration::minutes(20));
        assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Ok);
    }
    app.clock().advance(Duration::minutes(21));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Unauthorized);
});

#[rocket::async_test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let idle = saknad::domain::session::DEFAULT_IDLE_MINUTES;
    assert_eq!(idle, 30);
    let app = TestApp::spawn_with(Backend::Sqlite, |f| f.merge(("session_idle_minutes", idle))).await.expect("app");
    let token = app.admin().await;
    app.clock().advance(Duration::minutes(29));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Ok, "29 minutes idle");
    app.clock().advance(Duration::minutes(29));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Ok, "each request starts the wait again");
    app.clock().advance(Duration::minutes(32));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Unauthorized, "32 minutes idle");
}

db_test!(logout_ends_the_token_at_once_and_sessions_can_be_ended_everywhere, |app| {
    app.user("sw@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    let (a, b, c) = (app.login("sw@test.se").await, app.login("sw@test.se").await, app.login("sw@test.se").await);
    let (s, v) = app.post("/api/v1/auth/logout", Some(&a), json!({})).await;
    assert_eq!(s, Status::NoContent, "{v}");
    assert_eq!(app.get("/api/v1/me", Some(&a)).await.0, Status::Unauthorized, "the Bearer token is dead too");
    let (s, list) = app.get("/api/v1/me/sessions", Some(&b)).await;
    assert_eq!(s, Status::Ok);
    let sessions = list.as_array().cloned().unwrap_or_default();
    assert_eq!(sessions.len(), 2, "{list}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    // One ended from another: the lost phone.
    let other = sessions.iter().find(|s| s["current"] == false).and_then(|s| s["id"].as_str()).unwrap_or("");
    let (s, _) =
        app.send(rocket::http::Method::Delete, &format!("/api/v1/me/sessions/{other}"), Some(&b), None, &[]).await;
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.get("/api/v1/me", Some(&c)).await.0, Status::Unauthorized);
    let (s, _) =
        app.send(rocket::http::Method::Delete, &format!("/api/v1/me/sessions/{other}"), Some(&b), None, &[]).await;
    assert_eq!(s, Status::NotFound, "already ended");
    let d = app.login("sw@test.se").await;
    let (s, _) = app.send(rocket::http::Method::Delete, "/api/v1/me/sessions", Some(&b), None, &[]).await;
    assert_eq!(s, Status::NoContent);
    for t in [&b, &d] {
        assert_eq!(app.get("/api/v1/me", Some(t)).await.0, Status::Unauthorized);
    }
});

db_test!(password_change_revokes_every_token_and_refuses_a_guessable_one, |app| {
    app.user("sw@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    let t1 = app.login("sw@test.se").await;
    let t2 = app.login("sw@test.se").await;
    assert_eq!(app.get("/api/v1/me", Some(&t2)).await.0, Status::Ok);
    let (s, v) = app
        .post(
            "/api/v1/me/password",
            Some(&t1),
            json!({"current_password": "nope nope nope", "new_password": "another long password"}),
        )
        .await;
    assert_eq!((s, field(&v, "current_password")), (Status::UnprocessableEntity, Some("wrong password")));
    let (s, v) = app
        .post("/api/v1/me/password", Some(&t1), json!({"current_password": PASSWORD, "new_password": "short"}))
        .await;
    assert_eq!((s, field(&v, "new_password")), (Status::UnprocessableEntity, Some("at least 12 characters")));
    for weak in ["aaaaaaaaaaaa", "123456789012", "            ", "sw@test.se12345"] {
        let (s, v) = app
            .post("/api/v1/me/password", Some(&t1), json!({"current_password": PASSWORD, "new_password": weak}))
            .await;
        assert_eq!(
            (s, field(&v, "new_password")),
            (Status::UnprocessableEntity, Some("too easy to guess")),
            "{weak:?}"
        );
    }
    assert_eq!(app.get("/api/v1/me", Some(&t1)).await.0, Status::Ok, "a refused change changes nothing");
    let (s, _) = app
        .post(
            "/api/v1/me/password",
            Some(&t1),
            json!({"current_password": PASSWORD, "new_password": "another long password"}),
        )
        .await;
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.get("/api/v1/me", Some(&t1)).await.0, Status::Unauthorized);
    assert_eq!(app.get("/api/v1/me", Some(&t2)).await.0, Status::Unauthorized);
    let (s, _) =
        app.post("/api/v1/auth/login", None, json!({"email": "sw@test.se", "password": "another long password"})).await;
    assert_eq!(s, Status::Ok);
});

db_test!(deactivation_and_admin_reset_revoke_tokens_and_the_admin_never_sets_the_password, |app| {
    let admin = app.admin().await;
    let id = app.user("st@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    let t = app.login("st@test.se").await;
    // Used once first, so the guard's user cache holds the row when the account is deactivated.
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Ok);
    let (s, v) = app.patch(&format!("/api/v1/users/{id}"), Some(&admin), json!({"active": false})).await;
    assert_eq!((s, v["active"].as_bool()), (Status::Ok, Some(false)));
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Unauthorized);
    let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": "st@test.se", "password": PASSWORD})).await;
    assert_eq!(s, Status::Unauthorized);
    app.patch(&format!("/api/v1/users/{id}"), Some(&admin), json!({"active": true})).await;
    let t = app.login("st@test.se").await;
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Ok);
    let path = format!("/api/v1/users/{id}/password");
    let (s, v) = app.post(&path, Some(&admin), json!({"password": "chosen by the admin 2026"})).await;
    assert_eq!((s, field(&v, "password").is_some()), (Status::UnprocessableEntity, true), "{v}");
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Ok, "a refused reset changes nothing");
    let (s, _) = app.post(&path, Some(&admin), json!({})).await;
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Unauthorized);
    let (s, _) = app.post("/api/v1/auth/login", None, json!({"email": "st@test.se", "password": PASSWORD})).await;
    assert_eq!(s, Status::Unauthorized, "the old password ends with the reset");
});

/// A login attempt from the client address `ip` (the TCP peer: no proxy is trusted in tests), as an API
/// client without cookies; the status and the `Retry-After` header.
async fn attempt(app: &TestApp, email: &str, pw: &str, ip: &str) -> (Status, Option<String>) {
    let peer = std::net::SocketAddr::new(ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()), 40000);
    let resp = app
        .client
        .post("/api/v1/auth/login")
        .remote(peer)
        .header(ContentType::JSON)
        .body(json!({"email": email, "password": pw}).to_string())
        .dispatch()
        .await;
    (resp.status(), resp.headers().get_one("Retry-After").map(String::from))
}

db_test!(failures_from_elsewhere_never_keep_the_owner_out_and_the_wait_ends_by_itself, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    // The owner has signed in from 10.0.0.2 before.
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.2").await.0, Status::Ok);
    for _ in 0..5 {
        assert_eq!(attempt(&app, "a@test.se", "wrong password", "10.0.0.1").await.0, Status::Unauthorized);
    }
    // The guesser waits, told for how long; the wait grows with each failure and ends by itself.
    let (s, retry) = attempt(&app, "a@test.se", "wrong password", "10.0.0.1").await;
    assert_eq!((s, retry.as_deref()), (Status::TooManyRequests, Some("30")));
    // The owner, at once, from where they always sign in: the report cannot wait.
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.2").await.0, Status::Ok);
    // Many addresses do not each get their five: unknown addresses share a count for the account.
    for i in 3..8 {
        let _ = attempt(&app, "a@test.se", "wrong password", &format!("10.0.1.{i}")).await;
    }
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.9.9").await.0, Status::TooManyRequests);
    assert_eq!(
        attempt(&app, "a@test.se", PASSWORD, "10.0.0.2").await.0,
        Status::Ok,
        "the known address is never kept out"
    );
    app.clock().advance(Duration::seconds(31));
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.9.9").await.0, Status::Ok, "the wait ended by itself");
});

db_test!(the_owner_is_told_of_failed_attempts_at_the_next_login, |app| {
    app.user("a@test.se", Role::Staff, None, None, None);
    for _ in 0..3 {
        attempt(&app, "a@test.se", "wrong password", "10.0.0.1").await;
    }
    let (s, v) = app.post("/api/v1/auth/login", None, json!({"email": "a@test.se", "password": PASSWORD})).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["failed_logins"]["count"], 3, "{v}");
    assert!(v["failed_logins"]["last_at"].is_string());
    let (_, v) = app.post("/api/v1/auth/login", None, json!({"email": "a@test.se", "password": PASSWORD})).await;
    assert!(v["failed_logins"].is_null(), "told once: {v}");
});

db_test!(twenty_failures_from_one_address_block_it, |app| {
    app.user("a@test.se", Role::Admin, None, None, None);
    for i in 0..20 {
        assert_eq!(
            attempt(&app, &format!("nobody{i}@test.se"), "wrong password", "10.0.0.9").await.0,
            Status::Unauthorized
        );
    }
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.9").await.0, Status::TooManyRequests);
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.10").await.0, Status::Ok);
});

db_test!(successful_logins_from_one_address_are_not_limited, |app| {
    app.user("a@test.se", Role::Admin, None, None, None);
    for _ in 0..25 {
        assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.3").await.0, Status::Ok);
    }
});

db_test!(logout_clears_the_cookie, |app| {
    let resp = app
        .client
        .post("/api/v1/auth/logout")
        .cookie(rocket::http::Cookie::new("saknad_session", "x"))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NoContent);
    let c = resp.headers().get_one("Set-Cookie").unwrap_or("");
    assert!(c.starts_with("saknad_session=;") || c.contains("Max-Age=0"), "{c}");
});

db_test!(patch_me_sets_language, |app| {
    let t = app.admin().await;
    let (s, v) = app.patch("/api/v1/me", Some(&t), json!({"language": "en"})).await;
    assert_eq!((s, v["language"].as_str()), (Status::Ok, Some("en")));
    let (s, v) = app.patch("/api/v1/me", Some(&t), json!({"language": "de"})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(field(&v, "language").is_some());
});
