//! Server-side checks of the web pages: CSRF on every form, security headers, login redirects, language.

use crate::common::*;
use crate::db_test;
use rocket::http::{ContentType, Cookie, Method, Status};

db_test!(every_form_refuses_a_missing_or_wrong_csrf_token, |app| {
    let w = World::new(&app).await;
    let posts: Vec<String> = app
        .client
        .rocket()
        .routes()
        .filter(|r| r.method == Method::Post && !r.uri.path().starts_with("/api") && !r.uri.path().starts_with("/ack/"))
        .map(|r| {
            r.uri
                .path()
                .replace("<id>", &w.child.to_string())
                .replace("<key>", "police_report")
                .replace("<what>", "complete")
                .replace("<code>", "0180")
                .replace("<county>", "01")
                .replace("<token>", "no-such-token-no-such-token-no-such-token")
        })
        .collect();
    assert!(posts.len() >= 20, "{posts:?}");
    for path in &posts {
        for query in ["", "?csrf=forged-token-forged-token-forged-token"] {
            let resp = app
                .client
                .post(format!("{path}{query}"))
                .cookie(Cookie::new(saknad::auth::SESSION_COOKIE, w.sw.clone()))
                .cookie(Cookie::new("saknad_csrf", "the-real-token-the-real-token-the-real"))
                .header(ContentType::Form)
                .body("name=x&reason=withdrawn&close_note=x&email=a%40b.se&password=aaaaaaaaaaaaaaaa")
                .dispatch()
                .await;
            assert_eq!(resp.status(), Status::Forbidden, "POST {path}{query}");
        }
    }
    // With the matching token the language switch goes through.
    let resp = app
        .client
        .post("/language?csrf=the-real-token-the-real-token-the-real")
        .cookie(Cookie::new("saknad_csrf", "the-real-token-the-real-token-the-real"))
        .header(ContentType::Form)
        .body("lang=en")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
});

db_test!(pages_send_security_headers_and_redirect_to_login, |app| {
    let resp = app.client.get("/children").dispatch().await;
    assert_eq!((resp.status(), resp.headers().get_one("Location")), (Status::SeeOther, Some("/login")));
    let resp = app.client.get("/login").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    let h = resp.headers();
    let csp = h.get_one("Content-Security-Policy").unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(h.get_one("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(h.get_one("Referrer-Policy"), Some("no-referrer"));
    let html = resp.into_string().await.unwrap_or_default();
    assert!(html.contains("<html lang=\"sv\"") && html.contains("<label for=\"email\">"));
    // The one script is same-origin and deferred (it only moves focus to an error summary): no inline script.
    let scripts: Vec<&str> =
        html.match_indices("<script").map(|(i, _)| &html[i..html[i..].find('>').map_or(i, |e| i + e)]).collect();
    assert!(scripts.iter().all(|s| s.contains("src=\"/static/app.js\"")), "{scripts:?}");
    // 403 and 404 pages are pages in the same style, not JSON.
    let admin = app.admin().await;
    let resp = app.client.get("/children").cookie(Cookie::new(saknad::auth::SESSION_COOKIE, admin)).dispatch().await;
    assert_eq!((resp.status(), resp.content_type()), (Status::Forbidden, Some(ContentType::HTML)));
    assert!(resp.into_string().await.unwrap_or_default().contains("Ingen behörighet"));
    let resp = app.client.get("/no/such/page").dispatch().await;
    assert!(resp.into_string().await.unwrap_or_default().contains("Sidan finns inte"));
});

db_test!(a_wrong_password_on_the_login_page_is_shown_next_to_the_field, |app| {
    app.admin().await;
    let resp = app
        .client
        .post("/login?csrf=tok-tok-tok-tok-tok-tok-tok-tok-tok-tok")
        .cookie(Cookie::new("saknad_csrf", "tok-tok-tok-tok-tok-tok-tok-tok-tok-tok"))
        .header(ContentType::Form)
        .body("email=admin%40test.se&password=wrong+wrong+wrong")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Unauthorized);
    let html = resp.into_string().await.unwrap_or_default();
    assert!(
        html.contains("error-summary")
            && html.contains("Fel e-post eller lösenord.")
            && html.contains("aria-invalid=\"true\"")
    );
});

db_test!(saving_the_sheet_form_keeps_untouched_numbers_and_lists, |app| {
    let w = World::new(&app).await;
    let path = format!("/api/v1/children/{}", w.child);
    let sheet = serde_json::json!({"height": 172, "phone_numbers": ["070-111 22 33", "073-555 01 02"], "hair": "kort"});
    assert_eq!(app.patch(&path, Some(&w.staff), serde_json::json!({"preparedness": sheet})).await.0, Status::Ok);
    let (s, html) = app.page(&format!("/children/{}", w.child), &w.staff).await;
    assert_eq!(s, Status::Ok);
    assert!(html.contains("172") && html.contains("073-555 01 02"), "the sheet shows every value as text");
    let (s, _) = app
        .submit(
            &format!("/children/{}/sheet", w.child),
            &w.staff,
            &[("height", "172"), ("phone_numbers", "070-111 22 33\r\n073-555 01 02"), ("hair", "lång")],
        )
        .await;
    assert_eq!(s, Status::SeeOther);
    let (_, c) = app.get(&path, Some(&w.sw)).await;
    assert_eq!(c["preparedness"]["height"], serde_json::json!(172));
    assert_eq!(c["preparedness"]["phone_numbers"], serde_json::json!(["070-111 22 33", "073-555 01 02"]));
    assert_eq!(c["preparedness"]["hair"], "lång");
});

db_test!(the_language_switch_returns_to_the_same_page_and_a_choice_before_login_is_kept, |app| {
    let w = World::new(&app).await;
    const CSRF: &str = "the-real-token-the-real-token-the-real";
    let switch = |back: &str, session: Option<&str>| {
        let mut req = app
            .client
            .post(format!("/language?csrf={CSRF}"))
            .cookie(Cookie::new("saknad_csrf", CSRF))
            .header(ContentType::Form)
            .body(format!("lang=en&back={}", urlencode(back)));
        if let Some(s) = session {
            req = req.cookie(Cookie::new(saknad::auth::SESSION_COOKIE, s.to_string()));
        }
        req
    };
    let resp = switch(&format!("/children/{}", w.child), Some(&w.sw)).dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(format!("/children/{}", w.child).as_str()), "same page");
    let (_, html) = app.page(&format!("/children/{}", w.child), &w.sw).await;
    assert!(html.contains("lang=\"en\""), "the account keeps the choice");
    for elsewhere in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"] {
        let resp = switch(elsewhere, None).dispatch().await;
        assert_eq!(resp.headers().get_one("Location"), Some("/"), "{elsewhere} is not followed");
    }
    // Before signing in: English chosen on the login page stays English after login.
    let resp = switch("/login", None).dispatch().await;
    assert_eq!(resp.headers().get_one("Location"), Some("/login"));
    let resp = app
        .client
        .post(format!("/login?csrf={CSRF}"))
        .cookie(Cookie::new("saknad_csrf", CSRF))
        .cookie(Cookie::new("saknad_lang", "en"))
        .header(ContentType::Form)
        .body(format!("email={}&password={}", urlencode("staff@x.se"), urlencode(PASSWORD)))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let token = app.login("staff@x.se").await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me["language"], "en", "{me}");
});
