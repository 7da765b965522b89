//! The SQLite writer: one connection for every write transaction of the process, with group commit.
//!
//! Policy:
//! - Writers take the writer in turn (a mutex; SQLite's own busy handler would sleep 1–100 ms between
//!   retries). The connection only ever sees its own commits, so its page cache stays warm.
//! - Group commit: each write transaction runs as a savepoint inside a batch transaction. When another
//!   writer is already waiting, the batch is left open for it and this writer waits until the batch has
//!   committed; the last writer of a batch (or the 64th, or one 2 ms after the batch began) commits it.
//!   A commit writes each changed page once for the whole batch instead of once per transaction
//!   (measured: a report rewrote ~50 pages, most of them shared with the next report).
//! - Nobody returns before their changes are committed: a writer whose work succeeded returns only after
//!   the batch commit succeeded, and gets an error if it failed. A writer whose work failed returns at
//!   once; its savepoint was rolled back and the batch goes on without it.
//! - The writer does not checkpoint the WAL itself (its commit would wait for the checkpoint's fsync while
//!   every other writer waits for it); a background thread runs a passive checkpoint every 250 ms.
//! - A batch whose transaction broke (a failed savepoint rollback, a panic) is rolled back as a whole and
//!   every member gets an error; nothing of it is visible.

use super::{establish, AnyConnection, DbUrl};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const MAX_MEMBERS: usize = 64;
const MAX_AGE: Duration = Duration::from_millis(2);
pub struct Writer {
    url: DbUrl,
    state: Mutex<State>,
    committed: Condvar,
    waiting: AtomicUsize,
}

#[derive(Default)]
struct State {
    conn: Option<AnyConnection>,
    open: Option<Batch>,
    next_id: u64,
    /// Finished batches whose waiting members have not all read the outcome yet:
    /// batch id → (committed, members still to read it). An entry lives exactly as long as someone
    /// needs it; a member starved of the mutex while hundreds of batches pass still finds its own.
    outcomes: std::collections::HashMap<u64, (bool, usize)>,
}

struct Batch {
    id: u64,
    began: Instant,
    members: usize,
    /// Members that returned their work and wait for this batch's commit.
    waiting: usize,
}

impl State {
    fn finish(&mut self, id: u64, ok: bool) {
        if let Some(b) = self.open.take() {
            if b.waiting > 0 {
                self.outcomes.insert(id, (ok, b.waiting));
            }
        }
    }

    /// The outcome of batch `id` for one of its waiting members (each reads it once).
    fn take_outcome(&mut self, id: u64) -> Option<bool> {
        let (ok, left) = self.outcomes.get_mut(&id)?;
        let ok = *ok;
        *left -= 1;
        if *left == 0 {
            self.outcomes.remove(&id);
        }
        Some(ok)
    }

    /// Ends an open batch that cannot go on: rolls it back and fails its members.
    fn abort(&mut self) {
        if let Some(b) = self.open.as_ref().map(|b| b.id) {
            if let Some(c) = self.conn.as_mut() {
                let _ = rollback(c);
            }
            self.finish(b, false);
        }
        self.conn = None;
    }
}

/// True when the transaction manager is in an error state (an open transaction is not an error here).
fn broken(c: &mut AnyConnection) -> bool {
    match c {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().is_err()
        }
        AnyConnection::Postgresql(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().is_err()
        }
    }
}

/// Takes SQLite's write lock at once (waiting on busy_timeout for another process), so no statement of
/// the batch can meet a lock it would have to give up its snapshot for.
pub(super) fn begin(c: &mut AnyConnection) -> QueryResult<()> {
    match c {
        AnyConnection::Sqlite(s) => AnsiTransactionManager::begin_transaction_sql(s, "BEGIN IMMEDIATE"),
        AnyConnection::Postgresql(_) => <AnyConnection as Connection>::TransactionManager::begin_transaction(c),
    }
}

pub(super) fn commit(c: &mut AnyConnection) -> QueryResult<()> {
    <AnyConnection as Connection>::TransactionManager::commit_transaction(c)
}

