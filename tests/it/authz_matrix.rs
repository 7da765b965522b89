//! The authorisation matrix: every API endpoint × every role × in and
//! out of scope. The rule table is checked against Rocket's route list, so an endpoint added without a
//! rule here fails this test.

use crate::common::*;
use crate::db_test;
use rocket::http::{Method, Status};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Allowed: the request reaches the domain (2xx, or 409/422 because of the episode's state).
    A,
    /// 403: the role may never do this.
    F,
    /// 404: out of scope, answered like a missing record.
    N,
    /// 422 on the referenced child: out of scope in a body reference.
    R,
}
use Expect::*;

const LABELS: [&str; 8] = ["staff", "staff_other", "sw", "sw_other", "co", "co_other", "admin", "analyst"];

struct Rule {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    expect: [Expect; 8],
}

fn rules_for_personal_data() -> Vec<Rule> {
    let r = |method, path, body, expect| Rule { method, path, body, expect };
    vec![
        r(Method::Get, "/api/v1/children", None, [A, A, A, A, F, F, F, F]),
        r(Method::Post, "/api/v1/children", Some("child"), [F, F, A, A, F, F, F, F]),
        r(Method::Get, "/api/v1/children/<id>", None, [A, N, A, N, F, F, F, F]),
        r(
            Method::Patch,
            "/api/v1/children/<id>",
            Some(r#"{"preparedness":{"eyes":"brown"}}"#),
            [A, N, A, N, F, F, F, F],
        ),
        r(Method::Put, "/api/v1/children/<id>/photo", Some("png"), [A, N, A, N, F, F, F, F]),
        r(Method::Get, "/api/v1/children/<id>/photo", None, [A, N, A, N, F, F, F, F]),
        r(Method::Delete, "/api/v1/children/<id>/photo", None, [A, N, A, N, F, F, F, F]),
        r(Method::Post, "/api/v1/children/<id>/preparedness/reviewed", Some("{}"), [A, N, A, N, F, F, F, F]),
        r(Method::Post, "/api/v1/cases", Some("report"), [A, R, A, R, F, F, F, F]),
        r(Method::Get, "/api/v1/cases", None, [A, A, A, A, A, A, F, F]),
        r(Method::Get, "/api/v1/cases/<id>", None, [A, N, A, N, A, N, F, F]),
        r(
            Method::Post,
            "/api/v1/cases/<id>/steps/<key>/complete",
            Some(r#"{"police_reference":"5000-K1-26"}"#),
            [A, N, A, N, F, F, F, F],
        ),
        r(
            Method::Post,
            "/api/v1/cases/<id>/steps/<key>/skip",
            Some(r#"{"reason":"handled"}"#),
            [F, N, A, N, F, F, F, F],
        ),
        r(
            Method::Post,
            "/api/v1/cases/<id>/risk-assessments",
            Some(r#"{"level":"high","note":"why"}"#),
            [F, N, A, N, F, F, F, F],
        ),
        r(Method::Post, "/api/v1/cases/<id>/found", Some("{}"), [A, N, A, N, F, F, F, F]),
        r(
            Method::Post,
            "/api/v1/cases/<id>/additions",
            Some(r#"{"field":"other","text":"x"}"#),
            [A, N, A, N, F, F, F, F],
        ),
        r(
            Method::Post,
            "/api/v1/cases/<id>/return-conversation",
            Some(r#"{"outcome":"declined"}"#),
            [F, N, A, N, F, F, F, F],
        ),
        r(Method::Get, "/api/v1/cases/<id>/compliance", None, [A, N, A, N, A, N, F, F]),
        r(Method::Post, "/api/v1/cases/<id>/extend", Some(r#"{"reason":"still searching"}"#), [F, N, A, N, F, F, F, F]),
        r(
            Method::Post,
            "/api/v1/cases/<id>/close",
            Some(r#"{"reason":"withdrawn","note":"error"}"#),
            [F, N, A, N, F, F, F, F],
        ),
    ]
}

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];

db_test!(every_personal_data_endpoint_by_role_and_scope, |app| {
    app.clock().set(crate::cases::monday_10());
    let w = World::new(&app).await;
    let (s, case) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created);
    let case_id = case["id"].as_i64().unwrap_or(0);
    let rules = rules_for_personal_data();
    // Every mounted children/cases route has a rule.
    for route in app.client.rocket().routes() {
        let p = route.uri.path().to_string();
        if p.starts_with("/api/v1/children") || p.starts_with("/api/v1/cases") {
            assert!(
                rules.iter().any(|r| r.method == route.method && r.path == p),
                "no authorisation rule for {} {p}",
                route.method
            );
        }
    }
    let tokens = [&w.staff, &w.staff_other, &w.sw, &w.sw_other, &w.co, &w.co_other, &w.admin, &w.analyst];
    for rule in &rules {
        let key = if rule.path.ends_with("skip") { "review_7d" } else { "police_report" };
        let path = rule
            .path
            .replace("/children/<id>", &format!("/children/{}", w.child))
            .replace("<id>", &case_id.to_string())
            .replace("<key>", key);
        for (i, token) in tokens.iter().enumerate() {
            if rule.method == Method::Delete || (rule.method == Method::Get && rule.path.ends_with("photo")) {
                let put = app
                    .client
                    .put(format!("/api/v1/children/{}/photo", w.child))
                    .header(rocket::http::Header::new("Authorization", format!("Bearer {}", w.sw)))
                    .body(PNG)
                    .dispatch()
                    .await;
                assert_eq!(put.status(), Status::NoContent);
            }
            let body = match rule.body {
                Some("child") => Some(child_body(w.acc).to_string()),
                Some("report") => Some(report(&app, w.child, 5).to_string()),
                Some("png") => None,
                Some(b) => Some(b.to_string()),
                None => None,
            };
            let (status, v) = if rule.body == Some("png") {
                let resp = app
                    .client
                    .put(path.clone())
                    .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
                    .body(PNG)
                    .dispatch()
                    .await;
                read(resp).await
            } else {
                app.send(rule.method, &path, Some(token), body, &[]).await
            };
            let label = LABELS[i];
            let ok = match rule.expect[i] {
                A => ![401, 403, 404].contains(&status.code) && status.code < 500,
                F => status == Status::Forbidden,
                N => status == Status::NotFound,
                R => status == Status::UnprocessableEntity && field(&v, "child_id") == Some("no such child"),
            };
            assert!(ok, "{} {} as {label}: expected {:?}, got {status} {v}", rule.method, rule.path, rule.expect[i]);
            // Without a token nothing is ever served.
            if i == 0 {
                let (s, _) = app
                    .send(rule.method, &path, None, rule.body.filter(|b| b.starts_with('{')).map(String::from), &[])
                    .await;
                assert_eq!(s, Status::Unauthorized, "{} {} without a token", rule.method, rule.path);
            }
        }
    }
});

/// Public endpoints: no token needed, any caller; must never fail with a server error.
const PUBLIC: [(&str, &str); 5] = [
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/ack/<token>"),
    ("GET", "/health"),
];

fn org_rules() -> Vec<Rule> {
    let r = |method, path, body, expect| Rule { method, path, body, expect };
    let all = [A, A, A, A, A, A, A, A];
    let admin_only = [F, F, F, F, F, F, A, F];
    vec![
        r(Method::Get, "/api/v1/me", None, all),
        r(Method::Patch, "/api/v1/me", Some(r#"{"language":"sv"}"#), all),
        r(
            Method::Post,
            "/api/v1/me/password",
            Some(r#"{"current_password":"not it at all","new_password":"another long password"}"#),
            all,
        ),
        r(Method::Get, "/api/v1/counties", None, all),
        r(Method::Get, "/api/v1/counties/<code>/municipalities", None, all),
        r(Method::Get, "/api/v1/counties/<code>/contacts", None, all),
        r(
            Method::Put,
            "/api/v1/counties/<code>/contacts",
            Some(r#"{"police_email":"p@x.se","county_email":"c@x.se"}"#),
            [F, F, F, F, A, N, A, F],
        ),
        r(Method::Get, "/api/v1/municipalities/<code>/contacts", None, all),
        r(
            Method::Put,
            "/api/v1/municipalities/<code>/contacts",
            Some(r#"{"social_services_email":"s@x.se"}"#),
            [F, F, A, N, F, F, A, F],
        ),
        r(
            Method::Post,
            "/api/v1/accommodations",
            Some(r#"{"name":"N","kind":"hvb","municipality_code":"0180","phone":"08 123 45","email":"a@x.se"}"#),
            admin_only,
        ),
        r(Method::Get, "/api/v1/accommodations", None, all),
        r(Method::Get, "/api/v1/accommodations/<id>", None, [A, N, A, N, A, N, A, A]),
        r(Method::Post, "/api/v1/users", Some("user"), admin_only),
        r(Method::Get, "/api/v1/users", None, admin_only),
        r(Method::Get, "/api/v1/users/<id>", None, admin_only),
        r(Method::Patch, "/api/v1/users/<id>", Some(r#"{"name":"Renamed"}"#), admin_only),
        r(Method::Post, "/api/v1/users/<id>/password", Some("{}"), admin_only),
        r(Method::Post, "/api/v1/users/<id>/mfa/reset", None, admin_only),
        r(Method::Get, "/api/v1/me/sessions", None, all),
        r(Method::Delete, "/api/v1/me/sessions/<id>", None, [N, N, N, N, N, N, N, N]),
        r(Method::Get, "/api/v1/me/mfa", None, all),
        r(Method::Post, "/api/v1/me/mfa", None, all),
        r(Method::Post, "/api/v1/me/mfa/confirm", Some(r#"{"code":"000000"}"#), all),
        r(Method::Post, "/api/v1/me/mfa/verify", Some(r#"{"code":"000000"}"#), all),
        r(Method::Post, "/api/v1/me/mfa/recovery-codes", None, all),
        r(Method::Get, "/api/v1/counties/<code>/allowed-domains", None, [F, F, F, F, A, N, A, F]),
        r(
            Method::Put,
            "/api/v1/counties/<code>/allowed-domains",
            Some(r#"{"domains":["x.se","polisen.se","lst.se","stockholm.se","godman.se","migrationsverket.se"]}"#),
            [F, F, F, F, F, F, A, F],
        ),
        r(Method::Get, "/api/v1/audit/verify", None, admin_only),
        r(Method::Get, "/api/v1/worklist", None, [A, A, A, A, F, F, F, F]),
        r(Method::Get, "/api/v1/worklist/prompts", None, [A, A, A, A, F, F, F, F]),
        r(Method::Get, "/api/v1/counties/<code>/routine", None, all),
        r(Method::Put, "/api/v1/counties/<code>/routine", Some("routine"), [F, F, F, F, A, N, F, F]),
        r(Method::Get, "/api/v1/counties/<code>/routine/versions", None, all),
        r(Method::Get, "/api/v1/counties/<code>/routine/versions/<version>", None, all),
        r(Method::Get, "/api/v1/counties/<code>/stats", None, [F, F, F, F, A, N, F, A]),
        r(Method::Get, "/api/v1/counties/<code>/stats.csv", None, [F, F, F, F, A, N, F, A]),
        r(Method::Get, "/api/v1/stats", None, [F, F, F, F, F, F, F, A]),
        r(Method::Get, "/api/v1/counties/<code>/access-log", None, [F, F, F, F, A, N, F, F]),
        // Last: logging out everywhere ends the sessions the rules above use.
        r(Method::Delete, "/api/v1/me/sessions", None, all),
    ]
}

db_test!(every_other_api_endpoint_by_role_and_scope, |app| {
    let w = World::new(&app).await;
    let spare = app.user("spare@x.se", saknad::domain::role::Role::NationalAnalyst, None, None, None);
    let (_, routine) = app.get("/api/v1/counties/01/routine", Some(&w.co)).await;
    let rules = org_rules();
    let personal = rules_for_personal_data();
    // Every mounted API route has a rule in one of the tables, or is public.
    for route in app.client.rocket().routes() {
        let p = route.uri.path().to_string();
        if !p.starts_with("/api/") {
            continue;
        }
        let known = rules.iter().chain(personal.iter()).any(|r| r.method == route.method && r.path == p)
            || PUBLIC.iter().any(|(m, path)| *m == route.method.as_str() && *path == p);
        assert!(known, "no authorisation rule for {} {p}", route.method);
    }
    let tokens = [&w.staff, &w.staff_other, &w.sw, &w.sw_other, &w.co, &w.co_other, &w.admin, &w.analyst];
    let mut n = 0;
    for rule in &rules {
        let code = if rule.path.starts_with("/api/v1/municipalities") { "0180" } else { "01" };
        let id = if rule.path.starts_with("/api/v1/users") { spare } else { w.acc };
        let path = rule.path.replace("<code>", code).replace("<id>", &id.to_string()).replace("<version>", "1");
        for (i, token) in tokens.iter().enumerate() {
            n += 1;
            let body = match rule.body {
                Some("user") => Some(
                    serde_json::json!({"email": format!("u{n}@x.se"), "name": "U", "role": "national_analyst"})
                        .to_string(),
                ),
                Some("routine") => Some(routine.to_string()),
                Some(b) => Some(b.to_string()),
                None => None,
            };
            let (status, v) = app.send(rule.method, &path, Some(token), body, &[]).await;
            let ok = match rule.expect[i] {
                A => ![401, 403, 404].contains(&status.code) && status.code < 500,
                F => status == Status::Forbidden,
                N => status == Status::NotFound,
                R => status == Status::UnprocessableEntity,
            };
            assert!(
                ok,
                "{} {} as {}: expected {:?}, got {status} {v}",
                rule.method, rule.path, LABELS[i], rule.expect[i]
            );
            if i == 0 {
                let (s, _) = app.send(rule.method, &path, None, None, &[]).await;
                assert_eq!(s, Status::Unauthorized, "{} {} without a token", rule.method, rule.path);
            }
        }
    }
});
