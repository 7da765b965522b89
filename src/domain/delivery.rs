//! How a message reaches its recipient (SPEC §7: sensitive data does not travel in plain email).
//!
//! Per recipient kind a county chooses:
//! - `full`: the minimised report itself (SPEC §4), and only over a mail connection that requires TLS. When the
//!   server's connection does not require it, `full` is refused and the recipient gets a notice instead: the
//!   alarm still goes out, the content does not.
//! - `notice`: the reference, what happened and a link. The content is read on the page behind the link; each
//!   view is logged and the link expires with the acknowledgement token.
//!
//! Guardians (often a private address) and the trafficking coordinator get notices unless the county says
//! otherwise. The county mailbox and reminders never carry anything about the child, so they have no mode.

use super::recipients::RecipientKind;

crate::code_enum! {
    /// What a message carries.
    pub enum Mode {
        Full = "full",
        Notice = "notice",
    }
}

/// The recipient kinds a county chooses a mode for, in the order its contacts page shows them.
pub const CONFIGURABLE: [RecipientKind; 7] = [
    RecipientKind::Police,
    RecipientKind::SocialServices,
    RecipientKind::OnCall,
    RecipientKind::Guardian,
    RecipientKind::Migrationsverket,
    RecipientKind::AssigningMunicipality,
    RecipientKind::TraffickingCoordinator,
];

pub fn default_for(kind: RecipientKind) -> Mode {
    match kind {
        RecipientKind::Guardian | RecipientKind::TraffickingCoordinator => Mode::Notice,
        _ => Mode::Full,
    }
}

/// The mode a message is sent in, and whether a configured `full` was refused for want of TLS.
pub fn effective(kind: RecipientKind, configured: Option<Mode>, tls_required: bool) -> (Mode, bool) {
    if !CONFIGURABLE.contains(&kind) {
        return (Mode::Full, false);
    }
    match configured.unwrap_or_else(|| default_for(kind)) {
        Mode::Full if tls_required => (Mode::Full, false),
        Mode::Full => (Mode::Notice, true),
        Mode::Notice => (Mode::Notice, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guardians_and_the_coordinator_get_notices_unless_the_county_chooses_otherwise() {
        assert_eq!(effective(RecipientKind::Guardian, None, true), (Mode::Notice, false));
        assert_eq!(effective(RecipientKind::TraffickingCoordinator, None, true), (Mode::Notice, false));
        assert_eq!(effective(RecipientKind::Guardian, Some(Mode::Full), true), (Mode::Full, false));
        assert_eq!(effective(RecipientKind::Police, None, true), (Mode::Full, false));
        assert_eq!(effective(RecipientKind::Police, Some(Mode::Notice), true), (Mode::Notice, false));
    }

    #[test]
    fn full_is_refused_without_tls_and_becomes_a_notice() {
        assert_eq!(effective(RecipientKind::Police, None, false), (Mode::Notice, true));
        assert_eq!(effective(RecipientKind::Guardian, Some(Mode::Full), false), (Mode::Notice, true));
        assert_eq!(effective(RecipientKind::Guardian, None, false), (Mode::Notice, false));
        // The county mailbox carries nothing about the child: no mode, nothing to refuse.
        assert_eq!(effective(RecipientKind::County, None, false), (Mode::Full, false));
    }
}
