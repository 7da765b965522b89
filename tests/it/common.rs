//! One way to start the app in a test: `TestApp::spawn(Backend)`, each test on its own fresh database
//! (a temporary SQLite file, or a new PostgreSQL database under `TEST_DATABASE_URL`).

use diesel::prelude::*;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use saknad::clock::Clock;
use saknad::domain::role::Role;
use saknad::state::AppState;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "AwI31l4RhXSzN8Ea9stqOi8PrvrFpbrQgTbmpTxMZmM";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub client: Client,
    pub backend: Backend,
    pub _dir: tempfile::TempDir,
    pub db_url: String,
    pg_admin: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    format!("saknad_t_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), rand_suffix())
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

/// Replaces the database name of a PostgreSQL URL.
pub fn pg_url_with_db(base: &str, db: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (base, None),
    };
    let scheme_end = main.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = main[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(main.len());
    let mut url = format!("{}/{}", &main[..path_start], db);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

pub fn test_figment(db_url: &str, data_dir: &std::path::Path) -> Figment {
    Figment::from(rocket::Config::debug_default())
        .merge(("log_level", "off"))
        .merge(("database_url", db_url))
        .merge(("jwt_secret", SECRET))
        .merge(("data_dir", data_dir.display().to_string()))
        .merge(("db_pool_size", 4))
        .merge(("public_url", "http://saknad.test"))
        .merge(("worker", false))
        // Tests move the clock by hours to see deadlines pass, with the same signed-in people: as if they
        // were at work in between. The 30-minute default is tested on its own (auth::a_session_ends_…).
        .merge(("session_idle_minutes", 24 * 60))
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |f| f).await
    }

    /// Spawns with extra configuration (e.g. `smtp_url`).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(Figment) -> Figment) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db_url, pg_admin) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("t.sqlite").display()), None),
            Backend::Postgres => {
                let base = match std::env::var("TEST_DATABASE_URL") {
                    Ok(b) if !b.is_empty() => b,
                    _ => {
                        assert!(
                            std::env::var("SAKNAD_REQUIRE_PG").is_err(),
                            "SAKNAD_REQUIRE_PG is set but TEST_DATABASE_URL is not"
                        );
                        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
                        return None;
                    }
                };
                let name = unique_name();
                let mut admin = PgConnection::establish(&base).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
                (pg_url_with_db(&base, &name), Some((base, name)))
            }
        };
        let figment = configure(test_figment(&db_url, dir.path()));
        let rocket = saknad::build_with_clock(figment, Clock::system()).expect("build app");
        let client = Client::untracked(rocket).await.expect("client");
        Some(TestApp { client, backend, _dir: dir, db_url, pg_admin })
    }

    pub fn state(&self) -> &AppState {
        self.client.rocket().state::<AppState>().expect("state")
    }

    pub fn clock(&self) -> &Clock {
        &self.state().clock
    }

    /// Runs the delivery worker once (escalations, then every due message); returns messages sent.
    pub async fn drain(&self) -> usize {
        let st = self.state();
        saknad::notify::worker::run_once(&st.db, &st.outbox, &st.clock).await.expect("worker pass")
    }

    /// Uploads a small PNG as the child's photo.
    pub async fn put_photo(&self, token: &str, child: i64) {
        const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        let resp = self
            .client
            .put(format!("/api/v1/children/{child}/photo"))
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .body(PNG)
            .dispatch()
            .await;
        assert_eq!(resp.status(), Status::NoContent);
    }

    pub fn conn(&self) -> saknad::db::Conn {
        self.state().db.get().expect("connection")
    }

    /// A user's row as stored.
    pub fn conn_user(&self, id: i64) -> saknad::store::users::UserRow {
        saknad::store::users::by_id(&mut self.conn(), id).expect("query").expect("user")
    }

    /// Creates a user directly in the store and returns its id.
    pub fn user(&self, email: &str, role: Role, county: Option<&str>, muni: Option<&str>, acc: Option<i64>) -> i64 {
        let mut c = self.conn();
        let new = saknad::store::users::NewUser {
            email: email.to_string(),
            // Names as people have them: a role code in a name would read as a code shown to a person.
            name: match role {
                Role::Staff => "Sara Personal",
                Role::SocialWorker => "Sam Socialsekreterare",
                Role::OnCall => "Jon Socialjour",
                Role::CountyOfficer => "Lena Länsstyrelsen",
                Role::NationalAnalyst => "Nils Analytiker",
                Role::Admin => "Ada Admin",
            }
            .to_string(),
            password_hash: saknad::auth::password::hash(PASSWORD).expect("hash"),
            role,
            // For on_call, `muni` lists the municipalities it serves, comma separated.
            workplace: saknad::store::users::Workplace {
                county_code: county.map(String::from),
                municipality_code: muni.map(String::from).filter(|_| role != Role::OnCall),
                accommodation_id: acc,
                municipality_codes: match (role, muni) {
                    (Role::OnCall, Some(m)) => {
                        serde_json::to_string(&m.split(',').collect::<Vec<_>>()).unwrap_or_default()
                    }
                    _ => "[]".into(),
                },
            },
            language: "sv".into(),
        };
        saknad::store::users::insert(&mut c, &new, self.clock().now()).expect("insert user").id
    }

    pub async fn login(&self, email: &str) -> String {
        let (s, v) =
            self.post("/api/v1/auth/login", None, serde_json::json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(s, Status::Ok, "login {email}: {v}");
        v["token"].as_str().expect("token").to_string()
    }

    /// An admin user and its token.
    pub async fn admin(&self) -> String {
        self.user("admin@test.se", Role::Admin, None, None, None);
        self.login("admin@test.se").await
    }

    pub async fn send(
        &self,
        method: rocket::http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (Status, Value) {
        let mut req = self.client.req(method, path.to_string());
        if let Some(t) = token {
            req.add_header(Header::new("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req.add_header(Header::new(k.to_string(), v.to_string()));
        }
        if let Some(b) = body {
            req.add_header(ContentType::JSON);
            req.set_body(b);
        }
        let resp = req.dispatch().await;
        read(resp).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (Status, Value) {
        self.send(rocket::http::Method::Get, path, token, None, &[]).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.send(rocket::http::Method::Post, path, token, Some(body.to_string()), &[]).await
    }
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.send(rocket::http::Method::Put, path, token, Some(body.to_string()), &[]).await
    }
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.send(rocket::http::Method::Patch, path, token, Some(body.to_string()), &[]).await
    }

    /// A page without a session (e.g. behind a link in an email): the status and the HTML.
    pub async fn public_page(&self, path: &str) -> (Status, String) {
        let resp = self.client.get(path.to_string()).dispatch().await;
        let status = resp.status();
        (status, resp.into_string().await.unwrap_or_default())
    }

    /// A web page as the browser session of `token` sees it: the status and the HTML.
    pub async fn page(&self, path: &str, token: &str) -> (Status, String) {
        let resp = self
            .client
            .get(path.to_string())
            .cookie(rocket::http::Cookie::new(saknad::auth::SESSION_COOKIE, token.to_string()))
            .dispatch()
            .await;
        let status = resp.status();
        (status, resp.into_string().await.unwrap_or_default())
    }

    /// A web form submitted by the browser session of `token`, with a valid CSRF token; `fields` are
    /// `name=value` pairs, URL-encoded here. Answers the status and the `Location` of a redirect.
    pub async fn submit(&self, path: &str, token: &str, fields: &[(&str, &str)]) -> (Status, Option<String>) {
        let r = self.submit_page(path, token, fields).await;
        (r.0, r.1)
    }

    /// As [`submit`](Self::submit), with the page that came back (empty for a redirect).
    pub async fn submit_page(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> (Status, Option<String>, String) {
        const CSRF: &str = "form-test-token-form-test-token-form-test";
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect();
        let resp = self
            .client
            .post(format!("{path}?csrf={CSRF}"))
            .cookie(rocket::http::Cookie::new(saknad::auth::SESSION_COOKIE, token.to_string()))
            .cookie(rocket::http::Cookie::new("saknad_csrf", CSRF))
            .header(ContentType::Form)
            .body(body.join("&"))
            .dispatch()
            .await;
        let (status, location) = (resp.status(), resp.headers().get_one("Location").map(String::from));
        (status, location, resp.into_string().await.unwrap_or_default())
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn read(resp: LocalResponse<'_>) -> (Status, Value) {
    let status = resp.status();
    let ct = resp.content_type();
    let text = resp.into_string().await.unwrap_or_default();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| {
            assert!(!ct.is_some_and(|c| c.is_json()), "JSON content type with a non-JSON body: {text}");
            Value::String(text)
        })
    };
    (status, v)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg_admin {
            if let Ok(mut c) = PgConnection::establish(base) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c);
            }
        }
    }
}

