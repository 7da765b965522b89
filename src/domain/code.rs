//! Short codes: the values stored in text columns and sent in JSON (`missing`, `pending`, `police`, …).
//!
/// A value stored and sent as a short code (`missing`, `pending`, …): one list of codes per type, so
/// that a code the program does not know is refused when read, never compared as a string.
pub trait Code: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}
