//! Acknowledgement tokens.
//!
//! Policy: a token is `HMAC-SHA256(secret, "ack\0" + nonce)` in URL-safe base64 (256 bits). The database
//! keeps only the random nonce and the SHA-256 of the token: a copy of the database alone cannot forge or
//! recover a link, and the worker can render the same link again on every retry. The token has its own
//! construction and audience, so it can never pass as a login token (a JWT) and vice versa.

use sha2::{Digest, Sha256};

pub const VALID_DAYS: i64 = 14;

pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return [0; 32] };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

pub(crate) fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub fn token(secret: &[u8], nonce: &str) -> String {
    let mut msg = b"ack\0".to_vec();
    msg.extend_from_slice(nonce.as_bytes());
    b64url(&hmac_sha256(secret, &msg))
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A syntactically possible token; anything else is refused before touching the database.
pub fn well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn tokens_are_stable_secret_bound_and_url_safe() {
        let t = token(b"secret-a", "nonce");
        assert_eq!(t, token(b"secret-a", "nonce"));
        assert_ne!(t, token(b"secret-b", "nonce"));
        assert_ne!(t, token(b"secret-a", "nonce2"));
        assert!(well_formed(&t));
        assert!(!well_formed("short") && !well_formed(&format!("{}!", &t[..42])));
    }
}
