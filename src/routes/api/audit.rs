use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::audit::{self, Verification};
use rocket::serde::json::Json;
use rocket::State;

/// Recompute the access-log hash chain (admin) and report the first broken entry.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/audit/verify")]
pub async fn get_audit_verify(st: &State<AppState>, user: AuthUser) -> AppResult<Json<Verification>> {
    user.require(&[Role::Admin])?;
    st.db.run(|c| audit::verify(c).map_err(AppError::from)).await.map(Json)
}