/// Runs a test body once per backend with a loopback SMTP sink: `smtp_test!(name, |app, smtp| { ... });`
#[macro_export]
macro_rules! smtp_test {
    ($name:ident, |$app:ident, $smtp:ident| $body:block) => {
        $crate::smtp_test!(@ $name, true, |$app, $smtp| $body);
    };
    // A sink without TLS: `smtp_test!(plain name, …)`.
    (plain $name:ident, |$app:ident, $smtp:ident| $body:block) => {
        $crate::smtp_test!(@ $name, false, |$app, $smtp| $body);
    };
    (@ $name:ident, $tls:expr, |$app:ident, $smtp:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run(backend: $crate::common::Backend) {
                let $smtp = if $tls {
                    $crate::smtp::SmtpSink::start().await
                } else {
                    $crate::smtp::SmtpSink::start_plain().await
                };
                let url = $smtp.url();
                let Some($app) =
                    $crate::common::TestApp::spawn_with(backend, move |f| {
                        let f = f.merge(("smtp_url", url));
                        if $tls { f.merge(("smtp_ca_file", $crate::smtp::ca_file())) } else { f }
                    })
                    .await
                else {
                    return;
                };
                $body
            }
            #[rocket::async_test]
            async fn sqlite() {
                run($crate::common::Backend::Sqlite).await
            }
            #[rocket::async_test]
            async fn postgres() {
                run($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// Runs a test body once per backend: `db_test!(name, |app| { ... });`
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[rocket::async_test]
            async fn sqlite() {
                let $app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await.expect("sqlite");
                $body
            }
            #[rocket::async_test]
            async fn postgres() {
                let Some($app) = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await else {
                    return;
                };
                $body
            }
        }
    };
}

/// The code of an API error body.
pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// The reason given for one field of a validation error.
pub fn field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v["error"]["fields"][name].as_str()
}

