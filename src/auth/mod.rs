//! Authentication.
//!
//! Policy: passwords are Argon2id (at least 12 characters, not easy to guess); a login token is an HS256 JWT
//! naming its server-side session (`domain::session`: logout, idle timeout, absolute end) whose `stamp`
//! claim must equal the user's current security stamp, so a password change, reset or deactivation revokes
//! every token at once. A second factor (TOTP or recovery code, `mfa`) or the identity provider's strong
//! authentication (`oidc`) is needed for every role that reaches personal data when `SAKNAD_REQUIRE_MFA` is
//! on. The same token travels as a Bearer header (API) or an HttpOnly, SameSite=Strict cookie (web pages).
//! Tokens of other purposes (acknowledgement and set-password links) use other constructions and are never
//! accepted here.

pub mod ack;
pub mod cache;
pub mod guard;
pub mod limiter;
pub mod mfa;
pub mod oidc;
pub mod password;
pub mod token;

pub use guard::AuthUser;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const SESSION_COOKIE: &str = "saknad_session";
/// The browser's device cookie (private: encrypted and authenticated with Rocket's key): which accounts have
/// signed in on this browser, so that others' failed attempts never make their owners wait
/// (`domain::lockout`).
pub const DEVICE_COOKIE: &str = "saknad_device";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Device {
    pub id: String,
    pub accounts: Vec<i64>,
}

/// The device cookie of this browser, if it has a valid one.
pub fn device(cookies: &rocket::http::CookieJar<'_>) -> Option<Device> {
    cookies.get_private(DEVICE_COOKIE).and_then(|c| serde_json::from_str(c.value()).ok())
}

/// Remembers that `user_id` signed in on this browser (for 180 days; at most 20 accounts).
pub fn remember_device(cookies: &rocket::http::CookieJar<'_>, user_id: i64, secure: bool) {
    let mut d = device(cookies).unwrap_or_else(|| Device { id: random_token(16), accounts: Vec::new() });
    d.accounts.retain(|a| *a != user_id);
    d.accounts.push(user_id);
    if d.accounts.len() > 20 {
        d.accounts.remove(0);
    }
    let Ok(value) = serde_json::to_string(&d) else { return };
    cookies.add_private(
        rocket::http::Cookie::build((DEVICE_COOKIE, value))
            .http_only(true)
            .same_site(rocket::http::SameSite::Strict)
            .secure(secure)
            .path("/")
            .max_age(rocket::time::Duration::days(180))
            .build(),
    );
}

/// A URL-safe random token (`[A-Za-z0-9_-]`) with `bytes` bytes of randomness.
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    // Base64url without padding, written out to avoid another dependency for eight lines.
    let mut out = String::with_capacity(bytes * 4 / 3 + 2);
    for chunk in buf.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The browser session's cookie: HttpOnly, SameSite=Strict, Secure when the public URL is https.
pub fn session_cookie(token: &str, secure: bool) -> rocket::http::Cookie<'static> {
    rocket::http::Cookie::build((SESSION_COOKIE, token.to_string()))
        .http_only(true)
        .same_site(rocket::http::SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let a = super::random_token(32);
        let b = super::random_token(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
