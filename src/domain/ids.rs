//! The ids a use case acts on. Each kind of record has its own type, so that a child's id can never be
//! passed where an episode's is meant; inside the store they are the plain integers of the tables.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An episode (a case): one disappearance.
    EpisodeId
);
id_type!(
    /// A child in care.
    ChildId
);
id_type!(
    /// A user account.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_and_prints_as_its_number() {
        let id: EpisodeId = serde_json::from_str("42").unwrap_or(EpisodeId(0));
        assert_eq!(id, EpisodeId(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&ChildId(7)).unwrap_or_default(), "7");
    }
}
