//! Demo data (`SAKNAD_DEMO=1` on an empty database): a realistic set-up for Stockholms län so that a
//! newcomer can log in with each role and click through. Never used unless asked for.

use crate::auth::password;
use crate::db::{write_tx, AnyConnection};
use crate::domain::role::Role;
use crate::store::audit::{self, Actor, Event};
use crate::store::org::{self, CountyContacts, MunicipalityContacts, NewAccommodation};
use crate::store::users::{self, NewUser, Workplace};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde_json::json;

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
                ..Default::default()
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
        let people: [Person; 6] = [
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
            ("socialjour@demo.saknad.se", "Jonna Socialjour", Role::OnCall, Some("01"), None, None),
            ("lansstyrelsen@demo.saknad.se", "Leo Länsstyrelsen", Role::CountyOfficer, Some("01"), None, None),
            ("analytiker@demo.saknad.se", "Nora Analytiker", Role::NationalAnalyst, None, None, None),
        ];
        let mut social_worker = None;
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
                    workplace: Workplace {
                        county_code: county.map(String::from),
                        municipality_code: muni.map(String::from),
                        accommodation_id: acc,
                        municipality_codes: match role {
                            // The demo's socialjour serves Stockholm and Solna at night.
                            Role::OnCall => r#"["0180","0184"]"#.into(),
                            _ => "[]".into(),
                        },
                    },
                    language: "sv".into(),
                },
                now,
            )?;
            audit::append(c, &Actor::system(), &Event::new("user_created").on("user", u.id).detail("demo"), now)?;
            if role == Role::SocialWorker {
                social_worker = Some(u.id);
            }
            table.push_str(&format!("  {:<18} {}\n", role.as_str(), email));
        }
        seed_children(c, hvb.id, social_worker, now)?;
        Ok(Some(table))
    })
}

/// Three children placed at HVB Linden, with guardians and preparedness sheets (invented people).
fn seed_children(
    c: &mut AnyConnection,
    accommodation: i64,
    social_worker: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use crate::store::children::{self, ChildFields};
    use chrono::NaiveDate;
    let kids = [
        (
            "Amir",
            "Rahimi",
            "2010-03-14",
            "male",
            "AF",
            ["prs", "sv"],
            "Greta Godman",
            "god.man.greta@demo.saknad.se",
            "sv",
            json!({"height": "165 cm", "build": "slim", "hair": "black, short", "eyes": "brown", "distinguishing_marks": "scar above the left eyebrow",
                "phone_numbers": "070-111 22 33", "social_media": "Snapchat: amir_r10", "known_contacts": "a cousin in Malmö",
                "known_places": "Centralstationen, Kungsträdgården", "health_and_medication": "asthma, inhaler daily"}),
        ),
        (
            "Yonas",
            "Tesfay",
            "2011-07-02",
            "male",
            "ER",
            ["ti", "en"],
            "Bo Berg",
            "bo.berg@demo.saknad.se",
            "en",
            json!({"height": "158 cm", "hair": "curly, black", "phone_numbers": "070-222 33 44", "vulnerabilities": "recently rejected asylum application"}),
        ),
        (
            "Samira",
            "Haidari",
            "2009-11-20",
            "female",
            "AF",
            ["fa", "sv"],
            "Karin Lind",
            "karin.lind@demo.saknad.se",
            "sv",
            json!({"height": "160 cm", "hair": "long, dark brown", "known_contacts": "older friends she met online"}),
        ),
    ];
    for (given, family, dob, sex, nat, langs, gname, gemail, glang, prep) in kids {
        let f = ChildFields {
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            aliases: Some(vec![]),
            date_of_birth: NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok(),
            date_of_birth_estimated: Some(true),
            sex: Some(sex.into()),
            nationality: Some(Some(nat.into())),
            languages: Some(langs.iter().map(|l| l.to_string()).collect()),
            dossier_number: Some(Some(format!("{}-{}", &dob[2..4], &dob[5..7]))),
            asylum_status: Some(Some("asylum seeker".into())),
            assigning_municipality_code: Some(Some("0180".into())),
            guardian_name: Some(Some(gname.into())),
            guardian_email: Some(Some(gemail.into())),
            guardian_phone: Some(Some("070-555 00 00".into())),
            guardian_language: Some(Some(glang.into())),
        };
        let serde_json::Value::Object(sheet) = prep else { continue };
        let id = children::insert(c, &f, "0180", social_worker, &sheet, now)?;
        children::mark_reviewed(c, id, now)?;
        if given == "Yonas" {
            // A recent rejection: the worklist prompts a review with him, and a report would be medium risk.
            let decided = crate::domain::calendar::local_date(now) - chrono::Duration::days(10);
            let d = children::AsylumDecision { date: decided, outcome: "rejected".into() };
            children::set_asylum_decision(c, id, Some(&d), now)?;
        }
        children::place(c, id, accommodation, social_worker.unwrap_or(0), now)?;
        audit::append(
            c,
            &Actor::system(),
            &Event::new("child_created").on("child", id).county(Some("01")).detail("demo"),
            now,
        )?;
    }
    Ok(())
}
