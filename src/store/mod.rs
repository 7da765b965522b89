//! Synchronous persistence functions over `&mut AnyConnection`. Anything that changes more than one row
//! runs inside `db::write_tx`, and every change of note writes its access-log entry in that same
//! transaction, so the log can never miss a change that happened.

/// Loads `$query` restricted to `$col` in `$ids`. One id is written as `=`, so diesel keeps the statement
/// prepared; an `IN` list of varying length is prepared anew every time (measured: a quarter of a case read).
/// `$query` is an expression, not a variable: it is built once per backend (`db::on_backend!`).
macro_rules! load_for_ids {
    ($conn:expr, $query:expr, $col:expr, $ids:expr) => {
        $crate::db::on_backend!($conn, |c| match $ids {
            [one] => $query.filter($col.eq(*one)).load(c),
            many => $query.filter($col.eq_any(many)).load(c),
        })
    };
}
pub(crate) use load_for_ids;

pub mod access_review;
pub mod account_mail;
pub mod audit;
pub mod audit_sink;
pub mod children;
pub mod delivery;
pub mod episodes;
pub mod idempotency;
pub mod links;
pub mod messages;
pub mod mfa;
pub mod org;
pub mod outbox;
pub mod reminders;
pub mod retention;
pub mod return_conversations;
pub mod routines;
pub mod scope;
pub mod sessions;
pub mod stats;
pub mod step_stats;
pub mod users;
pub mod worklist;
