//! Every form that takes a person's input, submitted as a browser would: with valid data it is stored and
//! the next page answers 2xx; with one invalid field the page comes back with the error at that field,
//! in the page's language, and nothing is stored.

use crate::common::*;
use crate::db_test;
use diesel::prelude::*;
use rocket::http::Status;
use saknad::db::schema::{accommodations, children, counties, episodes, municipalities, users};

/// A form case: where it is posted, as whom, the valid fields, and the one field to spoil with its value.
struct Case<'a> {
    path: String,
    token: &'a str,
    valid: Vec<(&'a str, &'a str)>,
    spoil: (&'a str, &'a str),
}

/// The field's error paragraph as the form macros render it (`id="FIELD-error"`).
fn error_at(html: &str, field: &str) -> bool {
    html.contains(&format!("id=\"{field}-error\""))
}

async fn check<T: PartialEq + std::fmt::Debug>(app: &TestApp, case: Case<'_>, stored: impl Fn(&TestApp) -> T) {
    let before = stored(app);
    let mut spoiled = case.valid.clone();
    spoiled.retain(|(k, _)| *k != case.spoil.0);
    spoiled.push(case.spoil);
    let (status, _, html) = app.submit_page(&case.path, case.token, &spoiled).await;
    assert_eq!(status, Status::UnprocessableEntity, "POST {} with a bad {}", case.path, case.spoil.0);
    assert!(error_at(&html, case.spoil.0), "POST {}: no error at {}: {html}", case.path, case.spoil.0);
    assert!(html.contains("lang=\"sv\""), "the error page is in the page's language");
    assert!(html.contains("<title>Fel:"), "POST {}: the title says there is an error", case.path);
    let codes = crate::pages::visible_codes(&html);
    assert!(codes.is_empty(), "POST {}: the refused page shows codes {codes:?}", case.path);
    assert_eq!(stored(app), before, "POST {} with a bad {} stored something", case.path, case.spoil.0);
    let (status, location, html) = app.submit_page(&case.path, case.token, &case.valid).await;
    assert!(status.code < 400, "POST {} with valid data answered {status}: {html}", case.path);
    assert_ne!(stored(app), before, "POST {} with valid data stored nothing", case.path);
    if let Some(next) = location {
        let (s, _) = app.page(&next, case.token).await;
        assert!(s.code < 400, "the page after POST {} ({next}) answered {s}", case.path);
    }
}

