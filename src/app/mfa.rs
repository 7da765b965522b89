//! The second factor, for one's own account: enrolling a TOTP authenticator (with recovery codes), giving a
//! code in a session that still needs one, new recovery codes, and the status.
//!
//! Policy (rules in `auth::mfa` and `domain::session`):
//! - Enrolling the first authenticator needs only a signed-in session; replacing one, or new recovery codes,
//!   need a session in which the second factor was given, so a stolen password cannot move the factor.
//! - A new secret is kept pending, with the session that asked for it only, until a code from it confirms it;
//!   then it replaces the old one, ten new recovery codes are shown once, the session counts as strong, and the
//!   owner is told by email. No other session of the account can see or plant a pending secret.
//! - A wrong code counts as a failed login, for the account as a whole (`domain::lockout`): whoever guesses
//!   codes already has the password, so no browser or address is trusted for them.

use super::{AppError, AppResult};
use crate::auth::{mfa, AuthUser};
use crate::db::write_tx;
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::users;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaStatus {
    /// a TOTP authenticator is enrolled
    pub enabled: bool,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: i64,
    /// this account must give a second factor (its role reaches personal data and the server requires it,
    /// or it enrolled)
    pub required: bool,
    /// a second factor was given in this session
    pub session_strong: bool,
}

/// A new secret to enrol: type it, open the link, or scan the QR code, then confirm with a code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// base32, as authenticator apps take it typed
    pub secret: String,
    pub otpauth_uri: String,
    /// the otpauth link as a QR code (SVG markup)
    pub qr_svg: String,
}

/// `POST /api/v1/me/mfa/confirm`, `POST /api/v1/me/mfa/verify` and their forms.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Code {
    /// the 6-digit code of the authenticator app (or, for verify, a recovery code)
    #[schema(required = true)]
    pub code: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// shown once: each works once instead of a code, when the phone is lost
    pub recovery_codes: Vec<String>,
}

pub async fn status(st: &AppState, user: &AuthUser) -> AppResult<MfaStatus> {
    let id = user.id;
    let (row, left) = st
        .db
        .run(move |c| {
            let row = users::by_id(c, id)?.ok_or_else(AppError::unauthorized)?;
            let left = crate::store::mfa::unused_recovery_codes(c, id)?;
            Ok::<_, AppError>((row, left))
        })
        .await?;
    Ok(MfaStatus {
        enabled: row.totp_enabled(),
        enabled_at: row.totp_enabled_at.map(crate::store::children::utc),
        recovery_codes_left: left,
        required: crate::domain::session::needs_second_factor(user.role, row.totp_enabled(), st.settings.require_mfa),
        session_strong: user.strong,
    })
}

/// A new secret, pending until confirmed.
pub async fn start(st: &AppState, user: &AuthUser) -> AppResult<Enrolment> {
    if user.totp_enabled && !user.strong {
        return Err(AppError::mfa_required());
    }
    let secret = mfa::new_secret();
    let uri = mfa::otpauth_uri(&secret, &user.email).ok_or_else(AppError::internal)?;
    let qr = mfa::qr_svg(&uri).ok_or_else(AppError::internal)?;
    let (sid, s) = (user.session_id.clone(), secret.clone());
    st.db
        .run(move |c| write_tx(c, |c| crate::store::sessions::set_pending(c, &sid, Some(&s))).map_err(AppError::from))
        .await?;
    Ok(Enrolment { secret, otpauth_uri: uri, qr_svg: qr })
}

/// This session's enrolment as it stands (its pending secret), to show the page again without changing it.
pub async fn pending(st: &AppState, user: &AuthUser) -> AppResult<Option<Enrolment>> {
    let sid = user.session_id.clone();
    let row = st.db.run(move |c| crate::store::sessions::by_id(c, &sid).map_err(AppError::from)).await?;
    let Some(secret) = row.and_then(|r| r.totp_pending) else { return Ok(None) };
    let uri = mfa::otpauth_uri(&secret, &user.email).ok_or_else(AppError::internal)?;
    let qr = mfa::qr_svg(&uri).ok_or_else(AppError::internal)?;
    Ok(Some(Enrolment { secret, otpauth_uri: uri, qr_svg: qr }))
}

