//! Demo data (`SAKNAD_DEMO=1` on an empty database): a realistic set-up for Stockholms län so that a
//! newcomer can log in with each role and click through. Never used unless asked for.

use crate::auth::password;
use crate::db::{write_tx, AnyConnection};
use crate::domain::role::Role;
use crate::store::audit::{self, Actor, Event};
use crate::store::org::{self, CountyContacts, MunicipalityContacts, NewAccommodation};
use crate::store::users::{self, NewUser};
use chrono::{DateTime, Utc};
use diesel::QueryResult;

pub const DEMO_PASSWORD: &str = "saknad-demo-2026";

/// Seeds the demo unless the database already has users; returns the login table to print.
pub fn seed(conn: &mut AnyConnection, now: DateTime<Utc>) -> QueryResult<Option<String>> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let hash = password::hash(DEMO_PASSWORD).map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
    write_tx(conn, |c| {
        org::set_county_contacts(
            c,
            "01",
            &CountyContacts {
                police_email: Some("rlc.stockholm@polisen.demo".into()),
                police_fallback_email: Some("vakthavande.stockholm@polisen.demo".into()),
                migrationsverket_email: Some("mottagning.stockholm@migrationsverket.demo".into()),
                trafficking_coordinator_email: Some("regionkoordinator@lansstyrelsen-ab.demo".into()),
                county_email: Some("ensamkommande@lansstyrelsen-ab.demo".into()),
            },
        )?;
        for (code, name) in [("0180", "stockholm"), ("0184", "solna")] {
            org::set_municipality_contacts(
                c,
                code,
                &MunicipalityContacts {
                    social_services_email: Some(format!("socialtjansten@{name}.demo")),
                    on_call_email: Some(format!("socialjouren@{name}.demo")),
                },
            )?;
        }
        let hvb = org::insert_accommodation(
            c,
            &NewAccommodation {
                name: "HVB Linden".into(),
                kind: "hvb".into(),
                municipality_code: "0180".into(),
                phone: "+46 8 555 010 10".into(),
                email: "personal@hvb-linden.demo".into(),
            },
            now,
        )?;
        org::insert_accommodation(
            c,
            &NewAccommodation {
                name: "Stödboende Solna".into(),
                kind: "stodboende".into(),
                municipality_code: "0184".into(),
                phone: "+46 8 555 020 20".into(),
                email: "personal@stodboende-solna.demo".into(),
            },
            now,
        )?;
        type Person<'a> = (&'a str, &'a str, Role, Option<&'a str>, Option<&'a str>, Option<i64>);
        let people: [Person; 5] = [
            ("admin@demo.saknad.se", "Alva Admin", Role::Admin, None, None, None),
            ("personal@demo.saknad.se", "Sami Personal", Role::Staff, Some("01"), Some("0180"), Some(hvb.id)),
            (
                "socialsekreterare@demo.saknad.se",
                "Sara Socialsekreterare",
                Role::SocialWorker,
                Some("01"),
                Some("0180"),
                None,
            ),
            ("lansstyrelsen@demo.saknad.se", "Leo Länsstyrelsen", Role::CountyOfficer, Some("01"), None, None),
            ("analytiker@demo.saknad.se", "Nora Analytiker", Role::NationalAnalyst, None, None, None),
        ];
        let mut table = String::from("Demo logins (password for all: ");
        table.push_str(DEMO_PASSWORD);
        table.push_str(")\n");
        for (email, name, role, county, muni, acc) in people {
            let u = users::insert(
                c,
                &NewUser {
                    email: email.into(),
                    name: name.into(),
                    password_hash: hash.clone(),
                    role,
                    county_code: county.map(String::from),
                    municipality_code: muni.map(String::from),
                    accommodation_id: acc,
                    language: "sv".into(),
                },
                now,
            )?;
            audit::append(c, &Actor::system(), &Event::new("user_created").on("user", u.id).detail("demo"), now)?;
            table.push_str(&format!("  {:<18} {}\n", role.as_str(), email));
        }
        Ok(Some(table))
    })
}
