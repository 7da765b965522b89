use crate::common::*;
use crate::db_test;
use diesel::prelude::*;
use rocket::http::{ContentType, Method, Status};
use saknad::db::schema::access_log;
use serde_json::json;

fn log_actions(app: &TestApp) -> Vec<String> {
    access_log::table.order(access_log::seq).select(access_log::action).load(&mut *app.conn()).unwrap_or_default()
}

db_test!(a_social_worker_registers_a_child_with_every_field, |app| {
    let w = World::new(&app).await;
    let (s, c) = app.get(&format!("/api/v1/children/{}", w.child), Some(&w.sw)).await;
    assert_eq!(s, Status::Ok);
    assert_eq!((c["given_name"].as_str(), c["family_name"].as_str()), (Some("Amir"), Some("Rahimi")));
    assert_eq!(c["aliases"], json!(["Ami"]));
    assert_eq!((c["date_of_birth"].as_str(), c["date_of_birth_estimated"].as_bool()), (Some("2010-03-14"), Some(true)));
    assert_eq!(c["turns_18_on"], "2028-03-14");
    assert_eq!((c["nationality"].as_str(), c["languages"].clone()), (Some("AF"), json!(["prs", "sv"])));
    assert_eq!(c["dossier_number"], "12-345678");
    assert_eq!(
        (c["responsible_municipality_code"].as_str(), c["accommodation_id"].as_i64()),
        (Some("0180"), Some(w.acc))
    );
    assert_eq!(c["guardian"]["email"], "greta@godman.se");
    assert_eq!(c["preparedness"]["height"], "165 cm");
    assert_eq!(c["social_worker"]["email"], "sw@x.se");
    assert_eq!(c["placements"].as_array().map(Vec::len), Some(1));
    assert_eq!((c["has_photo"].as_bool(), c["previous_episodes"].as_i64()), (Some(false), Some(0)));
    assert!(log_actions(&app).iter().any(|a| a == "child_read"));
    let (s, list) = app.get("/api/v1/children", Some(&w.staff)).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (Status::Ok, Some(1)));
    let (_, list) = app.get("/api/v1/children", Some(&w.staff_other)).await;
    assert_eq!(list, json!([]));
});

