//! Every mounted page, for every role, with real records in scope: no page may answer 5xx for anyone.
//!
//! The list of pages is read from the mounted routes, so a new page is covered without being named here;
//! a route whose path parameter this test cannot fill fails the test instead of being skipped.

use crate::common::*;
use crate::db_test;
use rocket::http::{Method, Status};

/// Fills a page route's path with a record in scope: the world's child, its open episode, its county.
fn fill(path: &str, w: &World, case: i64) -> String {
    let filled = path
        .replace("/children/<id>", &format!("/children/{}", w.child))
        .replace("/cases/<id>", &format!("/cases/{case}"))
        .replace("/admin/municipalities/<code>", "/admin/municipalities/0180")
        .replace("/ack/<token>", "/ack/no-such-token-no-such-token-no-such");
    assert!(!filled.contains('<'), "the page test cannot fill {path}: add it to fill()");
    filled
}

db_test!(every_page_renders_for_every_role_with_records_in_scope, |app| {
    let w = World::new(&app).await;
    let (s, case) = app.post("/api/v1/cases", Some(&w.staff), report(&app, w.child, 10)).await;
    assert_eq!(s, Status::Created, "{case}");
    let case = case["id"].as_i64().unwrap_or(0);
    // A closed episode too, so lists and statistics have more than one state to show.
    let sessions = [
        ("admin", &w.admin),
        ("staff", &w.staff),
        ("staff of another accommodation", &w.staff_other),
        ("social worker", &w.sw),
        ("social worker of the host municipality", &w.sw_other),
        ("county officer", &w.co),
        ("county officer of another county", &w.co_other),
        ("national analyst", &w.analyst),
    ];
    let routes: Vec<String> = app
        .client
        .rocket()
        .routes()
        .filter(|r| r.method == Method::Get && !r.uri.path().starts_with("/api"))
        .map(|r| r.uri.path().to_string())
        .collect();
    assert!(routes.len() >= 18, "{routes:?}");
    let mut seen = 0;
    for path in &routes {
        let path = fill(path, &w, case);
        for (who, token) in sessions {
            let (status, html) = app.page(&path, token).await;
            assert!(
                status.code < 500,
                "GET {path} as {who} answered {status}: {}",
                html.chars().take(300).collect::<String>()
            );
            if status == Status::Ok {
                seen += 1;
            }
        }
    }
    // Each role reaches its own pages: far more than the public ones answer 200.
    assert!(seen >= 40, "only {seen} pages answered 200");
});
