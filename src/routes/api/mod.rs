//! The JSON API under `/api/v1` (API.md), and its OpenAPI document.

pub mod ack;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod children;
pub mod docs;
pub mod org;
pub mod routines;
pub mod stats;
pub mod users;
pub mod worklist;

use crate::app::AppError;
use crate::auth::AuthUser;
use crate::state::AppState;
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Route};

/// A signed-in API caller: the shared state and the authenticated user, taken once for every handler.
pub struct Api<'r> {
    pub st: &'r AppState,
    pub user: AuthUser,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Api<'r> {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let user = match AuthUser::from_request(req).await {
            Outcome::Success(u) => u,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        match req.rocket().state::<AppState>() {
            Some(st) => Outcome::Success(Api { st, user }),
            None => Outcome::Error((rocket::http::Status::InternalServerError, AppError::internal())),
        }
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        auth::post_login,
        auth::post_logout,
        auth::get_me,
        auth::patch_me,
        auth::post_me_password,
        auth::get_my_sessions,
        auth::delete_my_sessions,
        auth::delete_my_session,
        auth::get_my_mfa,
        auth::post_my_mfa,
        auth::post_my_mfa_confirm,
        auth::post_my_mfa_verify,
        auth::post_my_recovery_codes,
        org::get_counties,
        org::get_municipalities,
        org::get_county_contacts,
        org::put_county_contacts,
        org::get_allowed_domains,
        org::put_allowed_domains,
        org::get_municipality_contacts,
        org::put_municipality_contacts,
        org::post_accommodation,
        org::get_accommodations,
        org::get_accommodation,
        users::post_user,
        users::get_users,
        users::get_user,
        users::patch_user,
        users::post_user_password,
        users::post_user_mfa_reset,
        audit::get_audit_verify,
        children::post_child,
        children::get_children,
        children::get_child,
        children::patch_child,
        children::get_child_photo,
        children::put_child_photo,
        children::delete_child_photo,
        children::post_sheet_reviewed,
        cases::post_case,
        cases::get_cases,
        cases::get_case,
        cases::post_step_complete,
        cases::post_step_skip,
        cases::post_risk_assessment,
        cases::post_case_found,
        cases::post_case_addition,
        cases::post_return_conversation,
        cases::post_case_close,
        worklist::get_worklist,
        worklist::get_prompts,
        worklist::get_case_compliance,
        worklist::post_case_extend,
        routines::get_routine,
        routines::put_routine,
        routines::get_routine_versions,
        routines::get_routine_version,
        stats::get_county_stats,
        stats::get_county_stats_csv,
        stats::get_national_stats,
        stats::get_access_log,
        docs::get_openapi,
        ack::post_api_ack,
    ]
}
