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

pub mod schema;
pub mod seed;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

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
        }
        // Probe once with a clear error instead of r2d2's generic timeout.
        establish(url).map_err(|e| format!("cannot connect to the database: {}", one_line(&e.to_string())))?;
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone() })
            .map_err(|e| format!("cannot open the database pool: {}", one_line(&e.to_string())))?;
        Ok(Db { pool, backend: url.backend })
    }

    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, DbError> {
        self.pool.get().map_err(|e| DbError::Unavailable(e.to_string()))
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
    conn.transaction(|conn| {
        if matches!(conn, AnyConnection::Sqlite(_)) {
            // Matches no row, but makes SQLite take the write lock now (waiting on busy_timeout).
            diesel::sql_query("UPDATE audit_head SET seq = seq WHERE id = 0").execute(conn)?;
        }
        f(conn)
    })
}

/// True when the error is a unique-constraint violation (both backends map it to the same kind).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
