//! The use cases: one function per thing a person does, used by the JSON API, the pages and the command
//! line alike. A use case takes its input, the actor, the database connection and `now`; decides who may
//! (through `domain::permission` and the scope inside every query); owns the transaction, the access-log
//! entry and the outbox rows; and answers a view or an [`AppError`]. Nothing here knows HTTP: the adapters
//! in `routes/api` and `web` map an `AppError` to the API's error shape or to a page with the errors at
//! their fields.

pub mod ack;
pub mod auth;
pub mod cases;
pub mod children;
pub mod command;
pub mod error;
pub mod mail;
pub mod mfa;
pub mod oidc;
pub mod org;
pub mod routines;
pub mod stats;
pub mod users;

pub use error::{AppError, AppResult, ErrorKind, FieldErrors};

/// A read's answer with the access-log entry that records it. A read holds no write lock: the adapter hands
/// the entry to the group-committed log (`AppState::disclose`), which commits it before the answer leaves.
pub struct Disclosed<T> {
    pub value: T,
    pub entry: crate::store::audit::Event,
    /// For a list: one entry for each record it disclosed, so that "who saw this child" finds list reads too.
    pub records: Vec<crate::store::audit::Event>,
}

// The signed-in user is the actor of every use case: its scope for the queries, its name for the timeline.
impl From<&crate::auth::AuthUser> for crate::store::scope::Scope {
    fn from(u: &crate::auth::AuthUser) -> crate::store::scope::Scope {
        crate::store::scope::Scope::new(u.role, &u.workplace)
    }
}

impl<'a> From<&'a crate::auth::AuthUser> for crate::store::episodes::TimelineActor<'a> {
    fn from(u: &'a crate::auth::AuthUser) -> Self {
        crate::store::episodes::TimelineActor { user_id: Some(u.id), role: Some(u.role.as_str()), name: Some(&u.name) }
    }
}
