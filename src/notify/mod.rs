//! Notifications: the outbox rows written with each change, rendering, the mailer, the worker that
//! delivers and escalates, and acknowledgement tokens.

pub mod ack;
pub mod mailer;
pub mod outbox;
pub mod reminders;
pub mod render;
pub mod worker;
