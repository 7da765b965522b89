//! Database access for both backends from one binary.
//!
//! Policy:
//! - The backend is chosen from the URL scheme at run time (`sqlite://` or `postgres://`), never by trying
//!   one driver after the other, so a mistyped PostgreSQL URL can never silently create a SQLite file.
//! - Store functions are synchronous and take `&mut AnyConnection`; handlers reach them through
//!   [`Db::run`], which moves the work to a blocking thread.
//! - Every change goes through [`write_tx`]: on SQLite the transaction takes the write lock with its first
//!   statement, so a read-then-write transaction waits on `busy_timeout` instead of failing with
//!   `SQLITE_BUSY_SNAPSHOT` under concurrent writers.
//! - On SQLite, every `write_tx` of the process runs on one dedicated writer connection with group
//!   commit (see `writer`). The only way to a connection is [`Db::get`] (or [`Db::run`], which uses it),
//!   and the [`Conn`] it answers routes `write_tx` on its thread to the writer for as long as it lives:
//!   no thread has to remember to enter the gate. Measured reasons: SQLite's busy handler sleeps 1, 2, 5 … 100 ms between
//!   retries, so under contention the lock sat idle while waiters slept; and a connection's page cache is
//!   dropped whenever another connection has committed, so with writes spread over the pool every write
//!   transaction started cold and re-read its B-tree pages. Reads stay on the pool, in parallel. The busy
//!   timeout remains the guard against other processes (the CLI, a backup).

pub mod code;
pub mod schema;
pub mod seed;
pub mod timestamp;
mod writer;

use writer::Writer;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend, so the query inside is
/// monomorphised for SQLite and PostgreSQL directly. Through the `MultiConnection` every execution
/// rebuilds its SQL text to look up the prepared statement and converts each value through
/// `MultiBackend`; on the concrete connection a statically typed query is found in the statement cache by
/// its type alone (measured: walk_ast and the SQL builder were a tenth of a case read). For hot reads.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed database location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub backend: Backend,
    /// For SQLite the file path, for PostgreSQL the whole URL.
    pub target: String,
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("SAKNAD_DATABASE_URL names no SQLite file (expected sqlite://PATH)".into());
            }
            Ok(DbUrl { backend: Backend::Sqlite, target: path.to_string() })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl { backend: Backend::Postgres, target: url.to_string() })
        } else {
            Err("SAKNAD_DATABASE_URL must start with sqlite:// or postgres://".into())
        }
    }
}

pub fn establish(url: &DbUrl) -> ConnectionResult<AnyConnection> {
    match url.backend {
        Backend::Postgres => Ok(AnyConnection::Postgresql(diesel::PgConnection::establish(&url.target)?)),
        Backend::Sqlite => {
            let mut conn = diesel::SqliteConnection::establish(&url.target)?;
            conn.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL;",
            )
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
            Ok(AnyConnection::Sqlite(conn))
        }
    }
}