db_test!(every_child_validation_rule_names_its_field, |app| {
    let w = World::new(&app).await;
    let (s, v) = app.post("/api/v1/children", Some(&w.sw), json!({})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    for f in ["given_name", "family_name", "date_of_birth", "sex"] {
        assert_eq!(field(&v, f), Some("required"), "{f}");
    }
    let bad = json!({
        "given_name": 5, "family_name": "x".repeat(101), "date_of_birth": "2030-01-01", "sex": "boy",
        "nationality": "Afghanistan", "languages": ["Dari"], "responsible_municipality_code": "0184",
        "assigning_municipality_code": "9999", "aliases": "Ami",
        "guardian": {"email": "not-an-email", "language": "Swedish"}, "preparedness": {"height": {"cm": 165}}
    });
    let (s, v) = app.post("/api/v1/children", Some(&w.sw), bad).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(field(&v, "given_name"), Some("must be a string"));
    assert_eq!(field(&v, "family_name"), Some("at most 100 characters"));
    assert_eq!(field(&v, "date_of_birth"), Some("may not be in the future"));
    assert!(field(&v, "sex").is_some_and(|r| r.starts_with("must be one of")));
    assert!(field(&v, "nationality").is_some());
    assert!(field(&v, "languages").is_some());
    assert_eq!(field(&v, "aliases"), Some("must be a list"));
    assert_eq!(field(&v, "responsible_municipality_code"), Some("must be your own municipality"));
    assert!(
        field(&v, "assigning_municipality_code").is_none(),
        "format is fine, existence is checked once the rest is valid"
    );
    assert_eq!(field(&v, "guardian.email"), Some("not a valid email address"));
    assert!(field(&v, "guardian.language").is_some());
    assert!(field(&v, "preparedness.height").is_some());
    let mut adult = child_body(w.acc);
    adult["date_of_birth"] = json!("2000-01-01");
    let (s, v) = app.post("/api/v1/children", Some(&w.sw), adult).await;
    assert_eq!((s, field(&v, "date_of_birth")), (Status::UnprocessableEntity, Some("the child must be under 18")));
    let mut b = child_body(w.acc);
    b["assigning_municipality_code"] = json!("9999");
    b["accommodation_id"] = json!(99999);
    let (s, v) = app.post("/api/v1/children", Some(&w.sw), b).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(field(&v, "assigning_municipality_code"), Some("no such municipality"));
    // Nothing was written by the refused requests.
    let (_, list) = app.get("/api/v1/children", Some(&w.sw)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
});

db_test!(staff_edit_only_the_preparedness_sheet, |app| {
    let w = World::new(&app).await;
    let path = format!("/api/v1/children/{}", w.child);
    let (s, c) = app
        .patch(&path, Some(&w.staff), json!({"preparedness": {"hair": "shaved", "height": null, "eyes": "brown"}}))
        .await;
    assert_eq!(s, Status::Ok, "{c}");
    assert_eq!(c["preparedness"]["hair"], "shaved");
    assert_eq!(c["preparedness"]["eyes"], "brown");
    assert!(c["preparedness"].get("height").is_none());
    assert_eq!(c["preparedness"]["phone_numbers"], "070-111 22 33");
    let (s, _) = app.patch(&path, Some(&w.staff), json!({"given_name": "X", "preparedness": {}})).await;
    assert_eq!(s, Status::Forbidden);
    assert_eq!(
        app.patch(&path, Some(&w.staff_other), json!({"preparedness": {"hair": "x"}})).await.0,
        Status::NotFound
    );
    let (s, c) = app.patch(&path, Some(&w.sw), json!({"given_name": "Amin", "guardian": {"phone": "070-000"}})).await;
    assert_eq!(
        (s, c["given_name"].as_str(), c["guardian"]["phone"].as_str()),
        (Status::Ok, Some("Amin"), Some("070-000"))
    );
    assert_eq!(c["guardian"]["email"], "greta@godman.se");
    assert!(log_actions(&app).iter().any(|a| a == "preparedness_changed"));
});

db_test!(moving_a_child_closes_the_old_placement, |app| {
    let w = World::new(&app).await;
    let path = format!("/api/v1/children/{}", w.child);
    let (s, c) = app.patch(&path, Some(&w.sw), json!({"accommodation_id": w.acc_other})).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(c["accommodation_id"].as_i64(), Some(w.acc_other));
    let placements = c["placements"].as_array().cloned().unwrap_or_default();
    assert_eq!(placements.len(), 2);
    assert!(placements.iter().filter(|p| p["to"].is_null()).count() == 1);
    assert!(placements.iter().any(|p| p["accommodation_id"].as_i64() == Some(w.acc) && !p["to"].is_null()));
    assert_eq!(app.get(&path, Some(&w.staff)).await.0, Status::NotFound);
    assert_eq!(app.get(&path, Some(&w.staff_other)).await.0, Status::Ok);
    let (s, v) = app.patch(&path, Some(&w.sw), json!({"accommodation_id": 424242})).await;
    assert_eq!((s, field(&v, "accommodation_id")), (Status::UnprocessableEntity, Some("no such accommodation")));
});

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1];

async fn put_photo(app: &TestApp, token: &str, child: i64, bytes: Vec<u8>, ct: ContentType) -> Status {
    app.client
        .put(format!("/api/v1/children/{child}/photo"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
        .header(ct)
        .body(bytes)
        .dispatch()
        .await
        .status()
}

db_test!(photos_are_checked_by_content_and_every_view_is_logged, |app| {
    let w = World::new(&app).await;
    // A text file that claims to be a JPEG.
    let fake = b"GIF89a not really a jpeg".to_vec();
    assert_eq!(put_photo(&app, &w.staff, w.child, fake, ContentType::JPEG).await, Status::UnprocessableEntity);
    assert_eq!(put_photo(&app, &w.staff, w.child, PNG.to_vec(), ContentType::JPEG).await, Status::NoContent);
    assert_eq!(put_photo(&app, &w.staff_other, w.child, PNG.to_vec(), ContentType::PNG).await, Status::NotFound);
    let big = [PNG.to_vec(), vec![0u8; 5 * 1024 * 1024]].concat();
    assert_eq!(put_photo(&app, &w.sw, w.child, big, ContentType::PNG).await, Status::PayloadTooLarge);
    let resp = app
        .client
        .get(format!("/api/v1/children/{}/photo", w.child))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", w.sw)))
        .dispatch()
        .await;
    assert_eq!((resp.status(), resp.content_type()), (Status::Ok, Some(ContentType::PNG)));
    assert_eq!(resp.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(resp.into_bytes().await.unwrap_or_default(), PNG);
    assert_eq!(log_actions(&app).iter().filter(|a| *a == "photo_viewed").count(), 1);
    for t in [&w.staff_other, &w.sw_other] {
        assert_eq!(app.get(&format!("/api/v1/children/{}/photo", w.child), Some(t)).await.0, Status::NotFound);
    }
    for t in [&w.co, &w.admin, &w.analyst] {
        assert_eq!(app.get(&format!("/api/v1/children/{}/photo", w.child), Some(t)).await.0, Status::Forbidden);
    }
    // Path traversal and junk ids are just "not found".
    for p in
        ["/api/v1/children/..%2F..%2Fetc%2Fpasswd/photo", "/api/v1/children/1%00/photo", "/api/v1/children/-1/photo"]
    {
        assert_eq!(app.get(p, Some(&w.sw)).await.0, Status::NotFound, "{p}");
    }
    let (_, c) = app.get(&format!("/api/v1/children/{}", w.child), Some(&w.sw)).await;
    assert_eq!(c["has_photo"], true);
    let s = app.send(Method::Delete, &format!("/api/v1/children/{}/photo", w.child), Some(&w.sw), None, &[]).await.0;
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.get(&format!("/api/v1/children/{}/photo", w.child), Some(&w.sw)).await.0, Status::NotFound);
});

db_test!(the_preparedness_sheet_keeps_numbers_booleans_and_lists_as_given, |app| {
    let w = World::new(&app).await;
    let path = format!("/api/v1/children/{}", w.child);
    let sheet = json!({"height_cm": 172, "weight_kg": 61.5, "glasses": true,
                       "phones": ["+46 73 555 01 02", "+46 70 111 22 33"], "hair": "mörkt, kort"});
    let (s, c) = app.patch(&path, Some(&w.staff), json!({"preparedness": sheet})).await;
    assert_eq!(s, Status::Ok, "{c}");
    for (k, v) in sheet.as_object().into_iter().flatten() {
        assert_eq!(&c["preparedness"][k], v, "{k} comes back as given");
    }
    let (_, c) = app.get(&path, Some(&w.sw)).await;
    assert_eq!(c["preparedness"]["height_cm"], json!(172));
    assert_eq!(c["preparedness"]["phones"], json!(["+46 73 555 01 02", "+46 70 111 22 33"]));
    // null removes a field; the others stay.
    let (_, c) = app.patch(&path, Some(&w.staff), json!({"preparedness": {"glasses": null}})).await;
    assert!(c["preparedness"].get("glasses").is_none());
    assert_eq!(c["preparedness"]["weight_kg"], json!(61.5));
    // A new child takes the same values.
    let mut b = child_body(w.acc);
    b["preparedness"] = json!({"height_cm": 150, "phones": ["+46 1"]});
    let (s, c) = app.post("/api/v1/children", Some(&w.sw), b).await;
    assert_eq!((s, c["preparedness"]["height_cm"].clone()), (Status::Created, json!(150)));
});

db_test!(a_sheet_value_of_another_kind_is_refused_by_field_and_changes_nothing, |app| {
    let w = World::new(&app).await;
    let path = format!("/api/v1/children/{}", w.child);
    let (_, before) = app.get(&path, Some(&w.sw)).await;
    for (bad, name) in [
        (json!({"phones": [1, 2]}), "preparedness.phones"),
        (json!({"phones": [["+46"]]}), "preparedness.phones"),
        (json!({"height": {"cm": 172}}), "preparedness.height"),
        (json!({"Height": "172"}), "preparedness.Height"),
        (json!({"hair": "x".repeat(4001)}), "preparedness.hair"),
    ] {
        let (s, v) = app.patch(&path, Some(&w.staff), json!({"preparedness": bad, })).await;
        assert_eq!(s, Status::UnprocessableEntity, "{bad}");
        assert!(field(&v, name).is_some(), "{bad} → {v}");
    }
    let (s, v) = app.patch(&path, Some(&w.staff), json!({"preparedness": ["height"]})).await;
    assert_eq!((s, field(&v, "preparedness").is_some()), (Status::UnprocessableEntity, true));
    // A sheet that would grow past 40 fields is refused whole.
    let many: serde_json::Map<String, serde_json::Value> = (0..40u8)
        .map(|i| (format!("extra_{}{}", (b'a' + i / 26) as char, (b'a' + i % 26) as char), json!("v")))
        .collect();
    let (s, v) = app.patch(&path, Some(&w.staff), json!({"preparedness": many})).await;
    assert_eq!((s, field(&v, "preparedness")), (Status::UnprocessableEntity, Some("at most 40 fields")));
    let (_, after) = app.get(&path, Some(&w.sw)).await;
    assert_eq!(before["preparedness"], after["preparedness"], "nothing was stored");
});

/// The kinds of prompt for the world's child, as the given user sees them.
async fn prompt_kinds(app: &TestApp, token: &str, child: i64) -> Vec<String> {
    let (s, v) = app.get("/api/v1/worklist/prompts", Some(token)).await;
    assert_eq!(s, Status::Ok, "{v}");
    v.as_array()
        .map(|a| {
            a.iter().filter(|p| p["child_id"] == child).filter_map(|p| p["kind"].as_str().map(String::from)).collect()
        })
        .unwrap_or_default()
}

db_test!(prevention_prompts_follow_the_sheet_the_photo_a_move_a_decision_and_the_18th_birthday, |app| {
    app.clock().set(crate::cases::monday_10());
    let w = World::new(&app).await;
    let child = w.child;
    // Registered with a sheet just now, but no photo.
    assert_eq!(prompt_kinds(&app, &w.staff, child).await, ["photo_missing"]);
    app.put_photo(&w.staff, child).await;
    assert!(prompt_kinds(&app, &w.staff, child).await.is_empty());
    // 91 days later the sheet is due; going through it answers that, not the photo's age.
    app.clock().advance(chrono::Duration::days(91));
    let staff = app.login("staff@x.se").await;
    assert_eq!(prompt_kinds(&app, &staff, child).await, ["sheet_not_reviewed"]);
    let (s, v) = app.post(&format!("/api/v1/children/{child}/preparedness/reviewed"), Some(&staff), json!({})).await;
    assert_eq!(s, Status::Ok, "{v}");
    assert!(v["preparedness_reviewed_at"].is_string());
    assert!(prompt_kinds(&app, &staff, child).await.is_empty());
    app.clock().advance(chrono::Duration::days(100));
    let (staff, sw) = (app.login("staff@x.se").await, app.login("sw@x.se").await);
    assert_eq!(prompt_kinds(&app, &staff, child).await, ["sheet_not_reviewed", "photo_old"], "oldest first");
    app.put_photo(&staff, child).await;
    app.post(&format!("/api/v1/children/{child}/preparedness/reviewed"), Some(&staff), json!({})).await;
    // An asylum decision: recorded with a date and an outcome, it asks for a review.
    let today = crate::cases::local_today(&app);
    let (s, v) = app
        .patch(
            &format!("/api/v1/children/{child}"),
            Some(&sw),
            json!({"asylum_decision": {"date": today, "outcome": "maybe"}}),
        )
        .await;
    assert_eq!((s, field(&v, "asylum_decision.outcome").is_some()), (Status::UnprocessableEntity, true), "{v}");
    let (s, v) = app
        .patch(&format!("/api/v1/children/{child}"), Some(&sw), json!({"asylum_decision": {"outcome": "rejected"}}))
        .await;
    assert_eq!((s, field(&v, "asylum_decision.date")), (Status::UnprocessableEntity, Some("required")), "{v}");
    let (_, kid) = app.get(&format!("/api/v1/children/{child}"), Some(&sw)).await;
    assert!(kid["asylum_decision"].is_null(), "nothing stored");
    app.clock().advance(chrono::Duration::hours(1));
    let (s, v) = app
        .patch(
            &format!("/api/v1/children/{child}"),
            Some(&sw),
            json!({"asylum_decision": {"date": today, "outcome": "rejected"}}),
        )
        .await;
    assert_eq!(s, Status::Ok, "{v}");
    assert_eq!(v["asylum_decision"], json!({"date": today, "outcome": "rejected"}));
    assert_eq!(prompt_kinds(&app, &staff, child).await, ["asylum_decision"]);
    assert_eq!(prompt_kinds(&app, &sw, child).await, ["asylum_decision"], "the social worker sees it too");
    // Staff see the prompt by the child's name on the worklist page.
    let (s, page) = app.page("/worklist", &staff).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Amir Rahimi</a>: ett asylbeslut har kommit"), "{page}");
    // A rejection in the last 90 days is the push factor of the next report, known or not to the reporter.
    let (s, c) = app.post("/api/v1/cases", Some(&staff), report(&app, child, 5)).await;
    assert_eq!(s, Status::Created, "{c}");
    let (_, case) = app.get(&format!("/api/v1/cases/{}", c["id"]), Some(&sw)).await;
    assert!(case["risk_indicators"].to_string().contains("asylum_rejected_recently"), "{}", case["risk_indicators"]);
    // A move asks for a review with the child at the new accommodation.
    app.post(&format!("/api/v1/cases/{}/close", c["id"]), Some(&sw), json!({"reason": "withdrawn", "note": "x"})).await;
    app.post(&format!("/api/v1/children/{child}/preparedness/reviewed"), Some(&sw), json!({})).await;
    app.clock().advance(chrono::Duration::hours(1));
    let (s, _) =
        app.patch(&format!("/api/v1/children/{child}"), Some(&sw), json!({"accommodation_id": w.acc_other})).await;
    assert_eq!(s, Status::Ok);
    let staff_b = app.login("staff.b@x.se").await;
    assert_eq!(prompt_kinds(&app, &staff_b, child).await, ["placement_changed"]);
    assert!(prompt_kinds(&app, &staff, child).await.is_empty(), "the old accommodation no longer sees the child");
});

db_test!(the_month_before_the_18th_birthday_prompts_a_review_and_the_child_page_records_it, |app| {
    app.clock().set(crate::cases::monday_10());
    let w = World::new(&app).await;
    let mut b = child_body(w.acc);
    b["date_of_birth"] = json!("2009-01-15"); // 18 on 15 January 2027
    let (s, kid) = app.post("/api/v1/children", Some(&w.sw), b).await;
    assert_eq!(s, Status::Created, "{kid}");
    let id = kid["id"].as_i64().unwrap_or(0);
    app.put_photo(&w.sw, id).await;
    assert!(prompt_kinds(&app, &w.staff, id).await.is_empty(), "46 days before");
    app.clock().advance(chrono::Duration::days(20));
    let w = World { staff: app.login("staff@x.se").await, sw: app.login("sw@x.se").await, ..w };
    assert_eq!(prompt_kinds(&app, &w.staff, id).await, ["turning_18"]);
    let (s, page) = app.page(&format!("/children/{id}"), &w.staff).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("id=\"sheet-reviewed\">2026-11-30<"), "saved with the registration: {page}");
    app.clock().advance(chrono::Duration::minutes(5));
    let (s, _) = app.submit(&format!("/children/{id}/sheet/reviewed"), &w.staff, &[]).await;
    assert_eq!(s, Status::SeeOther);
    assert!(prompt_kinds(&app, &w.staff, id).await.is_empty());
    // The social worker records a decision on the page; a date in the future is refused at its field.
    let (s, _, html) = app
        .submit_page(
            &format!("/children/{id}/asylum-decision"),
            &w.sw,
            &[("date", "2027-01-01"), ("outcome", "granted")],
        )
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(
        html.contains("id=\"asylum_decision_date-error\"") && html.contains("href=\"#asylum_decision_date\""),
        "{html}"
    );
    assert!(html.contains("value=\"2027-01-01\""), "what was typed is kept");
    assert!(app.get(&format!("/api/v1/children/{id}"), Some(&w.sw)).await.1["asylum_decision"].is_null());
    let (s, _, _) = app
        .submit_page(
            &format!("/children/{id}/asylum-decision"),
            &w.sw,
            &[("date", "2026-12-18"), ("outcome", "granted")],
        )
        .await;
    assert_eq!(s, Status::SeeOther);
    let (_, page) = app.page(&format!("/children/{id}"), &w.sw).await;
    assert!(page.contains("uppehållstillstånd beviljat, 2026-12-18"), "{page}");
});

db_test!(names_are_stored_composed_and_invisible_or_reversing_characters_are_refused, |app| {
    let w = World::new(&app).await;
    for (bad, what) in [
        ("Amir\u{202E}imaR", "right-to-left override"),
        ("Am\u{200B}ir", "zero-width space"),
        ("\u{2066}Amir", "isolate"),
    ] {
        let mut b = child_body(w.acc);
        b["given_name"] = json!(bad);
        let (s, v) = app.post("/api/v1/children", Some(&w.sw), b).await;
        assert_eq!(s, Status::UnprocessableEntity, "{what}: {v}");
        assert_eq!(field(&v, "given_name"), Some("contains invisible or direction-changing characters"), "{what}");
    }
    let (_, list) = app.get("/api/v1/children", Some(&w.sw)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "nothing stored");
    // "é" typed as e + combining acute is stored as the one character, so a search finds it.
    let mut b = child_body(w.acc);
    b["family_name"] = json!("Rene\u{0301}");
    b["given_name"] = json!("Dari\u{200C}name"); // the zero-width non-joiner of Persian spelling stays
    let (s, v) = app.post("/api/v1/children", Some(&w.sw), b).await;
    assert_eq!(s, Status::Created, "{v}");
    assert_eq!((v["family_name"].as_str(), v["given_name"].as_str()), (Some("Ren\u{00E9}"), Some("Dari\u{200C}name")));
});
