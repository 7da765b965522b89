//! Request guards: `AuthUser` from a Bearer header or the session cookie, checked on every request against
//! its server-side session (`domain::session`: revoked, idle, expired) and the user's current security stamp
//! and active flag (both through `auth::cache`); `ClientIp` for logging.
//!
//! Policy: a session without the second factor its account needs reaches only the account's own page, the
//! second factor's enrolment and check, and logout (`403 mfa_required` elsewhere; pages go to `/mfa`).

use crate::app::AppError;
use crate::domain::role::Role;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::users::UserView;
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, State};

/// The signed-in user: the account as the API shows it, its role parsed, and the client's address.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub account: UserView,
    pub role: Role,
    pub ip: Option<String>,
    /// the server-side session this request belongs to
    pub session_id: String,
    /// whether a second factor was given in this session (or the identity provider vouched for one)
    pub strong: bool,
    /// whether the account has a confirmed TOTP authenticator
    pub totp_enabled: bool,
}

impl std::ops::Deref for AuthUser {
    type Target = UserView;
    fn deref(&self) -> &UserView {
        &self.account
    }
}

impl AuthUser {
    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.id), role: Some(self.role.as_str().to_string()), ip: self.ip.clone() }
    }

    /// `403 forbidden` unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }
}

/// The token, and whether it came from the session cookie (not an `Authorization` header).
fn bearer(req: &Request<'_>) -> Option<(String, bool)> {
    if let Some(h) = req.headers().get_one("Authorization") {
        let (scheme, token) = h.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| (token.trim().to_string(), false));
    }
    req.cookies().get(crate::auth::SESSION_COOKIE).map(|c| (c.value().to_string(), true))
}

async fn authenticate(req: &Request<'_>) -> Result<AuthUser, AppError> {
    let st = req.guard::<&State<AppState>>().await.succeeded().ok_or_else(AppError::internal)?;
    let (token, from_cookie) = bearer(req).ok_or_else(AppError::unauthorized)?;
    let now = st.clock.now();
    let claims = st.keys.decode(&token, now).ok_or_else(AppError::unauthorized)?;
    let id: i64 = claims.sub.parse().map_err(|_| AppError::unauthorized())?;
    let session =
        cached_session(st, &claims.sid).await?.filter(|s| s.user_id == id).ok_or_else(AppError::unauthorized)?;
    crate::domain::session::check(session.times(), now, st.settings.session_idle)
        .map_err(|_| AppError::unauthorized())?;
    let row = match st.users.get(&id) {
        Some(row) => Some(row),
        None => {
            let (generation, read_at) = (st.users.generation(), std::time::Instant::now());
            let row = st.db.run(move |c| crate::store::users::by_id(c, id).map_err(AppError::from)).await?;
            if let Some(r) = &row {
                st.users.put(id, r.clone(), generation, read_at);
            }
            row
        }
    };
    let row = row.filter(|u| u.active && u.security_stamp == claims.stamp).ok_or_else(AppError::unauthorized)?;
    let role = Role::parse(&row.role).ok_or_else(AppError::unauthorized)?;
    // A browser session writes to the API only as a same-origin JSON request (API.md "Headers and files"):
    // SameSite alone let a cross-site text/plain POST or a `_method=DELETE` form through.
    if from_cookie && is_api(req) && !cookie_write_allowed(req, &st.settings.public_url) {
        return Err(AppError::forbidden());
    }
    let second = crate::domain::session::needs_second_factor(role, row.totp_enabled(), st.settings.require_mfa);
    if second && !session.strong && !reaches_without_second_factor(&route_path(req)) {
        return Err(AppError::mfa_required());
    }
    if crate::domain::session::needs_touch(crate::store::children::utc(session.last_seen_at), now) {
        // Taken before the write: a logout committed meanwhile makes the entry below stale at once.
        let generation = st.sessions.generation();
        let sid = session.id.clone();
        let touched = st
            .db
            .run(move |c| {
                crate::db::write_tx(c, |c| crate::store::sessions::touch(c, &sid, now)).map_err(AppError::from)
            })
            .await?;
        if touched == 0 {
            return Err(AppError::unauthorized());
        }
        let mut fresh = session.clone();
        fresh.last_seen_at = now.naive_utc();
        st.sessions.put(fresh.id.clone(), fresh, generation, std::time::Instant::now());
    }
    Ok(AuthUser {
        account: UserView::from(&row),
        role,
        ip: client_ip(req, &st.settings.trusted_proxies),
        session_id: session.id,
        strong: session.strong,
        totp_enabled: row.totp_enabled(),
    })
}