pub struct Manager {
    url: DbUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectionError> {
        use diesel::r2d2::R2D2Connection;
        conn.ping().map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// Why the database could not be used; turned into a 503 or 500 by the error layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// The connection pool handed to every handler.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    pub backend: Backend,
    gate: Option<Arc<Writer>>,
}

thread_local! {
    /// The write gates of the connections this thread holds, newest last; the newest is in force. Each
    /// [`Conn`] removes its own entry when dropped, in whatever order they are dropped.
    static GATES: RefCell<Vec<(u64, Arc<Writer>)>> = const { RefCell::new(Vec::new()) };
    /// How deep this thread is inside `write_tx` (a nested call is a savepoint and must not lock again).
    static WRITE_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// What to do once the outermost `write_tx` of this thread has committed.
    static AFTER_COMMIT: RefCell<Vec<Box<dyn FnOnce()>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` when the current `write_tx` has committed (at once outside one); dropped if it rolls back.
/// For in-process caches, which must never learn of a change before it is visible to other connections.
pub fn after_commit(f: impl FnOnce() + 'static) {
    if WRITE_DEPTH.with(|d| d.get()) == 0 {
        f();
    } else {
        AFTER_COMMIT.with(|a| a.borrow_mut().push(Box::new(f)));
    }
}

/// Makes `write_tx` on this thread queue on the database's gate until dropped.
struct GateScope {
    id: Option<u64>,
}

impl GateScope {
    fn enter(gate: Option<&Arc<Writer>>) -> GateScope {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = gate.map(|g| {
            let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            GATES.with(|s| s.borrow_mut().push((id, g.clone())));
            id
        });
        GateScope { id }
    }
}

fn current_gate() -> Option<Arc<Writer>> {
    GATES.with(|s| s.borrow().last().map(|(_, g)| g.clone()))
}

/// A pooled connection of a [`Db`]. While it lives, `write_tx` on this thread takes the database's
/// write gate (SQLite); it derefs to [`AnyConnection`] for the store.
pub struct Conn {
    conn: r2d2::PooledConnection<Manager>,
    _gate: GateScope,
}

impl std::ops::Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Drop for GateScope {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            GATES.with(|s| s.borrow_mut().retain(|(i, _)| *i != id));
        }
    }
}

impl Db {
    /// Opens the pool; fails with one sentence when the database cannot be reached.
    pub fn open(url: &DbUrl, max_size: u32) -> Result<Db, String> {
        if url.backend == Backend::Sqlite {
            if let Some(parent) = std::path::Path::new(&url.target).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        format!("cannot create the directory {} for the SQLite database: {e}", parent.display())
                    })?;
                }
            }
            let file = url.target.trim_start_matches("file:");
            if !file.is_empty() && !file.starts_with(':') && !file.contains("mode=memory") {
                crate::files::prepare_database(std::path::Path::new(file))
                    .map_err(|e| format!("cannot make the SQLite database {file} owner-only: {e}"))?;
            }
        }
        // Probe once with a clear error instead of r2d2's generic timeout.
        establish(url).map_err(|e| format!("cannot connect to the database: {}", one_line(&e.to_string())))?;
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            // A SQLite connection is a file handle and cannot go stale; a PostgreSQL one can (restarts).
            .test_on_check_out(url.backend == Backend::Postgres)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone() })
            .map_err(|e| format!("cannot open the database pool: {}", one_line(&e.to_string())))?;
        let gate = (url.backend == Backend::Sqlite).then(|| Arc::new(Writer::new(url.clone())));
        if let Some(g) = &gate {
            writer::checkpointer(Arc::downgrade(g));
        }
        Ok(Db { pool, backend: url.backend, gate })
    }

    pub fn get(&self) -> Result<Conn, DbError> {
        let conn = self.pool.get().map_err(|e| DbError::Unavailable(e.to_string()))?;
        Ok(Conn { conn, _gate: GateScope::enter(self.gate.as_ref()) })
    }

    /// Runs blocking database work off the async executor.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        match rocket::tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => Err(E::from(DbError::Unavailable(format!("database task failed: {e}")))),
        }
    }

    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        run_migrations(&mut conn)
    }
}

/// The cheapest statement that proves the database answers (the health check).
pub fn ping(conn: &mut AnyConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1").execute(conn).map(|_| ())
}

pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| format!("database migration failed: {}", one_line(&e.to_string())))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs `f` in one transaction that holds the write lock from its first statement (see the module policy).
pub fn write_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let top = WRITE_DEPTH.with(|d| d.get()) == 0;
    if !top {
        return locked_tx(conn, f);
    }
    AFTER_COMMIT.with(|a| a.borrow_mut().clear());
    WRITE_DEPTH.with(|d| d.set(1));
    let out = {
        let _depth = DepthGuard;
        gated_tx(conn, f)
    };
    let hooks = AFTER_COMMIT.with(|a| std::mem::take(&mut *a.borrow_mut()));
    if out.is_ok() {
        hooks.into_iter().for_each(|h| h());
    }
    out
}

fn gated_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let sqlite = matches!(conn, AnyConnection::Sqlite(_));
    let gate = if sqlite && !in_transaction(conn) { current_gate() } else { None };
    match gate {
        Some(writer) => writer.run(conn, f),
        None => locked_tx(conn, f),
    }
}

fn locked_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // A nested call is a savepoint of the caller's transaction; PostgreSQL orders writers by row locks.
    if !matches!(conn, AnyConnection::Sqlite(_)) || in_transaction(conn) {
        return conn.transaction(f);
    }
    // SQLite takes the write lock at once (`BEGIN IMMEDIATE`, waiting on busy_timeout), so no statement
    // of the transaction meets a lock it would have to give its snapshot up for.
    writer::begin(conn)?;
    match f(conn) {
        Ok(v) => {
            writer::commit(conn)?;
            Ok(v)
        }
        Err(e) => {
            if let Err(r) = writer::rollback(conn) {
                log::error!("rollback failed: {r}");
            }
            Err(e)
        }
    }
}

/// Runs a sequence of reads in one transaction: one snapshot, and on SQLite one page-cache check instead
/// of one per statement (a connection's cache is dropped whenever another connection has committed, so
/// autocommit reads under write load each started cold).
pub fn read_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// True inside a transaction the caller opened on this connection (its writes must stay on it).
fn in_transaction(conn: &mut AnyConnection) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().ok().flatten().is_some()
        }
        AnyConnection::Postgresql(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().ok().flatten().is_some()
        }
    }
}

struct DepthGuard;

impl Drop for DepthGuard {
    fn drop(&mut self) {
        WRITE_DEPTH.with(|d| d.set(0));
    }
}

/// True when the error is a unique-constraint violation (both backends map it to the same kind).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }

    fn temp_db(name: &str) -> Db {
        let dir = std::env::temp_dir().join(format!("saknad-gate-{}-{name}", std::process::id()));
        let url = DbUrl::parse(&format!("sqlite://{}/g.sqlite", dir.display())).expect("url");
        Db::open(&url, 4).expect("open")
    }

    fn gate_is(db: &Db) -> bool {
        match (current_gate(), &db.gate) {
            (Some(a), Some(b)) => Arc::ptr_eq(&a, b),
            _ => false,
        }
    }

    /// A thread gets the gate with its connection, without entering anything, and each connection's
    /// gate leaves with it whatever the order of dropping: no write can reach another database's writer.
    #[test]
    fn the_gate_travels_with_the_connection() {
        let (a, b) = (temp_db("a"), temp_db("b"));
        std::thread::spawn(move || {
            assert!(current_gate().is_none());
            let ca = a.get().expect("a");
            assert!(gate_is(&a));
            let cb = b.get().expect("b");
            assert!(gate_is(&b));
            drop(ca);
            assert!(gate_is(&b), "dropping the older connection leaves the newer one's gate");
            drop(cb);
            assert!(current_gate().is_none(), "no gate outlives its connection");
        })
        .join()
        .expect("thread");
    }

    /// `.cargo/config.toml` must reach the bundled SQLite build (see the note there).
    #[test]
    fn sqlite_is_built_with_the_options_the_read_path_needs() {
        let mut c = diesel::SqliteConnection::establish(":memory:").expect("in-memory database");
        let opts: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(&mut c).expect("options");
        let has = |name: &str| opts.iter().any(|o| o.compile_options == name);
        assert!(has("ENABLE_QPSG"), "SQLite was built without ENABLE_QPSG");
        assert!(has("DEFAULT_MEMSTATUS=0"), "SQLite counts memory under a global mutex");
        assert!(!has("ENABLE_MEMORY_MANAGEMENT"), "SQLite shares one page-cache group between connections");
        assert!(has("THREADSAFE=2"), "SQLite locks a connection's mutex on every call");
    }

    #[test]
    fn after_commit_runs_only_when_the_transaction_commits() {
        use std::sync::atomic::{AtomicU32, Ordering};
        static RAN: AtomicU32 = AtomicU32::new(0);
        let url = DbUrl::parse("sqlite://:memory:").expect("url");
        let mut c = establish(&url).expect("connection");
        let failed: Result<(), diesel::result::Error> = write_tx(&mut c, |_| {
            after_commit(|| {
                RAN.fetch_add(1, Ordering::SeqCst);
            });
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(failed.is_err());
        assert_eq!(RAN.load(Ordering::SeqCst), 0, "a rolled-back change ran its hook");
        write_tx(&mut c, |c| {
            write_tx(c, |_| {
                after_commit(|| {
                    RAN.fetch_add(1, Ordering::SeqCst);
                });
                Ok::<_, diesel::result::Error>(())
            })?;
            assert_eq!(RAN.load(Ordering::SeqCst), 0, "the hook ran before the outer commit");
            Ok::<_, diesel::result::Error>(())
        })
        .expect("commit");
        assert_eq!(RAN.load(Ordering::SeqCst), 1);
    }
}
