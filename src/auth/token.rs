//! Login tokens (JWT, HS256). Keys are built once at start-up.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "saknad";
pub const LOGIN_AUDIENCE: &str = "saknad-login";
pub const TOKEN_HOURS: i64 = 8;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
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

    pub fn issue(&self, user_id: i64, stamp: &str, now: DateTime<Utc>) -> Result<(String, DateTime<Utc>), String> {
        let exp = now + Duration::hours(TOKEN_HOURS);
        let claims = Claims {
            sub: user_id.to_string(),
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

    /// The claims of a valid, unexpired token; `None` for anything else.
    pub fn decode(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation).ok()?;
        (data.claims.exp > now.timestamp()).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_decode_expire_tamper() {
        let k = Keys::new("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let (t, exp) = k.issue(7, "stamp", now).unwrap();
        assert_eq!(exp, now + Duration::hours(8));
        let c = k.decode(&t, now).unwrap();
        assert_eq!((c.sub.as_str(), c.stamp.as_str()), ("7", "stamp"));
        assert!(k.decode(&t, now + Duration::hours(8)).is_none());
        let other = Keys::new("another secret of at least 32 chars!!");
        assert!(other.decode(&t, now).is_none());
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(k.decode(&parts.join("."), now).is_none());
    }
}
