//! Request guards: `AuthUser` from a Bearer header or the session cookie, checked against the user's
//! current security stamp and active flag on every request (through `auth::cache`); `ClientIp` for logging.

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

fn bearer(req: &Request<'_>) -> Option<String> {
    if let Some(h) = req.headers().get_one("Authorization") {
        let (scheme, token) = h.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string());
    }
    req.cookies().get(crate::auth::SESSION_COOKIE).map(|c| c.value().to_string())
}

async fn authenticate(req: &Request<'_>) -> Result<AuthUser, AppError> {
    let st = req.guard::<&State<AppState>>().await.succeeded().ok_or_else(AppError::internal)?;
    let token = bearer(req).ok_or_else(AppError::unauthorized)?;
    let claims = st.keys.decode(&token, st.clock.now()).ok_or_else(AppError::unauthorized)?;
    let id: i64 = claims.sub.parse().map_err(|_| AppError::unauthorized())?;
    let row = match st.users.get(id) {
        Some(row) => Some(row),
        None => {
            let (generation, read_at) = (crate::store::users::generation(), std::time::Instant::now());
            let row = st.db.run(move |c| crate::store::users::by_id(c, id).map_err(AppError::from)).await?;
            if let Some(r) = &row {
                st.users.put(r.clone(), generation, read_at);
            }
            row
        }
    };
    let row = row.filter(|u| u.active && u.security_stamp == claims.stamp).ok_or_else(AppError::unauthorized)?;
    let role = Role::parse(&row.role).ok_or_else(AppError::unauthorized)?;
    Ok(AuthUser { account: UserView::from(&row), role, ip: req.client_ip().map(|i| i.to_string()) })
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
        Outcome::Success(ClientIp(req.client_ip().map(|i| i.to_string())))
    }
}
