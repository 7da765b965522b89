//! Pure domain rules: no I/O, time passed in as `now`.

pub mod calendar;
pub mod code;
pub mod compliance;
pub mod deadline;
pub mod delivery;
pub mod episode;
pub mod ids;
pub mod lockout;
pub mod permission;
pub mod preparedness;
pub mod prevention;
pub mod recipients;
pub mod risk;
pub mod role;
pub mod routine;
pub mod session;
pub mod stats;
pub mod validate;
