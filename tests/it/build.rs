//! What the build promises: libpq is built in with TLS, so `sslmode=require` works against a server that
//! speaks TLS (CI starts its PostgreSQL cluster with `ssl=on` and a self-signed certificate, and sets
//! `SAKNAD_REQUIRE_PG_TLS=1` so this cannot skip there).

use diesel::prelude::*;
use diesel::sql_types::Bool;

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

#[test]
fn postgres_connections_keep_tls_with_the_built_in_libpq() {
    let base = match std::env::var("TEST_DATABASE_URL") {
        Ok(b) if !b.is_empty() => b,
        _ => {
            assert!(std::env::var("SAKNAD_REQUIRE_PG_TLS").is_err(), "SAKNAD_REQUIRE_PG_TLS needs TEST_DATABASE_URL");
            eprintln!("TEST_DATABASE_URL not set: TLS check skipped");
            return;
        }
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = saknad::db::DbUrl::parse(&format!("{base}{sep}sslmode=require")).expect("a PostgreSQL URL");
    let mut conn = match saknad::db::establish(&url) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("SAKNAD_REQUIRE_PG_TLS").is_err(),
                "sslmode=require failed against a server with TLS: {e}"
            );
            eprintln!("the test server does not speak TLS ({e}): TLS check skipped");
            return;
        }
    };
    let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .expect("pg_stat_ssl");
    assert!(row.ssl, "the connection made with sslmode=require is encrypted");
}