pub(super) fn rollback(c: &mut AnyConnection) -> QueryResult<()> {
    <AnyConnection as Connection>::TransactionManager::rollback_transaction(c)
}

impl Writer {
    pub fn new(url: DbUrl) -> Writer {
        Writer { url, state: Mutex::new(State::default()), committed: Condvar::new(), waiting: AtomicUsize::new(0) }
    }

    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => self.recover(poisoned.into_inner()),
        }
    }

    /// A writer panicked inside its work: what it left open cannot be trusted.
    fn recover<'a>(&'a self, mut g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        g.abort();
        self.state.clear_poison();
        self.committed.notify_all();
        g
    }

    fn wait<'a>(&'a self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        // The timeout only matters if the batch's last writer panicked before it could tell anyone.
        match self.committed.wait_timeout(g, Duration::from_millis(50)) {
            Ok((g, _)) => g,
            Err(p) => self.recover(p.into_inner().0),
        }
    }

    /// Runs `f` as one member of a batch on the writer connection; `fallback` is used when the writer
    /// connection cannot be opened.
    pub fn run<T, E, F>(&self, fallback: &mut AnyConnection, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut st = self.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if st.conn.is_none() {
            st.conn = establish(&self.url)
                .ok()
                .and_then(|mut c| c.batch_execute("PRAGMA wal_autocheckpoint = 0").ok().map(|_| c));
        }
        let State { conn, open, next_id, .. } = &mut *st;
        let Some(c) = conn.as_mut() else {
            drop(st);
            return super::locked_tx(fallback, f);
        };
        if open.is_none() {
            if let Err(e) = begin(c) {
                let _ = rollback(c);
                st.conn = None;
                return Err(e.into());
            }
            *next_id += 1;
            *open = Some(Batch { id: *next_id, began: Instant::now(), members: 0, waiting: 0 });
        }
        let Some(batch) = open.as_mut() else { return Err(diesel::result::Error::NotInTransaction.into()) };
        batch.members += 1;
        let (id, members, began) = (batch.id, batch.members, batch.began);
        let out = c.transaction(f);
        if broken(c) {
            st.abort();
            self.committed.notify_all();
            return match out {
                Err(e) => Err(e),
                Ok(_) => Err(diesel::result::Error::BrokenTransactionManager.into()),
            };
        }
        let others_waiting = self.waiting.load(Ordering::SeqCst) > 0;
        if others_waiting && members < MAX_MEMBERS && began.elapsed() < MAX_AGE {
            // Leave the batch to the next writer; an error of ours is already rolled back.
            let value = out?;
            if let Some(b) = st.open.as_mut() {
                b.waiting += 1;
            }
            loop {
                if let Some(ok) = st.take_outcome(id) {
                    return if ok { Ok(value) } else { Err(diesel::result::Error::RollbackTransaction.into()) };
                }
                st = self.wait(st);
            }
        }
        let committed = commit(c);
        if committed.is_err() {
            let _ = rollback(c);
        }
        st.finish(id, committed.is_ok());
        if st.conn.as_mut().is_some_and(diesel::r2d2::R2D2Connection::is_broken) {
            st.conn = None;
        }
        self.committed.notify_all();
        match committed {
            Ok(()) => out,
            Err(e) => Err(e.into()),
        }
    }
}

/// Checkpoints the WAL of the writer's database until the last `Db` using it is dropped.
pub fn checkpointer(writer: std::sync::Weak<Writer>) {
    let spawned = std::thread::Builder::new().name("saknad-checkpoint".into()).spawn(move || {
        let mut conn: Option<AnyConnection> = None;
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let Some(w) = writer.upgrade() else { return };
            if conn.is_none() {
                conn = establish(w.url()).ok();
            }
            drop(w);
            if let Some(c) = conn.as_mut() {
                if let Err(e) = checkpoint(c) {
                    log::debug!("checkpoint: {e}");
                    conn = None;
                }
            }
        }
    });
    if let Err(e) = spawned {
        log::error!("cannot start the checkpoint thread: {e}");
    }
}