/// A county set up for episode tests: contacts, two accommodations in two municipalities of Stockholms
/// län, one user per role (and a second one out of scope), and a child placed at the first accommodation.
pub struct World {
    pub admin: String,
    pub staff: String,
    pub staff_other: String,
    pub sw: String,
    pub sw_other: String,
    pub co: String,
    pub co_other: String,
    pub analyst: String,
    pub acc: i64,
    pub acc_other: i64,
    pub child: i64,
}

pub fn child_body(acc: i64) -> Value {
    serde_json::json!({
        "given_name": "Amir", "family_name": "Rahimi", "aliases": ["Ami"],
        "date_of_birth": "2010-03-14", "date_of_birth_estimated": true, "sex": "male",
        "nationality": "AF", "languages": ["prs", "sv"], "dossier_number": "12-345678",
        "assigning_municipality_code": "0180", "accommodation_id": acc,
        "guardian": {"name": "Greta Godman", "email": "greta@godman.se", "phone": "070-123 45 67", "language": "sv"},
        "preparedness": {"height": "165 cm", "hair": "black, short", "phone_numbers": "070-111 22 33",
                          "health_and_medication": "asthma inhaler"}
    })
}

impl World {
    pub async fn new(app: &TestApp) -> World {
        let admin = app.admin().await;
        let (s, _) = app
            .put(
                "/api/v1/counties/01/contacts",
                Some(&admin),
                serde_json::json!({"police_email": "polis@polisen.se", "police_fallback_email": "vakthavande@polisen.se",
                    "migrationsverket_email": "mottagning@migrationsverket.se", "trafficking_coordinator_email": "nmt@lst.se",
                    "county_email": "lst@lst.se"}),
            )
            .await;
        assert_eq!(s, Status::Ok);
        let (s, _) = app
            .put(
                "/api/v1/municipalities/0180/contacts",
                Some(&admin),
                serde_json::json!({"social_services_email": "soc@stockholm.se", "on_call_email": "jour@stockholm.se"}),
            )
            .await;
        assert_eq!(s, Status::Ok);
        let acc = |name: &'static str, muni: &'static str| {
            let admin = admin.clone();
            async move {
                let (s, v) = app
                    .post(
                        "/api/v1/accommodations",
                        Some(&admin),
                        serde_json::json!({"name": name, "kind": "hvb", "municipality_code": muni, "phone": "08-123 456", "email": "hvb@x.se"}),
                    )
                    .await;
                assert_eq!(s, Status::Created);
                v["id"].as_i64().unwrap_or(0)
            }
        };
        let a = acc("HVB A", "0180").await;
        let b = acc("HVB B", "0184").await;
        app.user("staff@x.se", Role::Staff, Some("01"), Some("0180"), Some(a));
        app.user("staff.b@x.se", Role::Staff, Some("01"), Some("0184"), Some(b));
        app.user("sw@x.se", Role::SocialWorker, Some("01"), Some("0180"), None);
        app.user("sw.b@x.se", Role::SocialWorker, Some("01"), Some("0184"), None);
        app.user("co@x.se", Role::CountyOfficer, Some("01"), None, None);
        app.user("co.c@x.se", Role::CountyOfficer, Some("03"), None, None);
        app.user("na@x.se", Role::NationalAnalyst, None, None, None);
        let sw = app.login("sw@x.se").await;
        let (s, child) = app.post("/api/v1/children", Some(&sw), child_body(a)).await;
        assert_eq!(s, Status::Created, "{child}");
        World {
            admin,
            staff: app.login("staff@x.se").await,
            staff_other: app.login("staff.b@x.se").await,
            sw,
            sw_other: app.login("sw.b@x.se").await,
            co: app.login("co@x.se").await,
            co_other: app.login("co.c@x.se").await,
            analyst: app.login("na@x.se").await,
            acc: a,
            acc_other: b,
            child: child["id"].as_i64().unwrap_or(0),
        }
    }
}

/// A valid report body for `child`, discovered `minutes_ago` minutes before the app's now.
pub fn report(app: &TestApp, child: i64, minutes_ago: i64) -> Value {
    let now = app.clock().now();
    let d = now - chrono::Duration::minutes(minutes_ago);
    serde_json::json!({
        "child_id": child,
        "discovered_at": d.to_rfc3339(),
        "last_seen_at": (d - chrono::Duration::hours(2)).to_rfc3339(),
        "last_seen_place": "Centralstationen", "last_seen_by": "a resident",
        "circumstances": "did not come back from school", "clothing": "red jacket, blue jeans",
        "belongings": "phone, 200 kr", "search_actions": "searched the house, called his phone",
        "possible_whereabouts": "a friend in Solna", "whereabouts_known": false,
        "risk_indicators": ["substance_misuse"]
    })
}
