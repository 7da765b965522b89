//! Argon2id password hashing with the crate's default (OWASP-recommended) parameters, and the strength
//! rules for new passwords and for the server's secrets.
//!
//! Policy: a new password has at least 12 characters and is not easy to guess by zxcvbn's estimate (score
//! 3 of 4: more than 10^8 guesses, counting common passwords, names, keyboard patterns, repeats, sequences,
//! dates and the account's own email and name). The JWT and audit keys are refused at start-up unless they
//! look random: at least 32 characters that zxcvbn cannot explain as anything but random (at least 10^18
//! guesses, its ceiling for random input being about 10^19).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real check when the account does not exist, so response time does not
/// reveal which email addresses have accounts.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password that matches nothing").unwrap_or_default());
    let _ = verify(password, stored);
}

/// Swedish words common in leaked passwords (seasons, months, places, names, teams, pets), and this
/// service's own.
const SWEDISH: [&str; 48] = [
    "saknad",
    "lösenord",
    "losenord",
    "password",
    "sommar",
    "vinter",
    "hösten",
    "hosten",
    "höst",
    "host",
    "våren",
    "varen",
    "januari",
    "februari",
    "mars",
    "april",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
    "sverige",
    "svenska",
    "stockholm",
    "göteborg",
    "goteborg",
    "malmö",
    "malmo",
    "uppsala",
    "kommun",
    "hejsan",
    "hemligt",
    "älskling",
    "alskling",
    "kärlek",
    "karlek",
    "fotboll",
    "hammarby",
    "djurgården",
    "aik",
    "katten",
    "hunden",
    "mamma",
    "pappa",
    "socialtjänsten",
    "boende",
];

/// Why a new password is refused (an API reason), or `None`. `inputs` are the account's own words (email,
/// name), which make a password easy to guess for whoever knows them.
pub fn weakness(password: &str, inputs: &[&str]) -> Option<&'static str> {
    let n = password.chars().count();
    if n < crate::auth::MIN_PASSWORD_CHARS {
        return Some("at least 12 characters");
    }
    if n > 1024 {
        return Some("at most 1024 characters");
    }
    let mut words: Vec<&str> = inputs.to_vec();
    words.extend(inputs.iter().flat_map(|i| i.split(['@', '.', ' ', '-', '_'])).filter(|w| w.chars().count() > 2));
    // zxcvbn's dictionaries are English: the words Swedish passwords are most often made of are added.
    words.extend(SWEDISH);
    let score = u8::from(zxcvbn::zxcvbn(password, &words).score());
    // The account's own words give nothing to whoever knows the account: what is left without them must
    // hold up on its own.
    let mut rest = password.to_lowercase();
    for w in words.iter().filter(|w| w.chars().count() > 2) {
        rest = rest.replace(&w.to_lowercase(), "");
    }
    let rest_score =
        if rest.len() == password.to_lowercase().len() { score } else { u8::from(zxcvbn::zxcvbn(&rest, &[]).score()) };
    (score < 3 || rest_score < 3).then_some("too easy to guess")
}

/// Why a server secret (SAKNAD_JWT_SECRET, SAKNAD_AUDIT_KEY) is refused, or `None`.
pub fn secret_weakness(secret: &str) -> Option<String> {
    if secret.chars().count() < 32 {
        return Some("must be at least 32 characters long".into());
    }
    let e = zxcvbn::zxcvbn(secret, &[]);
    (e.guesses_log10() < 18.0).then(|| {
        format!(
            "is too easy to guess (about 10^{:.0} guesses: repeats, sequences or words); generate one with `openssl rand -base64 48`",
            e.guesses_log10().max(0.0)
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn trivial_passwords_are_refused_and_a_passphrase_is_not() {
        for weak in
            ["aaaaaaaaaaaa", "123456789012", "            ", "password1234", "qwertyuiopasdf", "sara.personal2026"]
        {
            assert!(super::weakness(weak, &["sara.personal@kommun.se", "Sara Personal"]).is_some(), "{weak}");
        }
        assert_eq!(super::weakness("short", &[]), Some("at least 12 characters"));
        for strong in ["correct horse battery staple", "ett långt lösenord 26", "another long password"] {
            assert_eq!(super::weakness(strong, &["sw@test.se"]), None, "{strong}");
        }
    }

    #[test]
    fn secrets_must_look_random() {
        assert!(super::secret_weakness(&"a".repeat(32)).is_some());
        assert!(super::secret_weakness("0123456789abcdef0123456789abcdef").is_some());
        assert!(super::secret_weakness("test-secret-test-secret-test-secret-0123").is_some());
        assert!(super::secret_weakness("short").is_some());
        let random = crate::auth::random_token(32);
        assert_eq!(super::secret_weakness(&random), None, "{random}");
        assert_eq!(super::secret_weakness("Qm9Z3kLpX7vR2tYw8NcE5hJd1FsA6gUb4oTi0eWx"), None);
    }

    #[test]
    fn hash_and_verify() {
        let h = super::hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery", &h));
        assert!(!super::verify("wrong horse battery", &h));
        assert!(!super::verify("x", "not a hash"));
    }
}
