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
    let cookie = resp.headers().get_one("Set-Cookie").unwrap_or("").to_string();
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
    let other = saknad::auth::token::Keys::new("some-other-secret-some-other-secret-1234");
    let id = app.user("a@test.se", Role::Admin, None, None, None);
    let (forged, _) = other.issue(id, "stamp", app.clock().now()).unwrap_or_default();
    let (s, _) = app.get("/api/v1/me", Some(&forged)).await;
    assert_eq!(s, Status::Unauthorized);
    // A valid signature with a wrong stamp (e.g. an old token) is refused too.
    let (stale, _) = app.state().keys.issue(id, "old-stamp", app.clock().now()).unwrap_or_default();
    let (s, _) = app.get("/api/v1/me", Some(&stale)).await;
    assert_eq!(s, Status::Unauthorized);
});

db_test!(token_expires_after_eight_hours, |app| {
    let token = app.admin().await;
    app.clock().advance(Duration::hours(7) + Duration::minutes(59));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Ok);
    app.clock().advance(Duration::minutes(2));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, Status::Unauthorized);
});

db_test!(password_change_revokes_every_token, |app| {
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

db_test!(deactivation_and_admin_reset_revoke_tokens, |app| {
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
    let (s, _) = app
        .post(&format!("/api/v1/users/{id}/password"), Some(&admin), json!({"password": "reset by the admin"}))
        .await;
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.0, Status::Unauthorized);
});

/// A login attempt from the client address `ip` (the TCP peer: no proxy is trusted in tests).
async fn attempt(app: &TestApp, email: &str, pw: &str, ip: &str) -> Status {
    let peer = std::net::SocketAddr::new(ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()), 40000);
    app.client
        .post("/api/v1/auth/login")
        .remote(peer)
        .header(ContentType::JSON)
        .body(json!({"email": email, "password": pw}).to_string())
        .dispatch()
        .await
        .status()
}

db_test!(five_failures_lock_the_account_for_fifteen_minutes, |app| {
    app.user("a@test.se", Role::Admin, None, None, None);
    for _ in 0..5 {
        assert_eq!(attempt(&app, "a@test.se", "wrong password", "10.0.0.1").await, Status::Unauthorized);
    }
    // Even the right password, even from another address, waits for the window.
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.2").await, Status::TooManyRequests);
    let (s, v) = app.post("/api/v1/auth/login", None, json!({"email": "a@test.se", "password": PASSWORD})).await;
    assert_eq!((s, code(&v)), (Status::TooManyRequests, "rate_limited"));
    app.clock().advance(Duration::minutes(15));
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.2").await, Status::Ok);
});

db_test!(twenty_failures_from_one_address_block_it, |app| {
    app.user("a@test.se", Role::Admin, None, None, None);
    for i in 0..20 {
        assert_eq!(
            attempt(&app, &format!("nobody{i}@test.se"), "wrong password", "10.0.0.9").await,
            Status::Unauthorized
        );
    }
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.9").await, Status::TooManyRequests);
    assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.10").await, Status::Ok);
});

db_test!(successful_logins_from_one_address_are_not_limited, |app| {
    app.user("a@test.se", Role::Admin, None, None, None);
    for _ in 0..25 {
        assert_eq!(attempt(&app, "a@test.se", PASSWORD, "10.0.0.3").await, Status::Ok);
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
