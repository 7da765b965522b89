//! HTTP handlers: thin — parse, authorise, call the store in one `db.run`, respond.

pub mod api;
pub mod health;