db_test!(every_input_form_stores_valid_data_and_refuses_a_bad_field_at_the_field, |app| {
    let w = World::new(&app).await;
    let acc = w.acc.to_string();
    let count_children = |a: &TestApp| children::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    check(
        &app,
        Case {
            path: "/children/new".into(),
            token: &w.sw,
            valid: vec![
                ("given_name", "Omid"),
                ("family_name", "Karimi"),
                ("date_of_birth", "2011-05-02"),
                ("sex", "male"),
                ("nationality", "AF"),
                ("languages", "prs, sv"),
                ("accommodation_id", &acc),
                ("guardian_name", "Greta Godman"),
                ("guardian_email", "greta@godman.se"),
            ],
            spoil: ("date_of_birth", "2030-01-01"),
        },
        count_children,
    )
    .await;
    let count_users = |a: &TestApp| users::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    check(
        &app,
        Case {
            path: "/admin/users".into(),
            token: &w.admin,
            valid: vec![
                ("email", "ny@stockholm.se"),
                ("name", "Ny Handläggare"),
                ("role", "social_worker"),
                ("municipality_code", "0180"),
            ],
            spoil: ("email", "not-an-email"),
        },
        count_users,
    )
    .await;
    let count_accs = |a: &TestApp| accommodations::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    check(
        &app,
        Case {
            path: "/admin/accommodations".into(),
            token: &w.admin,
            valid: vec![
                ("name", "Stödboende C"),
                ("kind", "stodboende"),
                ("municipality_code", "0180"),
                ("phone", "08-555 123"),
                ("email", "c@boende.se"),
            ],
            spoil: ("municipality_code", "12"),
        },
        count_accs,
    )
    .await;
    let police = |a: &TestApp| {
        let q = counties::table.filter(counties::code.eq("01")).select(counties::police_email);
        q.first::<Option<String>>(&mut *a.conn()).ok().flatten()
    };
    check(
        &app,
        Case {
            path: "/contacts".into(),
            token: &w.co,
            valid: vec![
                ("police_email", "rlc.stockholm@polisen.se"),
                ("police_fallback_email", "vakthavande@polisen.se"),
                ("migrationsverket_email", "mottagning@migrationsverket.se"),
                ("trafficking_coordinator_email", "nmt@lst.se"),
                ("county_email", "lst@lst.se"),
            ],
            spoil: ("police_email", "polisen"),
        },
        police,
    )
    .await;
    // How messages travel: a mode that does not exist is refused at its select.
    let guardian_mode = |a: &TestApp| {
        let q = counties::table.filter(counties::code.eq("01")).select(counties::guardian_delivery);
        q.first::<Option<String>>(&mut *a.conn()).ok().flatten()
    };
    check(
        &app,
        Case {
            path: "/contacts".into(),
            token: &w.co,
            valid: vec![
                ("police_email", "rlc.stockholm@polisen.se"),
                ("county_email", "lst@lst.se"),
                ("police_delivery", "full"),
                ("guardian_delivery", "full"),
            ],
            spoil: ("guardian_delivery", "encrypted"),
        },
        guardian_mode,
    )
    .await;
    let on_call = |a: &TestApp| {
        let q = municipalities::table.filter(municipalities::code.eq("0180")).select(municipalities::on_call_email);
        q.first::<Option<String>>(&mut *a.conn()).ok().flatten()
    };
    check(
        &app,
        Case {
            path: "/admin/municipalities/0180".into(),
            token: &w.admin,
            valid: vec![("social_services_email", "soc@stockholm.se"), ("on_call_email", "socialjour@stockholm.se")],
            spoil: ("on_call_email", "jour"),
        },
        on_call,
    )
    .await;
    let count_cases = |a: &TestApp| episodes::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    let now = saknad::domain::calendar::to_local(app.clock().now());
    let discovered = (now - chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M").to_string();
    let seen = (now - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M").to_string();
    let future = (now + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M").to_string();
    check(
        &app,
        Case {
            path: format!("/children/{}/report", w.child),
            token: &w.staff,
            valid: vec![
                ("discovered_at", &discovered),
                ("last_seen_at", &seen),
                ("last_seen_place", "Centralstationen"),
                ("clothing", "röd jacka"),
            ],
            spoil: ("discovered_at", &future),
        },
        count_cases,
    )
    .await;
    // The admin's allowed email domains of a county.
    let domains = |a: &TestApp| {
        counties::table
            .find("01")
            .select(counties::allowed_email_domains)
            .first::<String>(&mut *a.conn())
            .unwrap_or_default()
    };
    check(
        &app,
        Case {
            path: "/admin/domains/01".into(),
            token: &w.admin,
            valid: vec![("domains", "polisen.se\nlst.se\nx.se\nstockholm.se\nmigrationsverket.se\ngodman.se")],
            spoil: ("domains", "polisen.se\nnot a domain"),
        },
        domains,
    )
    .await;
});

// The page and the API decode into the same command and run the same use case, so the same bad input is
// refused for the same reasons, field by field (the page says them in its language), and neither stores anything.
db_test!(the_page_and_the_api_refuse_the_same_input_for_the_same_reasons, |app| {
    let w = World::new(&app).await;
    let count = |a: &TestApp| accommodations::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    let before = count(&app);
    let fields =
        [("name", "Nytt boende"), ("kind", "castle"), ("municipality_code", "12"), ("phone", "abc"), ("email", "nope")];
    let body: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
    let (s, v) = app.post("/api/v1/accommodations", Some(&w.admin), serde_json::Value::Object(body)).await;
    assert_eq!(s, Status::UnprocessableEntity);
    let (ps, _, html) = app.submit_page("/admin/accommodations", &w.admin, &fields).await;
    assert_eq!(ps, Status::UnprocessableEntity);
    for f in ["kind", "municipality_code", "phone", "email"] {
        let reason = field(&v, f).unwrap_or_else(|| panic!("the API names {f}: {v}"));
        assert!(error_at(&html, f), "the page shows an error at {f}");
        let shown = saknad::i18n::reason("sv", reason);
        assert_ne!(shown, reason, "{f}: the page's language, not the API's English");
        assert!(
            html.contains(&shown.replace('&', "&amp;")),
            "the page gives the API's reason for {f} in Swedish: {shown}"
        );
    }
    assert!(field(&v, "name").is_none(), "a good field is not refused");
    assert_eq!(count(&app), before, "nothing stored");
});

db_test!(the_routine_editor_saves_its_rows_with_a_new_step_and_refuses_a_bad_deadline_at_its_cell, |app| {
    use saknad::db::schema::routine_versions;
    use saknad::domain::deadline::pick;
    let w = World::new(&app).await;
    let versions = |a: &TestApp| routine_versions::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    let (s, html) = app.page("/routine", &w.co).await;
    assert_eq!(s, Status::Ok);
    let codes = crate::pages::visible_codes(&html);
    assert!(codes.is_empty() && !html.contains(">PT1H<"), "no code is shown: {codes:?}");
    assert!(html.contains("<option value=\"hours\" selected>timmar</option>"), "durations are a number and a unit");
    // Every card of the current routine as the editor shows it, and the blank card filled in as a new step:
    // durations as a number and a unit, a new step without a key.
    let steps = saknad::domain::routine::national_default().steps;
    let mut rows: Vec<(String, String)> =
        vec![("review_period_n".into(), "3".into()), ("review_period_unit".into(), "months".into())];
    let dur = |rows: &mut Vec<(String, String)>, name: String, d: Option<&String>| {
        let (n, unit) = d.and_then(|d| pick(d)).map(|(n, u)| (n.to_string(), u)).unwrap_or_default();
        rows.push((format!("{name}_n"), n));
        rows.push((format!("{name}_unit"), if unit.is_empty() { "hours".into() } else { unit.into() }));
    };
    for (i, s) in steps.iter().enumerate() {
        for (col, v) in [
            ("key", &s.key),
            ("title_sv", &s.title_sv),
            ("title_en", &s.title_en),
            ("responsible", &s.responsible),
            ("phase", &s.phase),
            ("condition", &s.condition),
        ] {
            rows.push((format!("steps[{i}].{col}"), v.clone()));
        }
        // The police step's deadline shortened to 45 minutes, the last step removed.
        let deadline = if s.key == "police_report" { "PT45M".to_string() } else { s.deadline.clone() };
        dur(&mut rows, format!("steps[{i}].deadline"), Some(&deadline));
        dur(&mut rows, format!("steps[{i}].high_risk"), s.high_risk_deadline.as_ref());
        dur(&mut rows, format!("steps[{i}].ack"), s.ack_window.as_ref());
        if s.required {
            rows.push((format!("steps[{i}].required"), "true".into()));
        }
        if i == steps.len() - 1 {
            rows.push((format!("steps[{i}].remove"), "true".into()));
        }
    }
    let n = steps.len();
    for (col, v) in [
        ("title_sv", "Uppföljande samtal"),
        ("title_en", "Follow-up call"),
        ("responsible", "social_worker"),
        ("phase", "found"),
        ("condition", "always"),
        ("deadline_n", "2"),
        ("deadline_unit", "days"),
    ] {
        rows.push((format!("steps[{n}].{col}"), v.into()));
    }
    rows.push(("note".into(), "Kortare tid till polisen enligt länets beslut".into()));
    let before = versions(&app);
    let mut spoiled = rows.clone();
    if let Some(d) = spoiled.iter_mut().find(|(k, _)| *k == format!("steps[{n}].deadline_n")) {
        d.1 = "snart".into();
    }
    let (s, _, html) = app.submit_page("/routine", &w.co, &as_refs(&spoiled)).await;
    assert_eq!(s, Status::UnprocessableEntity, "{html}");
    assert!(error_at(&html, &format!("steps_{n}__deadline")), "the error stands at the new card's deadline: {html}");
    assert!(html.contains(&format!("href=\"#steps_{n}__deadline\"")), "the summary links to that input");
    assert!(html.contains("Ange ett heltal"), "in the page's language");
    assert!(html.contains("value=\"snart\""), "what was typed is shown again");
    assert_eq!(versions(&app), before, "a refused routine stores nothing");
    let (s, location, html) = app.submit_page("/routine", &w.co, &as_refs(&rows)).await;
    assert!(s.code < 400, "{s}: {html}");
    assert_eq!(versions(&app), before + 1);
    let (s, body) = app.get("/api/v1/counties/01/routine", Some(&w.co)).await;
    assert_eq!(s, Status::Ok);
    let all = body["steps"].as_array().cloned().unwrap_or_default();
    let added = all.iter().find(|s| s["title_sv"] == "Uppföljande samtal").cloned().unwrap_or_default();
    assert_eq!(added["key"], "uppfoljande_samtal", "a new step's key is made from its title");
    assert_eq!(added["anchor"], "found", "a new found-phase step is anchored on found");
    assert_eq!(added["deadline"], "P2D");
    assert_eq!(all[1]["deadline"], "PT45M");
    assert!(!all.iter().any(|s| s["key"] == steps[n - 1].key.as_str()), "the removed step is gone");
    assert_eq!(
        body["steps"][0]["guidance_sv"],
        steps[0].guidance_sv.as_str(),
        "guidance kept from the current version"
    );
    let (_, html) = app.page(location.as_deref().unwrap_or("/routine"), &w.co).await;
    for said in [
        "Kortare tid till polisen enligt länets beslut",
        "Nytt steg: Uppföljande samtal",
        &format!("Borttaget steg: {}", steps[n - 1].title_sv),
        &format!("{}: Tidsgräns 1 timme → 45 minuter", steps[1].title_sv),
        "Första versionen",
    ] {
        assert!(html.contains(said), "the version history says {said:?}: {html}");
    }
});

db_test!(a_child_is_registered_with_nationality_and_languages_by_their_names, |app| {
    use saknad::db::schema::children;
    let w = World::new(&app).await;
    let (s, html) = app.page("/children/new", &w.sw).await;
    assert_eq!(s, Status::Ok);
    assert!(html.contains("<option value=\"AF\">Afghanistan</option>"), "nationality is picked by name");
    assert!(html.contains("<option value=\"dari\">"), "languages are suggested by name");
    assert!(!html.contains("ISO"), "no code system is named to the user");
    let acc = w.acc.to_string();
    let form = |languages: &'static str| {
        vec![
            ("given_name", "Omid"),
            ("family_name", "Karimi"),
            ("date_of_birth", "2011-05-02"),
            ("sex", "male"),
            ("nationality", "ER"),
            ("languages", languages),
            ("guardian_language", "en"),
        ]
    };
    let count = |a: &TestApp| children::table.count().get_result::<i64>(&mut *a.conn()).unwrap_or(-1);
    let before = count(&app);
    let mut bad = form("tigrinja, klingonska språket");
    bad.push(("accommodation_id", &acc));
    let (s, _, html) = app.submit_page("/children/new", &w.sw, &bad).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(error_at(&html, "languages") && html.contains("Skriv språken med namn"), "{html}");
    assert!(html.contains("value=\"tigrinja, klingonska språket\""), "what was typed is kept");
    assert_eq!(count(&app), before, "nothing stored");
    let mut good = form("Tigrinja, arabiska");
    good.push(("accommodation_id", &acc));
    let (s, location, html) = app.submit_page("/children/new", &w.sw, &good).await;
    assert!(s.code < 400, "{s}: {html}");
    let (_, child) = app.get(&format!("/api/v1{}", location.clone().unwrap_or_default()), Some(&w.sw)).await;
    assert_eq!(child["languages"], serde_json::json!(["ti", "ar"]), "stored as codes: {child}");
    assert_eq!(child["nationality"], "ER");
    let (_, page) = app.page(&location.unwrap_or_default(), &w.sw).await;
    assert!(page.contains("Eritrea") && page.contains("tigrinja, arabiska"), "read as names: {page}");
});

fn as_refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}
