//! Notifications: rendering, the mailer, the worker loop that delivers and escalates, and
//! acknowledgement tokens. The outbox rows, reminders and every statement the worker runs are in `store`
//! (`store::outbox`, `store::reminders`, `store::delivery`).

pub mod account;
pub mod mailer;
pub mod render;
pub mod worker;
