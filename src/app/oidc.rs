//! Logging in through the municipality's identity provider (`auth::oidc` does the protocol).
//!
//! Policy: the person is the user bound to the provider's subject, else — the first time — the active user
//! whose address the provider vouches for, and the subject is bound to that user then (logged). A provider's
//! strong authentication (its configured `acr`/`amr`) counts as the second factor; otherwise an account that
//! needs one gives it on `/mfa`. An identity that matches no active account is refused and logged, and
//! nothing is created: accounts are made by the admin.

use super::auth::{open_session, Client, LoginResponse};
use super::{AppError, AppResult, ErrorKind};
use crate::auth::oidc::{self, Pending, Provider};
use crate::db::write_tx;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::users;

fn provider<'a>(st: &'a AppState, id: &str) -> AppResult<&'a Provider> {
    st.settings.oidc.iter().find(|p| p.id == id).ok_or_else(AppError::not_found)
}

fn unavailable(e: oidc::OidcError) -> AppError {
    log::warn!("identity provider: {}", e.0);
    AppError::new(ErrorKind::Unavailable, "idp_unavailable", "the identity provider could not be reached; try again")
}

/// Where to send the browser, and what it must bring back.
pub async fn start(st: &AppState, provider_id: &str) -> AppResult<(String, Pending)> {
    let p = provider(st, provider_id)?;
    oidc::start(p, &st.settings.public_url).await.map_err(unavailable)
}

/// The way back from the provider: the checks, who the person is, and their session.
pub async fn finish(
    st: &AppState,
    client: Client,
    pending: Pending,
    provider_id: &str,
    code: &str,
    state: &str,
) -> AppResult<LoginResponse> {
    let p = provider(st, provider_id)?;
    let now = st.clock.now();
    let who = oidc::finish(p, &st.settings.public_url, pending, code, state, now).await.map_err(|e| {
        log::warn!("identity provider {}: login refused: {}", p.id, e.0);
        AppError::new(ErrorKind::Unauthorized, "invalid_credentials", "the identity provider's answer was refused")
    })?;
    let ip = client.ip.clone();
    let (subject, email, method_detail) = (who.subject.clone(), who.email.clone(), who.method.clone());
    let provider_name = p.id.clone();
    let user = st
        .db
        .run(move |c| {
            let bound = users::by_oidc_subject(c, &subject)?;
            let user = match bound {
                Some(u) => Some(u),
                None => match &email {
                    Some(e) => users::by_email(c, e)?.filter(|u| u.oidc_subject.is_none()),
                    None => None,
                },
            };
            match user.filter(|u| u.active) {
                Some(u) => {
                    if u.oidc_subject.is_none() {
                        let actor = Actor { user_id: Some(u.id), role: Some(u.role.clone()), ip: ip.clone() };
                        write_tx(c, |c| {
                            users::bind_oidc_subject(c, u.id, &subject)?;
                            let ev = Event::new("oidc_bound").on("user", u.id).detail(provider_name.clone());
                            audit::append(c, &actor, &ev, now)
                        })?;
                    }
                    Ok::<_, AppError>(Some(u))
                }
                None => {
                    let actor = Actor { user_id: None, role: None, ip };
                    let ev = Event::new("login_failed").detail(format!("oidc {provider_name}: no account"));
                    audit::append_alone(c, &actor, &ev, now)?;
                    Ok(None)
                }
            }
        })
        .await?;
    let user = user.ok_or_else(|| {
        AppError::new(ErrorKind::Unauthorized, "invalid_credentials", "no active account for this identity")
    })?;
    let method = format!("oidc {} {method_detail}", p.id);
    open_session(st, user, &method, who.strong, &client).await
}
