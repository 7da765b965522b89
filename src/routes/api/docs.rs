//! The OpenAPI 3 document, generated from the handlers' annotations. A test checks that every mounted
//! API route appears here, so a new endpoint cannot be left out.

use rocket::serde::json::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Saknad API", description = "Reporting and follow-up when an unaccompanied child disappears from care."),
    paths(
        crate::routes::health::get_health,
        super::auth::post_login,
        super::auth::post_logout,
        super::auth::get_me,
        super::auth::patch_me,
        super::auth::post_me_password,
        super::auth::get_my_sessions,
        super::auth::delete_my_sessions,
        super::auth::delete_my_session,
        super::auth::get_my_mfa,
        super::auth::post_my_mfa,
        super::auth::post_my_mfa_confirm,
        super::auth::post_my_mfa_verify,
        super::auth::post_my_recovery_codes,
        super::org::get_counties,
        super::org::get_municipalities,
        super::org::get_county_contacts,
        super::org::put_county_contacts,
        super::org::get_allowed_domains,
        super::org::put_allowed_domains,
        super::org::get_municipality_contacts,
        super::org::put_municipality_contacts,
        super::org::post_accommodation,
        super::org::get_accommodations,
        super::org::get_accommodation,
        super::users::post_user,
        super::users::get_users,
        super::users::get_user,
        super::users::patch_user,
        super::users::post_user_password,
        super::users::post_user_mfa_reset,
        super::audit::get_audit_verify,
        super::children::post_child,
        super::children::get_children,
        super::children::get_child,
        super::children::patch_child,
        super::children::get_child_photo,
        super::children::put_child_photo,
        super::children::delete_child_photo,
        super::children::post_sheet_reviewed,
        super::cases::post_case,
        super::cases::get_cases,
        super::cases::get_case,
        super::cases::post_step_complete,
        super::cases::post_step_skip,
        super::cases::post_risk_assessment,
        super::cases::post_case_found,
        super::cases::post_case_addition,
        super::cases::post_return_conversation,
        super::cases::post_case_close,
        super::worklist::get_worklist,
        super::worklist::get_prompts,
        super::worklist::get_case_compliance,
        super::worklist::post_case_extend,
        super::routines::get_routine,
        super::routines::put_routine,
        super::routines::get_routine_versions,
        super::routines::get_routine_version,
        super::stats::get_county_stats,
        super::stats::get_county_stats_csv,
        super::stats::get_national_stats,
        super::stats::get_access_log,
        get_openapi,
        super::ack::post_api_ack,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system", responses((status = 200, description = "OpenAPI 3 document")))]
#[rocket::get("/openapi.json")]
pub fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
