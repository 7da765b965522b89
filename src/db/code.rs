//! Row fields whose column holds a short code (`domain::code::Code`): `#[diesel(deserialize_as =
//! Coded<T>)]` reads the text and parses it, so a row with a code the program does not know is an error
//! when read (a corrupt row), not a value that silently compares unequal to everything.

use super::MultiBackend;
use crate::domain::code::Code;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

#[derive(diesel::deserialize::FromSqlRow)]
pub struct Coded<T: Code>(pub T);

fn parse<T: Code>(s: &str) -> deserialize::Result<Coded<T>> {
    T::parse(s).map(Coded).ok_or_else(|| format!("unknown code {s:?} in the database").into())
}

impl<T: Code> FromSql<Text, Sqlite> for Coded<T> {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse(&<String as FromSql<Text, Sqlite>>::from_sql(value)?)
    }
}

impl<T: Code> FromSql<Text, Pg> for Coded<T> {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse(&<String as FromSql<Text, Pg>>::from_sql(value)?)
    }
}

impl<T: Code> FromSql<Text, MultiBackend> for Coded<T> {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Coded<T>, Text>()
    }
}

macro_rules! unwrap_coded {
    ($($t:ty),*) => {$(
        impl From<Coded<$t>> for $t {
            fn from(c: Coded<$t>) -> Self {
                c.0
            }
        }
    )*};
}
unwrap_coded!(
    crate::domain::episode::Status,
    crate::domain::episode::StepStatus,
    crate::domain::recipients::RecipientKind
);
