//! Login tokens (JWT, HS256). Keys are built once at start-up.
//!
//! Policy: a token carries its session's id (`sid`); the session in the database decides whether it still
//! holds (`domain::session`). A token whose claimed lifetime is longer than a session may last, or that was
//! issued in the future, is refused even with a valid signature.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "saknad";
pub const LOGIN_AUDIENCE: &str = "saknad-login";
pub const TOKEN_HOURS: i64 = crate::domain::session::DEFAULT_HOURS;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// the session this token belongs to
    pub sid: String,
    pub stamp: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

impl Keys {
    pub fn new(secret: &str) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[LOGIN_AUDIENCE]);
        // Expiry is checked against the application clock (see `decode`), so tests can move time.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Keys {
            enc: EncodingKey::from_secret(secret.as_bytes()),
            dec: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// A token for `sid` that expires with it at `exp`.
    pub fn issue(
        &self,
        user_id: i64,
        stamp: &str,
        sid: &str,
        now: DateTime<Utc>,
        exp: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), String> {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: sid.to_string(),
            stamp: stamp.to_string(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            iss: ISSUER.into(),
            aud: LOGIN_AUDIENCE.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.enc)
            .map(|t| (t, exp))
            .map_err(|e| format!("token signing failed: {e}"))
    }

    /// The claims of a valid, unexpired token of a possible lifetime; `None` for anything else.
    pub fn decode(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation).ok()?;
        let c = data.claims;
        let max_life = Duration::hours(crate::domain::session::MAX_HOURS).num_seconds();
        let possible = c.exp > now.timestamp()
            && c.iat <= now.timestamp() + 300
            && c.exp.checked_sub(c.iat).is_some_and(|life| life <= max_life);
        possible.then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_decode_expire_tamper() {
        let k = Keys::new("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let (t, exp) = k.issue(7, "stamp", "sid", now, now + Duration::hours(8)).unwrap();
        assert_eq!(exp, now + Duration::hours(8));
        let c = k.decode(&t, now).unwrap();
        assert_eq!((c.sub.as_str(), c.stamp.as_str(), c.sid.as_str()), ("7", "stamp", "sid"));
        assert!(k.decode(&t, now + Duration::hours(8)).is_none());
        let other = Keys::new("another secret of at least 32 chars!!");
        assert!(other.decode(&t, now).is_none());
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(k.decode(&parts.join("."), now).is_none());
    }

    #[test]
    fn a_token_claiming_a_longer_life_than_a_session_is_refused() {
        let k = Keys::new("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let (forever, _) = k.issue(7, "stamp", "sid", now, now + Duration::seconds(1 << 40)).unwrap();
        assert!(k.decode(&forever, now).is_none());
        let (twelve, _) = k.issue(7, "stamp", "sid", now, now + Duration::hours(12)).unwrap();
        assert!(k.decode(&twelve, now).is_some());
        let (future, _) = k.issue(7, "stamp", "sid", now + Duration::hours(1), now + Duration::hours(2)).unwrap();
        assert!(k.decode(&future, now).is_none(), "issued in the future");
    }
}
