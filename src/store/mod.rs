//! Synchronous persistence functions over `&mut AnyConnection`. Anything that changes more than one row
//! runs inside `db::write_tx`, and every change of note writes its access-log entry in that same
//! transaction, so the log can never miss a change that happened.

pub mod audit;
pub mod audit_sink;
pub mod children;
pub mod episodes;
pub mod idempotency;
pub mod org;
pub mod retention;
pub mod routines;
pub mod scope;
pub mod stats;
pub mod step_stats;
pub mod users;
pub mod worklist;
