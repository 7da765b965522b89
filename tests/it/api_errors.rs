use crate::common::*;
use crate::db_test;
use rocket::http::{ContentType, Method, Status};
use serde_json::json;

db_test!(malformed_and_non_object_bodies_are_400_json, |app| {
    let t = app.admin().await;
    for body in ["{not json", "[1,2]", "\"str\"", ""] {
        let (s, v) = app.send(Method::Post, "/api/v1/users", Some(&t), Some(body.to_string()), &[]).await;
        assert_eq!((s, code(&v)), (Status::BadRequest, "bad_request"), "{body}");
    }
});

db_test!(unknown_routes_and_methods_answer_json_under_api, |app| {
    let (s, v) = app.get("/api/v1/no/such/route", None).await;
    assert_eq!((s, code(&v)), (Status::NotFound, "not_found"));
    let resp = app.client.delete("/api/v1/counties").dispatch().await;
    assert_eq!(resp.content_type(), Some(ContentType::JSON));
    let resp = app.client.get("/no-such-page").dispatch().await;
    assert_eq!(resp.status(), Status::NotFound);
    assert_eq!(resp.content_type(), Some(ContentType::HTML));
});

db_test!(oversized_body_is_413_and_a_megabyte_is_accepted, |app| {
    let t = app.admin().await;
    let big = json!({"name": "x".repeat(3 * 1024 * 1024)}).to_string();
    let (s, v) = app.send(Method::Patch, "/api/v1/me", Some(&t), Some(big), &[]).await;
    assert_eq!((s, code(&v)), (Status::PayloadTooLarge, "payload_too_large"));
    let mib = json!({"language": "sv", "padding": "y".repeat(1024 * 1024)}).to_string();
    let (s, v) = app.send(Method::Patch, "/api/v1/me", Some(&t), Some(mib), &[]).await;
    assert_eq!(s, Status::Ok, "{v}");
});

db_test!(health_reports_the_database, |app| {
    let (s, v) = app.get("/health", None).await;
    assert_eq!((s, v), (Status::Ok, json!({"status": "ok", "database": "ok"})));
});

db_test!(openapi_documents_every_api_route, |app| {
    let (s, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, Status::Ok);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for route in app.client.rocket().routes() {
        let uri = route.uri.path().to_string();
        if !uri.starts_with("/api/") && uri != "/health" {
            continue;
        }
        // Rocket writes `<id>`, OpenAPI `{id}`.
        let openapi_path = uri.replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(
            paths.get(&openapi_path).and_then(|p| p.get(&method)).is_some(),
            "{} {} is mounted but not in openapi.json",
            route.method,
            openapi_path
        );
    }
    // A code type is documented by its codes, as the API answers them ("missing", not "Missing").
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Status"]["enum"], serde_json::json!(["missing", "found", "closed"]), "{}", schemas["Status"]);
    assert_eq!(schemas["StepStatus"]["enum"], serde_json::json!(["pending", "done", "skipped"]));
});
