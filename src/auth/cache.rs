//! A short-lived cache of the user rows the guard checks on every request.
//!
//! Policy: an entry is used for at most one second, and only while no user row has been changed by this
//! process since it was read (a generation counter bumped after every committed change to `users`). So a
//! password change, reset or deactivation revokes tokens on this instance at once; another instance
//! sharing the database notices within the second (docs/operations.md).

use crate::store::users::{self, UserRow};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(1);
/// More distinct users than this within a second means something unusual; start over rather than grow.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    read_at: Instant,
    generation: u64,
    row: UserRow,
}

#[derive(Default)]
pub struct UserCache {
    map: Mutex<HashMap<i64, Entry>>,
}

impl UserCache {
    /// The cached row, if it is fresh and no user has changed since it was read.
    pub fn get(&self, id: i64) -> Option<UserRow> {
        let generation = users::generation();
        let map = self.map.lock().ok()?;
        map.get(&id).filter(|e| e.generation == generation && e.read_at.elapsed() < TTL).map(|e| e.row.clone())
    }

    /// Remembers a row read from the database; `generation` must be taken before the read.
    pub fn put(&self, row: UserRow, generation: u64, read_at: Instant) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(row.id, Entry { read_at, generation, row });
        }
    }
}
