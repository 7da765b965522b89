use crate::state::AppState;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

/// Liveness and database reachability.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, description = "up, database reachable"), (status = 503, description = "database unreachable")))]
#[rocket::get("/health")]
pub async fn get_health(st: &State<AppState>) -> (Status, Json<Value>) {
    let ok = st.db.run(|c| crate::db::ping(c).map_err(crate::db::DbError::from)).await.is_ok();
    if ok {
        (Status::Ok, Json(json!({"status": "ok", "database": "ok"})))
    } else {
        (Status::ServiceUnavailable, Json(json!({"status": "degraded", "database": "unreachable"})))
    }
}
