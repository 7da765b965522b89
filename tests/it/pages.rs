//! Every mounted page, for every role, with real records in scope: no page may answer 5xx for anyone.
//!
//! The list of pages is read from the mounted routes, so a new page is covered without being named here;
//! a route whose path parameter this test cannot fill fails the test instead of being skipped.

use crate::common::*;
use crate::db_test;
use rocket::http::{Method, Status};

/// Fills a page route's path with a record in scope: the world's child, its open episode, its county.
fn fill(path: &str, w: &World, case: i64, link: &str) -> String {
    let filled = path
        .replace("/children/<id>", &format!("/children/{}", w.child))
        .replace("/set-password/<token>", &format!("/set-password/{link}"))
        .replace("/login/oidc/<provider>", "/login/oidc/no-such-provider")
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
    // A set-password link, as a new account's owner gets it.
    let spare = app.user("new@x.se", saknad::domain::role::Role::Staff, Some("01"), Some("0180"), Some(w.acc));
    let secret = app.state().settings.jwt_secret.clone();
    let row = saknad::store::links::create(
        &mut app.conn(),
        secret.as_bytes(),
        spare,
        saknad::store::links::SET_PASSWORD,
        app.clock().now() + chrono::Duration::hours(1),
        app.clock().now(),
    )
    .expect("link");
    let link = saknad::store::links::token(secret.as_bytes(), &row.purpose, &row.nonce);
    app.user("jour@x.se", saknad::domain::role::Role::OnCall, Some("01"), Some("0180,0184"), None);
    let jour = app.login("jour@x.se").await;
    // A closed episode too, so lists and statistics have more than one state to show.
    let sessions = [
        ("socialjour", &jour),
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
    let mut codes = Vec::new();
    for path in &routes {
        let path = fill(path, &w, case, &link);
        for (who, token) in sessions {
            let (status, html) = app.page(&path, token).await;
            assert!(
                status.code < 500,
                "GET {path} as {who} answered {status}: {}",
                html.chars().take(300).collect::<String>()
            );
            if status == Status::Ok {
                seen += 1;
                for code in visible_codes(&html) {
                    codes.push(format!("GET {path} as {who}: {code}"));
                }
            }
        }
    }
    // Each role reaches its own pages: far more than the public ones answer 200.
    assert!(seen >= 40, "only {seen} pages answered 200");
    codes.sort();
    codes.dedup();
    assert!(codes.is_empty(), "a person sees codes:\n{}", codes.join("\n"));
});

/// The `snake_case` words in what a person reads on a page: the text between tags, and the attributes that
/// are read out or shown (`title`, `aria-label`, `placeholder`, `alt`, `value` of buttons is not used here).
pub fn visible_codes(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = html;
    // Leave out what is not shown: scripts, styles and the inline SVG's own markup (its text is kept).
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        text.push(' ');
        let after = &rest[lt..];
        let skip_to = if after.starts_with("<script") {
            after.find("</script>").map(|i| i + 9)
        } else if after.starts_with("<style") {
            after.find("</style>").map(|i| i + 8)
        } else {
            after.find('>').map(|i| i + 1)
        };
        let tag_end = skip_to.unwrap_or(after.len());
        for attr in ["title=\"", "aria-label=\"", "placeholder=\"", "alt=\""] {
            if let Some(i) = after[..tag_end].find(attr) {
                let v = &after[i + attr.len()..tag_end];
                text.push_str(&v[..v.find('"').unwrap_or(v.len())]);
                text.push(' ');
            }
        }
        rest = &after[tag_end..];
    }
    text.push_str(rest);
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.contains('_') && w.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()))
        .filter(|w| w.len() > 2 && !w.starts_with('_') && !w.ends_with('_'))
        .map(str::to_string)
        .collect()
}

