//! The second factor: TOTP (RFC 6238, through `totp-rs`) and recovery codes.
//!
//! Policy:
//! - A TOTP secret is 160 random bits (RFC 4226's recommendation), SHA-1, 6 digits, 30-second steps: what
//!   every authenticator app reads from the otpauth:// link or its QR code. A code is accepted for the step
//!   before, the current one and the one after (RFC 6238 §5.2), and each step only once: the step of the last
//!   accepted code is kept, so a code read over someone's shoulder cannot be used again.
//! - Enrolment is confirmed by a code from the new secret before it replaces anything.
//! - Ten recovery codes are shown once, at enrolment; each works once instead of a TOTP code. Only an HMAC of
//!   each (keyed with the server's secret) is stored, so a copy of the database alone does not give them.

use sha2::Sha256;
use totp_rs::{Algorithm, Secret, TOTP};

pub const ISSUER: &str = "Saknad";
pub const RECOVERY_CODES: usize = 10;
const STEP: u64 = 30;

/// A new secret, base32 as authenticator apps show it.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    // The account name may not hold a colon (otpauth label syntax).
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, bytes, Some(ISSUER.into()), account.replace(':', " ")).ok()
}

/// The otpauth:// link an authenticator app enrols from.
pub fn otpauth_uri(secret: &str, account: &str) -> Option<String> {
    totp(secret, account).map(|t| t.get_url())
}

/// The same link as a QR code, as SVG markup to put in a page.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// The code an app shows at `unix_time` (tests and the demo).
pub fn code_at(secret: &str, unix_time: u64) -> Option<String> {
    totp(secret, "x").map(|t| t.generate(unix_time))
}

/// The time step of `code` if it is right at `unix_time` (one step either side) and newer than `last_step`.
pub fn check(secret: &str, code: &str, unix_time: u64, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "x")?;
    let now_step = (unix_time / STEP) as i64;
    let mut found = None;
    // Every candidate is computed and compared, so the time taken does not say which step matched.
    for step in [now_step - 1, now_step, now_step + 1] {
        let Ok(at) = u64::try_from(step) else { continue };
        let expected = t.generate(at * STEP);
        let same = expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same && last_step.is_none_or(|l| step > l) {
            found = Some(step);
        }
    }
    found
}

/// Whether `text` is shaped like a recovery code rather than a TOTP code.
pub fn looks_like_recovery_code(text: &str) -> bool {
    normalise_recovery(text).len() == 10
}

fn normalise_recovery(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// New recovery codes, as shown to the person (`xxxxx-xxxxx`, about 50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    use rand::Rng;
    // No 0/o, 1/l/i: read off a printout.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let c: String = (0..10).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect()
}

/// What is stored of a recovery code: HMAC-SHA-256 with the server's secret, hex.
pub fn recovery_hash(secret: &[u8], code: &str) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    mac.update(b"recovery\0");
    mac.update(normalise_recovery(code).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890", T = 59 s gives 94287082 (8 digits);
        // its last six digits are the 6-digit code.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => String::new(),
        };
        assert_eq!(code_at(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(code_at(&secret, 1_111_111_109).as_deref(), Some("081804"));
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_only_once() {
        let s = new_secret();
        let t = 1_800_000_000u64;
        let code = code_at(&s, t).unwrap_or_default();
        let step = check(&s, &code, t, None);
        assert_eq!(step, Some((t / 30) as i64));
        assert_eq!(check(&s, &code, t + 30, None), step, "the next step still takes it");
        assert_eq!(check(&s, &code, t + 90, None), None, "two steps later it is gone");
        assert_eq!(check(&s, &code, t, step), None, "used once");
        assert_eq!(check(&s, "12345", t, None), None);
        assert_eq!(check(&s, "abcdef", t, None), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_keyed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), 10);
        assert!(looks_like_recovery_code(&codes[0]) && !looks_like_recovery_code("123456"));
        assert_eq!(recovery_hash(b"k", &codes[0]), recovery_hash(b"k", &codes[0].to_uppercase().replace('-', " ")));
        assert_ne!(recovery_hash(b"k", &codes[0]), recovery_hash(b"other", &codes[0]));
    }

    #[test]
    fn the_enrolment_link_and_qr_code() {
        let s = new_secret();
        let uri = otpauth_uri(&s, "sara@kommun.se").unwrap_or_default();
        assert!(uri.starts_with("otpauth://totp/Saknad:sara%40kommun.se?") && uri.contains(&s), "{uri}");
        assert!(qr_svg(&uri).is_some_and(|svg| svg.contains("<svg")));
    }
}
