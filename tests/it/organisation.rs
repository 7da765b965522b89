use crate::common::*;
use crate::db_test;
use rocket::http::Status;
use saknad::domain::role::Role;
use serde_json::json;

db_test!(geography_is_seeded_for_every_user, |app| {
    app.user("sw@test.se", Role::SocialWorker, Some("14"), Some("1480"), None);
    let t = app.login("sw@test.se").await;
    let (s, v) = app.get("/api/v1/counties", Some(&t)).await;
    assert_eq!(s, Status::Ok);
    let list = v.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 21);
    assert_eq!(list[0], json!({"code": "01", "letter": "AB", "name": "Stockholms län"}));
    let letters: Vec<&str> = list.iter().filter_map(|c| c["letter"].as_str()).collect();
    assert_eq!(
        letters,
        ["AB", "C", "D", "E", "F", "G", "H", "I", "K", "M", "N", "O", "S", "T", "U", "W", "X", "Y", "Z", "AC", "BD"]
    );
    let mut total = 0;
    for c in &list {
        let (s, m) =
            app.get(&format!("/api/v1/counties/{}/municipalities", c["code"].as_str().unwrap_or("")), Some(&t)).await;
        assert_eq!(s, Status::Ok);
        total += m.as_array().map(Vec::len).unwrap_or(0);
    }
    assert_eq!(total, 290);
    let (_, vg) = app.get("/api/v1/counties/14/municipalities", Some(&t)).await;
    assert_eq!(vg.as_array().map(Vec::len), Some(49));
    assert!(vg.as_array().is_some_and(|a| a.contains(&json!({"code": "1480", "name": "Göteborg"}))));
    assert_eq!(app.get("/api/v1/counties/02/municipalities", Some(&t)).await.0, Status::NotFound);
    assert_eq!(app.get("/api/v1/counties", None).await.0, Status::Unauthorized);
    // Seeding again changes nothing.
    let again = saknad::db::seed::seed_geography(&mut app.conn()).expect("reseed");
    assert_eq!(again, (0, 0));
});