db_test!(after_reporting_staff_are_told_to_call_the_police_and_can_record_the_reference, |app| {
    let w = World::new(&app).await;
    let local = saknad::domain::calendar::to_local(app.clock().now() - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let fields = [
        ("discovered_at", local.as_str()),
        ("last_seen_at", local.as_str()),
        ("clothing", "röd jacka"),
        ("last_seen_place", "Centralstationen"),
        ("risk_indicators[]", "substance_misuse"),
    ];
    let (s, location, html) = app.submit_page(&format!("/children/{}/report", w.child), &w.staff, &fields).await;
    assert!(s.code < 400, "{s}: {html}");
    let location = location.unwrap_or_default();
    assert!(location.ends_with("/reported"), "the report ends on the confirmation page, not {location}");
    let (s, page) = app.page(&location, &w.staff).await;
    assert_eq!(s, Status::Ok, "{page}");
    // First what to do: call the police, 112 in acute danger, otherwise 114 14.
    let call = page.find("Ring polisen nu").unwrap_or(usize::MAX);
    let sheet = page.find("Att läsa upp för polisen").unwrap_or(0);
    assert!(call < sheet, "the call comes before the read-aloud sheet");
    assert!(page.contains("href=\"tel:112\"") && page.contains("href=\"tel:11414\""), "tel: links");
    // The sheet in the police's order, with what was reported and labels instead of codes.
    let order = ["Identitet", "Signalement", "Klädsel", "Senast sedd", "Risk", "Kontakter och platser"];
    let at: Vec<usize> = order.iter().map(|h| page.find(&format!("<h3>{h}</h3>")).unwrap_or(usize::MAX)).collect();
    assert!(at.windows(2).all(|p| p[0] < p[1]), "sections in the order the police ask: {at:?}");
    assert!(page.contains("röd jacka") && page.contains("Centralstationen") && page.contains("missbruk"));
    assert!(crate::pages::visible_codes(&page).is_empty(), "{:?}", crate::pages::visible_codes(&page));
    assert!(!page.contains("http-equiv=\"refresh\""), "the page never reloads itself");
    // The reference given on the phone completes the police step.
    let case = location.trim_end_matches("/reported").rsplit('/').next().unwrap_or("0").to_string();
    let (s, _) = app
        .submit(&format!("/cases/{case}/steps/police_report/complete"), &w.staff, &[("police_reference", "K-12345-26")])
        .await;
    assert!(s.code < 400, "{s}");
    let (_, case_json) = app.get(&format!("/api/v1/cases/{case}"), Some(&w.sw)).await;
    assert_eq!(case_json["police_reference"], "K-12345-26");
    let (_, page) = app.page(&location, &w.staff).await;
    assert!(page.contains("K-12345-26") && !page.contains("id=\"police-reference-form\""), "recorded, no form");
    let (_, case_page) = app.page(&format!("/cases/{case}"), &w.staff).await;
    assert!(!case_page.contains("http-equiv=\"refresh\""), "the case page never reloads itself");
    // The report's details stay visible on the case page, and only to those who may read them.
    assert!(case_page.contains("id=\"report-details\"") && case_page.contains("röd jacka"), "report details shown");
    let (_, pseudonymised) = app.page(&format!("/cases/{case}"), &w.co).await;
    assert!(!pseudonymised.contains("report-details") && !pseudonymised.contains("röd jacka"), "not to the county");
    // A refused action comes back as an error, in Swedish, with the steps by their titles.
    const CSRF: &str = "form-test-token-form-test-token-form-test";
    let resp = app
        .client
        .post(format!("/cases/{case}/close?csrf={CSRF}"))
        .cookie(rocket::http::Cookie::new(saknad::auth::SESSION_COOKIE, w.sw.clone()))
        .cookie(rocket::http::Cookie::new("saknad_csrf", CSRF))
        .header(rocket::http::ContentType::Form)
        .body("reason=returned")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let flash = resp.cookies().get("_flash").map(|c| c.value().to_string()).unwrap_or_default();
    let refused = app
        .client
        .get(format!("/cases/{case}"))
        .cookie(rocket::http::Cookie::new(saknad::auth::SESSION_COOKIE, w.sw.clone()))
        .cookie(rocket::http::Cookie::new("_flash", flash))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default();
    assert!(refused.contains("class=\"error-summary\"") && refused.contains("role=\"alert\""), "shown as an error");
    assert!(refused.contains("Barnet måste ha påträffats"), "in Swedish");
    assert!(crate::pages::visible_codes(&refused).is_empty(), "{:?}", crate::pages::visible_codes(&refused));
});
