//! Row fields of type `NaiveDateTime` read through `crate::timefmt` on SQLite.
//!
//! `#[diesel(deserialize_as = Ts)]` (or `OptTs` for a nullable column) on a field of a row type that is
//! read on the hot path. PostgreSQL sends timestamps in binary and keeps diesel's own conversion; on
//! SQLite a value in the form diesel writes is parsed directly and anything else goes to diesel's parser.

use super::MultiBackend;
use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

#[derive(diesel::deserialize::FromSqlRow)]
pub struct Ts(pub NaiveDateTime);
#[derive(diesel::deserialize::FromSqlRow)]
pub struct OptTs(pub Option<NaiveDateTime>);

impl From<Ts> for NaiveDateTime {
    fn from(t: Ts) -> Self {
        t.0
    }
}

impl From<OptTs> for Option<NaiveDateTime> {
    fn from(t: OptTs) -> Self {
        t.0
    }
}

fn sqlite(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<NaiveDateTime> {
    let fast = match value.value_type() {
        Some(diesel::sqlite::SqliteType::Text) => crate::timefmt::parse_sqlite(value.read_text()),
        _ => None,
    };
    match fast {
        Some(t) => Ok(t),
        None => <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value),
    }
}

impl FromSql<Timestamp, Sqlite> for Ts {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        sqlite(value).map(Ts)
    }
}

impl FromSql<Timestamp, Pg> for Ts {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Ts)
    }
}

impl FromSql<Timestamp, MultiBackend> for Ts {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Ts, Timestamp>()
    }
}

/// A nullable column: `None` for SQL NULL, otherwise as `Ts` on the same backend.
macro_rules! nullable {
    ($($db:ty),*) => {$(
        impl FromSql<Nullable<Timestamp>, $db> for OptTs {
            fn from_sql(value: <$db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <Ts as FromSql<Timestamp, $db>>::from_sql(value).map(|t| OptTs(Some(t.0)))
            }
            fn from_nullable_sql(value: Option<<$db as Backend>::RawValue<'_>>) -> deserialize::Result<Self> {
                value.map_or(Ok(OptTs(None)), <Self as FromSql<Nullable<Timestamp>, $db>>::from_sql)
            }
        }
    )*};
}
nullable!(Sqlite, Pg);

impl FromSql<Nullable<Timestamp>, MultiBackend> for OptTs {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<OptTs, Nullable<Timestamp>>()
    }
    fn from_nullable_sql(value: Option<<MultiBackend as Backend>::RawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(OptTs(None)), <Self as FromSql<Nullable<Timestamp>, MultiBackend>>::from_sql)
    }
}