/// Confirms the pending secret with a code from it; answers the new recovery codes.
pub async fn confirm(
    st: &AppState,
    user: &AuthUser,
    input: super::command::Submitted<Code>,
) -> AppResult<RecoveryCodes> {
    if user.totp_enabled && !user.strong {
        return Err(AppError::mfa_required());
    }
    let cmd = input.valid(|c, ck| ck.req_text("code", &mut c.code, 20))?;
    let code = cmd.code.unwrap_or_default();
    let now = st.clock.now();
    let (id, sid, actor, secret) = (user.id, user.session_id.clone(), user.actor(), st.settings.jwt_secret.clone());
    let codes = mfa::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| mfa::recovery_hash(secret.as_bytes(), c)).collect();
    st.db
        .run(move |c| {
            let row = users::by_id(c, id)?.ok_or_else(AppError::unauthorized)?;
            let session = crate::store::sessions::by_id(c, &sid)?.ok_or_else(AppError::unauthorized)?;
            let pending = session.totp_pending.ok_or_else(|| AppError::field("code", "start the enrolment first"))?;
            let unix = u64::try_from(now.timestamp()).unwrap_or(0);
            let step = mfa::check(&pending, &code, unix, None).ok_or_else(|| AppError::field("code", "wrong code"))?;
            write_tx(c, |c| {
                crate::store::mfa::enable(c, id, &pending, step, now)?;
                crate::store::mfa::replace_recovery_codes(c, id, &hashes)?;
                crate::store::sessions::set_pending(c, &sid, None)?;
                crate::store::sessions::make_strong(c, &sid, "password+totp")?;
                audit::append(c, &actor, &Event::new("mfa_enrolled").on("user", id), now)?;
                super::mail::to_owner(c, &row, "mfa_enabled", now)?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(RecoveryCodes { recovery_codes: codes })
}

/// Gives the second factor in a session that still needs it; the session counts as strong after.
pub async fn verify(st: &AppState, user: &AuthUser, input: super::command::Submitted<Code>) -> AppResult<()> {
    let cmd = input.valid(|c, ck| ck.req_text("code", &mut c.code, 40))?;
    let code = cmd.code.unwrap_or_default();
    let now = st.clock.now();
    // Codes are guessed by whoever has the password: counted for the account as a whole, wherever from.
    if let Some(wait) = st.limiter.code_wait(&user.email, now) {
        return Err(AppError::retry_after(super::auth::seconds(wait)));
    }
    let (id, sid, actor, secret) = (user.id, user.session_id.clone(), user.actor(), st.settings.jwt_secret.clone());
    let ok = st
        .db
        .run(move |c| {
            let row = users::by_id(c, id)?.ok_or_else(AppError::unauthorized)?;
            match super::auth::second_factor(c, &row, &code, &secret, now)? {
                Some(method) => {
                    write_tx(c, |c| {
                        crate::store::sessions::make_strong(c, &sid, method)?;
                        audit::append(c, &actor, &Event::new("mfa_verified").on("user", id).detail(method), now)
                    })?;
                    Ok::<_, AppError>(true)
                }
                None => {
                    write_tx(c, |c| {
                        users::record_failed_login(c, id, now)?;
                        audit::append(c, &actor, &Event::new("login_failed").on("user", id).detail("wrong code"), now)
                    })?;
                    Ok(false)
                }
            }
        })
        .await?;
    if ok {
        Ok(())
    } else {
        st.limiter.code_failed(&user.email, now);
        Err(AppError::field("code", "wrong code"))
    }
}

/// New recovery codes in place of the old ones (a strong session only).
pub async fn renew_recovery_codes(st: &AppState, user: &AuthUser) -> AppResult<RecoveryCodes> {
    if !user.totp_enabled {
        return Err(AppError::conflict("conflict", "no second factor is enrolled"));
    }
    if !user.strong {
        return Err(AppError::mfa_required());
    }
    let now = st.clock.now();
    let codes = mfa::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| mfa::recovery_hash(st.settings.jwt_secret.as_bytes(), c)).collect();
    let (id, actor) = (user.id, user.actor());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                crate::store::mfa::replace_recovery_codes(c, id, &hashes)?;
                audit::append(c, &actor, &Event::new("recovery_codes_renewed").on("user", id), now)?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(RecoveryCodes { recovery_codes: codes })
}
