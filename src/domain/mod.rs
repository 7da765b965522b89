//! Pure domain rules: no I/O, time passed in as `now`.

pub mod ratelimit;
pub mod role;
pub mod validate;
