//! Small format checks shared by every input.

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else { return false };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

pub fn is_county_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_municipality_code(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Phone numbers as people write them: digits, spaces, `+ - ( )`, at least 5 digits.
pub fn is_phone(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
        && s.chars().filter(|c| c.is_ascii_digit()).count() >= 5
}

/// Whether `email` is in one of `domains` (or a subdomain of one); every address when `domains` is empty.
pub fn email_in_domains(email: &str, domains: &[String]) -> bool {
    if domains.is_empty() {
        return true;
    }
    let Some((_, host)) = email.rsplit_once('@') else { return false };
    let host = host.to_ascii_lowercase();
    domains.iter().any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A mail domain as an admin lists it: `kommun.se`, lower case, no `@`.
pub fn is_mail_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && !s.starts_with(['.', '-'])
        && !s.ends_with(['.', '-'])
        && !s.contains("..")
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("polis.stockholm@polisen.se"));
        assert!(is_email("a@b.se"));
        for bad in ["", "a", "a@", "@b.se", "a@b", "a b@c.se", "a@b..se", "a@@b.se", "a@-b.se"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn codes_and_phones() {
        assert!(is_county_code("01") && !is_county_code("1") && !is_county_code("AB"));
        assert!(is_municipality_code("0180") && !is_municipality_code("180"));
        assert!(is_phone("+46 8-123 456 78") && !is_phone("call me") && !is_phone("123"));
    }

    #[test]
    fn domains_match_exactly_or_as_a_parent() {
        let d = vec!["stockholm.se".to_string()];
        assert!(email_in_domains("a@stockholm.se", &d));
        assert!(email_in_domains("a@edu.Stockholm.se", &d));
        assert!(!email_in_domains("a@evilstockholm.se", &d));
        assert!(!email_in_domains("a@stockholm.se.evil.com", &d));
        assert!(email_in_domains("a@anything.se", &[]));
        assert!(is_mail_domain("polisen.se") && !is_mail_domain("Polisen.se") && !is_mail_domain("se"));
        assert!(!is_mail_domain("a@b.se") && !is_mail_domain(".b.se") && !is_mail_domain("b..se"));
    }
}