#[derive(QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// WAL frames (4 KiB pages) after which the checkpointer also restarts the log.
const WAL_RESTART_FRAMES: i32 = 16_384;

/// A passive checkpoint never blocks anyone, but under a steady stream of readers the WAL is never
/// reset and grows without bound (measured: 1 GB within a minute of reports), making every commit
/// append to new file space. When it is long, a RESTART checkpoint waits for the readers of the old log
/// (sub-millisecond reads) so the next writer starts the log from the beginning.
fn checkpoint(c: &mut AnyConnection) -> QueryResult<()> {
    let r: Vec<CheckpointResult> = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").load(c)?;
    if r.first().is_some_and(|r| r.log > WAL_RESTART_FRAMES) {
        c.batch_execute("PRAGMA wal_checkpoint(RESTART)")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{write_tx, Db, DbUrl};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    /// A member starved of the mutex while many later batches finish still learns its own batch's
    /// outcome (it used to be evicted after 256 batches, and the member waited forever), and outcomes
    /// nobody waits for are not kept.
    #[test]
    fn a_late_member_still_finds_its_outcome() {
        use super::{Batch, State};
        let mut st = State::default();
        let open = |st: &mut State, id: u64, waiting: usize| {
            st.open = Some(Batch { id, began: std::time::Instant::now(), members: waiting + 1, waiting });
        };
        open(&mut st, 1, 2);
        st.finish(1, true);
        for id in 2..1000 {
            open(&mut st, id, 0);
            st.finish(id, id % 7 != 0);
        }
        open(&mut st, 1000, 1);
        st.finish(1000, false);
        assert_eq!(st.take_outcome(1), Some(true));
        assert_eq!(st.take_outcome(1), Some(true));
        assert_eq!(st.take_outcome(1), None, "read more often than it had waiters");
        assert_eq!(st.take_outcome(1000), Some(false));
        assert!(st.outcomes.is_empty(), "outcomes kept after every waiter read them");
    }

    /// Concurrent writers share batches; a failing member's rows vanish, every other member's stay, and
    /// each succeeding writer can read its row on another connection as soon as it returns.
    #[test]
    fn group_commit_keeps_members_apart() {
        let dir = std::env::temp_dir().join(format!("saknad-group-{}", std::process::id()));
        let url = DbUrl::parse(&format!("sqlite://{}/g.sqlite", dir.display())).expect("url");
        let db = Db::open(&url, 12).expect("open");
        let mut c = db.get().expect("conn");
        c.batch_execute("CREATE TABLE t (v BIGINT)").expect("tables");
        drop(c);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut kept = 0;
                    for i in 0..50i64 {
                        let v = t * 1000 + i;
                        let mut c = db.get().expect("conn");
                        let r: Result<(), diesel::result::Error> = write_tx(&mut c, |c| {
                            diesel::sql_query(format!("INSERT INTO t VALUES ({v})")).execute(c)?;
                            if i % 5 == 0 {
                                return Err(diesel::result::Error::RollbackTransaction);
                            }
                            Ok(())
                        });
                        if r.is_ok() {
                            kept += 1;
                            let seen: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                                "(SELECT COUNT(*) FROM t WHERE v = {v})"
                            )))
                            .get_result(&mut *c)
                            .expect("read back");
                            assert_eq!(seen, 1, "a writer returned before its row was committed");
                        }
                    }
                    kept
                })
            })
            .collect();
        let kept: i64 = threads.into_iter().map(|t| t.join().expect("thread")).sum();
        let mut c = db.get().expect("conn");
        let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT COUNT(*) FROM t)"))
            .get_result(&mut *c)
            .expect("count");
        let failed: i64 =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT COUNT(*) FROM t WHERE v % 5 = 0)"))
                .get_result(&mut *c)
                .expect("count");
        assert_eq!((rows, kept, failed), (8 * 40, 8 * 40, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