db_test!(county_contacts_by_admin_and_own_county_officer_only, |app| {
    let admin = app.admin().await;
    app.user("co@test.se", Role::CountyOfficer, Some("01"), None, None);
    app.user("co3@test.se", Role::CountyOfficer, Some("03"), None, None);
    app.user("sw@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    let (co, co3, sw) = (app.login("co@test.se").await, app.login("co3@test.se").await, app.login("sw@test.se").await);
    let body = json!({
        "police_email": "rlc@polisen.se", "police_fallback_email": "vakthavande@polisen.se",
        "migrationsverket_email": "mottagning@migrationsverket.se",
        "trafficking_coordinator_email": "nmt@lansstyrelsen.se", "county_email": "lst@lansstyrelsen.se"
    });
    let (s, v) = app.put("/api/v1/counties/01/contacts", Some(&admin), body.clone()).await;
    assert_eq!((s, v["police_email"].as_str()), (Status::Ok, Some("rlc@polisen.se")));
    let (s, _) = app.put("/api/v1/counties/01/contacts", Some(&co), body.clone()).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(app.put("/api/v1/counties/01/contacts", Some(&co3), body.clone()).await.0, Status::NotFound);
    let (s, v) = app.put("/api/v1/counties/01/contacts", Some(&sw), body.clone()).await;
    assert_eq!((s, code(&v)), (Status::Forbidden, "forbidden"));
    assert_eq!(app.put("/api/v1/counties/01/contacts", None, body.clone()).await.0, Status::Unauthorized);
    assert_eq!(app.put("/api/v1/counties/99/contacts", Some(&admin), body.clone()).await.0, Status::NotFound);
    let (s, v) = app
        .put("/api/v1/counties/01/contacts", Some(&admin), json!({"police_email": "not-an-email", "county_email": 5}))
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(field(&v, "police_email"), Some("not a valid email address"));
    assert_eq!(field(&v, "county_email"), Some("must be a string"));
    // A refused change changed nothing.
    let (s, v) = app.get("/api/v1/counties/01/contacts", Some(&sw)).await;
    assert_eq!((s, v["county_email"].as_str()), (Status::Ok, Some("lst@lansstyrelsen.se")));
});

db_test!(municipality_contacts_by_admin_and_own_social_worker, |app| {
    let admin = app.admin().await;
    app.user("sw@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    app.user("sw2@test.se", Role::SocialWorker, Some("01"), Some("0184"), None);
    let (sw, sw2) = (app.login("sw@test.se").await, app.login("sw2@test.se").await);
    let body = json!({"social_services_email": "soc@stockholm.se", "on_call_email": "jour@stockholm.se"});
    assert_eq!(app.put("/api/v1/municipalities/0180/contacts", Some(&sw), body.clone()).await.0, Status::Ok);
    assert_eq!(app.put("/api/v1/municipalities/0180/contacts", Some(&admin), body.clone()).await.0, Status::Ok);
    assert_eq!(app.put("/api/v1/municipalities/0180/contacts", Some(&sw2), body.clone()).await.0, Status::NotFound);
    assert_eq!(app.put("/api/v1/municipalities/9999/contacts", Some(&admin), body.clone()).await.0, Status::NotFound);
    let (s, v) = app.put("/api/v1/municipalities/0180/contacts", Some(&admin), json!({"on_call_email": "x@"})).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(field(&v, "social_services_email"), Some("required"));
    assert_eq!(field(&v, "on_call_email"), Some("not a valid email address"));
    let (_, v) = app.get("/api/v1/municipalities/0180/contacts", Some(&sw2)).await;
    assert_eq!(v, body);
});

db_test!(accommodations_are_created_by_admin_and_scoped, |app| {
    let admin = app.admin().await;
    let body = json!({"name": "HVB Eken", "kind": "hvb", "municipality_code": "0180", "phone": "+46 8 123 45", "email": "eken@hvb.se"});
    let (s, a) = app.post("/api/v1/accommodations", Some(&admin), body.clone()).await;
    assert_eq!(s, Status::Created, "{a}");
    assert_eq!((a["name"].as_str(), a["kind"].as_str()), (Some("HVB Eken"), Some("hvb")));
    let id = a["id"].as_i64().unwrap_or(0);
    let (s, other) = app
        .post("/api/v1/accommodations", Some(&admin), json!({"name": "Jourhem", "kind": "jourhem", "municipality_code": "0380", "phone": "018 12345", "email": "j@x.se"}))
        .await;
    assert_eq!(s, Status::Created);
    let (s, v) = app
        .post(
            "/api/v1/accommodations",
            Some(&admin),
            json!({"name": "", "kind": "hotel", "municipality_code": "9999", "phone": "call", "email": "no"}),
        )
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    for f in ["name", "kind", "phone", "email"] {
        assert!(field(&v, f).is_some(), "{f}: {v}");
    }
    let (s, v) = app
        .post(
            "/api/v1/accommodations",
            Some(&admin),
            json!({"name": "X", "kind": "hvb", "municipality_code": "9999", "phone": "08 123 45", "email": "a@b.se"}),
        )
        .await;
    assert_eq!((s, field(&v, "municipality_code")), (Status::UnprocessableEntity, Some("no such municipality")));

    app.user("sw@test.se", Role::SocialWorker, Some("01"), Some("0180"), None);
    app.user("co@test.se", Role::CountyOfficer, Some("03"), None, None);
    let (sw, co) = (app.login("sw@test.se").await, app.login("co@test.se").await);
    assert_eq!(app.post("/api/v1/accommodations", Some(&sw), body.clone()).await.0, Status::Forbidden);
    let (_, list) = app.get("/api/v1/accommodations", Some(&sw)).await;
    assert_eq!(list.as_array().map(|l| l.iter().map(|a| a["id"].clone()).collect::<Vec<_>>()), Some(vec![json!(id)]));
    let (_, list) = app.get("/api/v1/accommodations", Some(&co)).await;
    assert_eq!(list.as_array().map(|l| l.len()), Some(1));
    assert_eq!(list[0]["id"], other["id"]);
    assert_eq!(app.get(&format!("/api/v1/accommodations/{id}"), Some(&sw)).await.0, Status::Ok);
    assert_eq!(app.get(&format!("/api/v1/accommodations/{id}"), Some(&co)).await.0, Status::NotFound);
    assert_eq!(app.get("/api/v1/accommodations/abc", Some(&co)).await.0, Status::NotFound);
});

db_test!(users_need_the_scope_of_their_role, |app| {
    let admin = app.admin().await;
    let (_, acc) = app
        .post(
            "/api/v1/accommodations",
            Some(&admin),
            json!({"name": "HVB", "kind": "hvb", "municipality_code": "0184", "phone": "08 123 45", "email": "h@x.se"}),
        )
        .await;
    let acc_id = acc["id"].clone();
    // No password: the new user chooses one through the emailed link (separation of duties).
    let base = |email: &str, role: &str| json!({"email": email, "name": "N N", "role": role});
    let cases = [
        ("staff", "accommodation_id", json!(acc_id)),
        ("social_worker", "municipality_code", json!("0180")),
        ("county_officer", "county_code", json!("12")),
    ];
    for (role, scope, value) in cases {
        let (s, v) = app.post("/api/v1/users", Some(&admin), base(&format!("{role}@x.se"), role)).await;
        assert_eq!(s, Status::UnprocessableEntity, "{role}");
        assert_eq!(field(&v, scope), Some(format!("required for role {role}").as_str()));
        let mut b = base(&format!("{role}@x.se"), role);
        b[scope] = value;
        let (s, v) = app.post("/api/v1/users", Some(&admin), b).await;
        assert_eq!(s, Status::Created, "{role}: {v}");
        assert_eq!(v["role"], role);
        assert!(v.get("password_hash").is_none() && v.get("password").is_none());
    }
    let (_, staff) = app.get("/api/v1/users", Some(&admin)).await;
    let staff = staff.as_array().and_then(|l| l.iter().find(|u| u["role"] == "staff").cloned()).unwrap_or_default();
    assert_eq!((staff["municipality_code"].as_str(), staff["county_code"].as_str()), (Some("0184"), Some("01")));
    for role in ["national_analyst", "admin"] {
        assert_eq!(
            app.post("/api/v1/users", Some(&admin), base(&format!("{role}@x.se"), role)).await.0,
            Status::Created
        );
    }
    let (s, v) = app.post("/api/v1/users", Some(&admin), base("STAFF@x.se", "admin")).await;
    assert_eq!((s, field(&v, "email")), (Status::UnprocessableEntity, Some("already in use")));
    let (s, v) = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "z@x.se", "name": "Z", "password": "chosen by the admin 26", "role": "king", "municipality_code": "0000"}),
        )
        .await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(field(&v, "password"), Some("not accepted: the new user sets a password through the emailed link"));
    assert!(field(&v, "role").is_some_and(|r| r.starts_with("must be one of")));
    let mut b = base("sw9@x.se", "social_worker");
    b["municipality_code"] = json!("0000");
    let (s, v) = app.post("/api/v1/users", Some(&admin), b).await;
    assert_eq!((s, field(&v, "municipality_code")), (Status::UnprocessableEntity, Some("no such municipality")));
    app.user("sw.logged@x.se", saknad::domain::role::Role::SocialWorker, Some("01"), Some("0180"), None);
    let sw = app.login("sw.logged@x.se").await;
    assert_eq!(app.post("/api/v1/users", Some(&sw), base("q@x.se", "admin")).await.0, Status::Forbidden);
    assert_eq!(app.get("/api/v1/users", Some(&sw)).await.0, Status::Forbidden);
    assert_eq!(app.post("/api/v1/users", None, base("q@x.se", "admin")).await.0, Status::Unauthorized);
    assert_eq!(app.get("/api/v1/users/99999", Some(&admin)).await.0, Status::NotFound);
});
