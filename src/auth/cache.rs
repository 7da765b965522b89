//! A short-lived cache of the rows the guard checks on every request (users and sessions).
//!
//! Policy: an entry is used for at most one second, and only while no row of its table has been changed by
//! this process since it was read (a generation counter per table, bumped after every committed change). So
//! a password change, reset, deactivation or logout takes effect on this instance at once; another instance
//! sharing the database notices within the second (docs/operations.md).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(1);
/// More distinct keys than this within a second means something unusual; start over rather than grow.
const MAX_ENTRIES: usize = 10_000;

struct Entry<R> {
    read_at: Instant,
    generation: u64,
    row: R,
}

pub struct RowCache<K, R> {
    map: Mutex<HashMap<K, Entry<R>>>,
    generation: fn() -> u64,
}

impl<K: Hash + Eq, R: Clone> RowCache<K, R> {
    /// A cache of rows whose table's changes are counted by `generation`.
    pub fn new(generation: fn() -> u64) -> Self {
        RowCache { map: Mutex::new(HashMap::new()), generation }
    }

    /// The generation to take before reading a row that will be [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        (self.generation)()
    }

    /// The cached row, if it is fresh and no row of its table has changed since it was read.
    pub fn get(&self, key: &K) -> Option<R> {
        let generation = self.generation();
        let map = self.map.lock().ok()?;
        map.get(key).filter(|e| e.generation == generation && e.read_at.elapsed() < TTL).map(|e| e.row.clone())
    }

    /// Remembers a row read from the database; `generation` must be taken before the read.
    pub fn put(&self, key: K, row: R, generation: u64, read_at: Instant) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, Entry { read_at, generation, row });
        }
    }
}

pub type UserCache = RowCache<i64, crate::store::users::UserRow>;
pub type SessionCache = RowCache<String, crate::store::sessions::SessionRow>;
