//! Notifications: the outbox rows written with each change, and acknowledgement tokens.

pub mod ack;
pub mod outbox;
