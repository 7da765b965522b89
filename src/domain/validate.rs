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
}
