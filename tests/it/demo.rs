use crate::common::*;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::json;

#[rocket::async_test]
async fn demo_mode_seeds_a_county_once_and_its_logins_work() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    for round in 0..2 {
        let figment = test_figment(&url, dir.path()).merge(("demo", true));
        let rocket = saknad::build(figment).expect("build");
        let client = Client::untracked(rocket).await.expect("client");
        let login = |email: &str| {
            let client = &client;
            let body = json!({"email": email, "password": saknad::demo::DEMO_PASSWORD}).to_string();
            async move {
                let resp = client
                    .post("/api/v1/auth/login")
                    .header(rocket::http::ContentType::JSON)
                    .body(body)
                    .dispatch()
                    .await;
                read(resp).await
            }
        };
        let (s, v) = login("socialsekreterare@demo.saknad.se").await;
        assert_eq!(s, Status::Ok, "round {round}: {v}");
        let token = v["token"].as_str().unwrap_or_default().to_string();
        let resp = client
            .get("/api/v1/children")
            .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await;
        let (_, kids) = read(resp).await;
        assert_eq!(kids.as_array().map(Vec::len), Some(3), "round {round}");
        for email in [
            "admin@demo.saknad.se",
            "personal@demo.saknad.se",
            "lansstyrelsen@demo.saknad.se",
            "analytiker@demo.saknad.se",
        ] {
            assert_eq!(login(email).await.0, Status::Ok, "{email}");
        }
    }
}