async fn cached_session(st: &AppState, sid: &str) -> Result<Option<crate::store::sessions::SessionRow>, AppError> {
    if let Some(s) = st.sessions.get(&sid.to_string()) {
        return Ok(Some(s));
    }
    let (generation, read_at) = (st.sessions.generation(), std::time::Instant::now());
    let key = sid.to_string();
    let row = st.db.run(move |c| crate::store::sessions::by_id(c, &key).map_err(AppError::from)).await?;
    if let Some(r) = &row {
        st.sessions.put(r.id.clone(), r.clone(), generation, read_at);
    }
    Ok(row)
}

/// Whether the request is for the JSON API: by the route it matched (the router also takes `//api/…` and
/// `/%61pi/…` to the API's handlers), else by its path.
pub fn is_api(req: &Request<'_>) -> bool {
    match req.route() {
        Some(r) => r.uri.base().starts_with("/api"),
        None => req.uri().path().as_str().trim_start_matches('/').starts_with("api"),
    }
}

/// The path of the route the request matched, as it was declared (`/api/v1/me/mfa/confirm`): the same
/// however the request spelled it.
fn route_path(req: &Request<'_>) -> String {
    req.route().map(|r| r.uri.path().to_string()).unwrap_or_else(|| req.uri().path().to_string())
}

/// What a session without its second factor may reach: its own account, the second factor's enrolment and
/// check, logout and the language switch.
fn reaches_without_second_factor(path: &str) -> bool {
    const EXACT: [&str; 5] = ["/api/v1/me", "/api/v1/auth/logout", "/logout", "/language", "/mfa"];
    EXACT.contains(&path) || path.starts_with("/api/v1/me/mfa") || path.starts_with("/mfa/")
}

/// Whether a cookie-authenticated request may reach the API: reads always; writes only with
/// `Content-Type: application/json` and, when the browser sends an `Origin`, this server's.
fn cookie_write_allowed(req: &Request<'_>, public_url: &str) -> bool {
    use rocket::http::Method;
    if matches!(req.method(), Method::Get | Method::Head | Method::Options) {
        return true;
    }
    let json = req.content_type().is_some_and(|c| c.is_json());
    let origin_ok = match req.headers().get_one("Origin") {
        None => true,
        Some(o) => same_origin(o, public_url) || req.host().is_some_and(|h| same_host(o, &h.to_string())),
    };
    json && origin_ok
}

fn same_origin(origin: &str, public_url: &str) -> bool {
    let base = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    let public = base(public_url);
    let public = public.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    base(origin) == public
}

fn same_host(origin: &str, host: &str) -> bool {
    let o = origin.trim_end_matches('/').to_ascii_lowercase();
    o.strip_prefix("http://").or_else(|| o.strip_prefix("https://")).is_some_and(|h| h == host.to_ascii_lowercase())
}

/// The client's address: the peer's, or — when the peer is a trusted reverse proxy — the one it reports
/// (`X-Real-IP`, else the last `X-Forwarded-For` entry not itself a trusted proxy).
pub fn client_ip(req: &Request<'_>, trusted: &[std::net::IpAddr]) -> Option<String> {
    let peer = req.remote().map(|r| r.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let parse = |s: &str| s.trim().parse::<std::net::IpAddr>().ok();
    if let Some(ip) = req.headers().get_one("X-Real-IP").and_then(parse) {
        return Some(ip.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> =
        req.headers().get("X-Forwarded-For").flat_map(|h| h.split(',')).filter_map(parse).collect();
    let client = forwarded.iter().rev().find(|ip| !trusted.contains(ip)).copied();
    Some(client.unwrap_or(peer).to_string())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthUser {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let cached: &Result<AuthUser, AppError> = req.local_cache_async(authenticate(req)).await;
        match cached {
            Ok(u) => Outcome::Success(u.clone()),
            Err(e) => Outcome::Error((crate::error::status_of(e), e.clone())),
        }
    }
}

pub struct ClientIp(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let trusted = match req.guard::<&State<AppState>>().await.succeeded() {
            Some(st) => st.settings.trusted_proxies.clone(),
            None => Vec::new(),
        };
        Outcome::Success(ClientIp(client_ip(req, &trusted)))
    }
}
