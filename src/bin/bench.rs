//! `bench`: measures the real server, in one run, against its own baseline.
//!
//! `cargo run --release --bin bench -- [--quick] [--database postgres://…] [--out PATH]`
//!
//! It starts the server as a child process (this binary with `--serve`, i.e. `saknad::build` + launch) on a
//! temporary database with a loopback SMTP sink in this process, seeds a county, and measures:
//! `health_rps` (baseline), `case_get_rps`, `case_post_rps`, `report_email_p50_ms` / `p95`, `stats_100k_ms`
//! (when the statistics endpoint exists) and `rss_mb` (the server's peak resident memory). It prints a
//! table and writes `target/bench/latest.json`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        serve();
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let database = arg(&args, "--database");
    let out = arg(&args, "--out").unwrap_or_else(|| "target/bench/latest.json".into());
    // `--only case_get,case_post` runs just those phases (for profiling); the others are reported as null.
    let only: Option<Vec<String>> = arg(&args, "--only").map(|s| s.split(',').map(str::to_string).collect());
    if let Some(bad) = only.iter().flatten().find(|p| !PHASES.contains(&p.as_str())) {
        eprintln!("bench: unknown phase {bad:?} (phases: {})", PHASES.join(", "));
        std::process::exit(2);
    }
    if let Err(e) = run(quick, database, &out, only) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// The phases `--only` can name.
const PHASES: [&str; 5] = ["health", "case_get", "case_post", "report_email", "stats"];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// The server side of the benchmark: exactly what `saknad serve` runs.
fn serve() {
    let figment = saknad::config::Settings::figment();
    let rt = match rocket::tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return eprintln!("bench server: {e}"),
    };
    rt.block_on(async move {
        match saknad::build(figment) {
            Ok(r) => {
                let _ = r.launch().await;
            }
            Err(e) => eprintln!("bench server: {e}"),
        }
    });
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------------
// A loopback SMTP sink that notes when each message arrived and to whom, with its subject.

#[derive(Clone)]
struct Arrival {
    at: Instant,
    to: String,
    /// the X-Saknad-Reference header
    subject: String,
}

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

fn smtp_sink() -> Result<(u16, Arrivals), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let arrivals: Arrivals = Arc::new(Mutex::new(Vec::new()));
    let a = Arc::clone(&arrivals);
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let a = Arc::clone(&a);
            std::thread::spawn(move || {
                let _ = smtp_session(sock, a);
            });
        }
    });
    Ok((port, arrivals))
}

fn smtp_session(sock: TcpStream, arrivals: Arrivals) -> std::io::Result<()> {
    let mut w = sock.try_clone()?;
    let mut r = BufReader::new(sock);
    w.write_all(b"220 bench ESMTP\r\n")?;
    let mut line = String::new();
    let mut to = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let up = line.to_ascii_uppercase();
        if up.starts_with("EHLO") || up.starts_with("HELO") {
            w.write_all(b"250-bench\r\n250 8BITMIME\r\n")?;
        } else if up.starts_with("RCPT TO") {
            to = line[8..].trim().trim_start_matches(':').trim().trim_matches(|c| c == '<' || c == '>').to_string();
            w.write_all(b"250 OK\r\n")?;
        } else if up.starts_with("DATA") {
            w.write_all(b"354 go\r\n")?;
            let mut subject = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                if let Some(r) = line.strip_prefix("X-Saknad-Reference:") {
                    subject = r.trim().to_string();
                }
            }
            if let Ok(mut a) = arrivals.lock() {
                a.push(Arrival { at: Instant::now(), to: to.clone(), subject });
            }
            w.write_all(b"250 queued\r\n")?;
        } else if up.starts_with("QUIT") {
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            w.write_all(b"250 OK\r\n")?;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// A minimal keep-alive HTTP/1.1 client: enough for load without measuring a client library.

struct Http {
    stream: BufReader<TcpStream>,
    port: u16,
}

impl Http {
    fn connect(port: u16) -> std::io::Result<Http> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        Ok(Http { stream: BufReader::new(s), port })
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", self.port);
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        match body {
            Some(b) => {
                req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len()))
            }
            None => req.push_str("\r\n"),
        }
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line)?;
        let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if status >= 500 {
            SERVER_ERRORS.fetch_add(1, Ordering::Relaxed);
        }
        let mut len = 0usize;
        let mut chunked = false;
        loop {
            let mut h = String::new();
            self.stream.read_line(&mut h)?;
            if h == "\r\n" || h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                self.stream.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0u8; n + 2];
                self.stream.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            body.resize(len, 0);
            self.stream.read_exact(&mut body)?;
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

type Work = Arc<dyn Fn(&mut Http, usize) -> bool + Send + Sync>;

/// Answers with a 5xx status during the whole run (SQLite busy, pool timeouts…): must stay zero.
static SERVER_ERRORS: AtomicUsize = AtomicUsize::new(0);

/// Runs `work` on `conns` connections for `secs` seconds; returns successful requests per second.
fn load(port: u16, conns: usize, secs: f64, work: Work) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let counter = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..conns)
        .map(|_| {
            let (stop, ok, counter, work) =
                (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&counter), Arc::clone(&work));
            std::thread::spawn(move || {
                let Ok(mut c) = Http::connect(port) else { return };
                while !stop.load(Ordering::Relaxed) {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    if work(&mut c, i) {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else if let Ok(n) = Http::connect(port) {
                        c = n;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    ok.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

// ---------------------------------------------------------------------------------------------------

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A memory figure of the server process from `/proc/<pid>/status` (`VmRSS:` now, `VmHWM:` the peak), in MB.
fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn rss_now_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS:")
}

fn report_rss(pid: u32) {
    eprintln!("bench: server rss {:.0} MB (peak {:.0} MB)", rss_now_mb(pid), status_mb(pid, "VmHWM:"));
}

const SECRET: &str = "-i7qeGTNC3L6RCGPDtfM7FwlhyNclkjVKKnAJx4NYbI";
const PASSWORD: &str = "bench password 2026";

/// Seeds a county directly in the database: contacts, an accommodation, a staff member, a social
/// worker and `children` children placed there. Returns the children's ids.
fn seed(url: &str, children: usize) -> Result<Vec<i64>, String> {
    use saknad::domain::role::Role;
    use saknad::store::{children as kids, org, users};
    let figment = rocket::figment::Figment::from(rocket::Config::default())
        .merge(("database_url", url))
        .merge(("jwt_secret", SECRET))
        .merge(("worker", false));
    let settings = saknad::config::Settings::from_figment(&figment)?;
    let db = saknad::open_database(&settings)?;
    let mut c = db.get().map_err(|e| e.to_string())?;
    let now = saknad::clock::Clock::system().now();
    let hash = saknad::auth::password::hash(PASSWORD)?;
    saknad::db::write_tx(&mut c, |c| -> Result<Vec<i64>, diesel::result::Error> {
        org::set_county_contacts(
            c,
            "01",
            &org::CountyContacts {
                police_email: Some("police@bench.test".into()),
                police_fallback_email: Some("fallback@bench.test".into()),
                migrationsverket_email: Some("mv@bench.test".into()),
                trafficking_coordinator_email: Some("nmt@bench.test".into()),
                county_email: Some("county@bench.test".into()),
                ..Default::default()
            },
        )?;
        org::set_municipality_contacts(
            c,
            "0180",
            &org::MunicipalityContacts {
                social_services_email: Some("soc@bench.test".into()),
                on_call_email: Some("jour@bench.test".into()),
            },
        )?;
        let acc = org::insert_accommodation(
            c,
            &org::NewAccommodation {
                name: "Bench HVB".into(),
                kind: "hvb".into(),
                municipality_code: "0180".into(),
                phone: "08-000 000".into(),
                email: "hvb@bench.test".into(),
            },
            now,
        )?;
        let mk = |email: &str, role, acc: Option<i64>| users::NewUser {
            email: email.into(),
            name: "Bench".into(),
            password_hash: hash.clone(),
            role,
            workplace: saknad::store::users::Workplace {
                county_code: Some("01".into()),
                municipality_code: Some("0180".into()),
                accommodation_id: acc,
                municipality_codes: "[]".into(),
            },
            language: "sv".into(),
        };
        users::insert(c, &mk("staff@bench.test", Role::Staff, Some(acc.id)), now)?;
        let mut officer = mk("officer@bench.test", Role::CountyOfficer, None);
        officer.workplace.county_code = Some("03".into());
        officer.workplace.municipality_code = None;
        users::insert(c, &officer, now)?;
        let sw = users::insert(c, &mk("sw@bench.test", Role::SocialWorker, None), now)?;
        let mut ids = Vec::with_capacity(children);
        let f = kids::ChildFields {
            given_name: Some("Bench".into()),
            family_name: Some("Child".into()),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(2011, 5, 5),
            sex: Some("male".into()),
            guardian_email: Some(Some("guardian@bench.test".into())),
            ..Default::default()
        };
        for _ in 0..children {
            let id = kids::insert(c, &f, "0180", Some(sw.id), &serde_json::Map::new(), now)?;
            kids::place(c, id, acc.id, sw.id, now)?;
            ids.push(id);
        }
        Ok(ids)
    })
    .map_err(|e| e.to_string())
}

/// 100,000 closed episodes with eleven steps each in Uppsala län, written by the database itself.
fn seed_history(url: &str, episodes: i64) -> Result<(), String> {
    use diesel::connection::SimpleConnection;
    let figment = rocket::figment::Figment::from(rocket::Config::default())
        .merge(("database_url", url))
        .merge(("jwt_secret", SECRET));
    let settings = saknad::config::Settings::from_figment(&figment)?;
    let db = saknad::open_database(&settings)?;
    let mut c = db.get().map_err(|e| e.to_string())?;
    let sqlite = matches!(*c, saknad::db::AnyConnection::Sqlite(_));
    let (day, hour, month) = if sqlite {
        (
            "datetime('2026-01-01 08:00:00', '+' || (i % 360) || ' days', '+' || (i % 13) || ' minutes')",
            "datetime(e.discovered_at, '+' || (e.id % 120) || ' minutes')",
            "strftime('%Y-%m', '2026-01-01', '+' || (i % 360) || ' days')",
        )
    } else {
        (
            "timestamp '2026-01-01 08:00:00' + (i % 360) * interval '1 day' + (i % 13) * interval '1 minute'",
            "e.discovered_at + (e.id % 120) * interval '1 minute'",
            "''",
        )
    };
    let _ = month;
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS bench_keys (key TEXT NOT NULL, responsible TEXT NOT NULL);
         DELETE FROM bench_keys;
         INSERT INTO bench_keys VALUES ('search_and_contact','staff'),('police_report','staff'),('notify_social_services','system'),
           ('notify_guardian','system'),('notify_migrationsverket','system'),('risk_assessment','social_worker'),('lvu_assessment','social_worker'),
           ('review_72h','social_worker'),('review_7d','social_worker'),('review_3w','social_worker'),('migrationsverket_eservice','social_worker');
         INSERT INTO episodes (reference, county_code, municipality_code, responsible_municipality_code, child_id, routine_version_id, status,
             discovered_at, last_seen_at, report, whereabouts_known, risk_level, risk_indicators, risk_assessed, closed_at, closure_reason,
             child_age_years, child_sex, child_nationality, accommodation_kind, created_at, updated_at, found_at)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {episodes})
           SELECT 'C-BENCH-' || i, '03', CASE WHEN i % 3 = 0 THEN '0380' ELSE '0381' END, '0380',
             (SELECT MIN(id) FROM children), (SELECT MIN(id) FROM routine_versions WHERE county_code = '03'), 'closed',
             {day}, {day}, '{{}}', {f}, 'low', '[]', {f}, {day}, CASE WHEN i % 4 = 0 THEN 'returned' ELSE 'withdrawn' END,
             12 + (i % 6), CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END, CASE WHEN i % 5 = 0 THEN 'SY' ELSE 'AF' END, 'hvb', {day}, {day},
             CASE WHEN i % 4 = 0 THEN {day} ELSE NULL END
           FROM n;
         INSERT INTO episode_steps (episode_id, key, position, title_sv, title_en, responsible, phase, required, due_at, status, completed_at)
           SELECT e.id, k.key, 0, k.key, k.key, k.responsible, 'missing', {t}, e.discovered_at,
             CASE WHEN e.id % 7 = 0 THEN 'skipped' ELSE 'done' END, {hour}
           FROM episodes e CROSS JOIN bench_keys k WHERE e.county_code = '03' AND e.reference LIKE 'C-BENCH-%';
         UPDATE episodes SET police_seconds = (id % 120) * 60 WHERE reference LIKE 'C-BENCH-%';
         INSERT INTO step_day_stats (county_code, day, key, done_on_time, done_late, skipped, within_72h)
           SELECT '03', {date}, s.key, SUM(CASE WHEN s.status = 'done' AND e.id % 120 < 60 THEN 1 ELSE 0 END),
             SUM(CASE WHEN s.status = 'done' AND e.id % 120 >= 60 THEN 1 ELSE 0 END), SUM(CASE WHEN s.status = 'skipped' THEN 1 ELSE 0 END), 0
           FROM episode_steps s JOIN episodes e ON e.id = s.episode_id WHERE e.reference LIKE 'C-BENCH-%'
           GROUP BY {date}, s.key;
         {analyze}",
        f = if sqlite { "0" } else { "FALSE" },
        // PostgreSQL plans the statistics query badly without fresh statistics after a bulk load. SQLite is
        // left as a server keeps it: built with STAT4, an ANALYZE makes SQLite re-prepare every statement
        // whose plan could depend on a bound value, on every execution (measured: a third of the writer's time).
        // A bulk load leaves a large WAL behind; a server starts from a checkpointed database.
        analyze = if sqlite { "PRAGMA wal_checkpoint(TRUNCATE);" } else { "ANALYZE;" },
        date = if sqlite { "date(e.discovered_at)" } else { "CAST(e.discovered_at AS DATE)" },
        t = if sqlite { "1" } else { "TRUE" },
    );
    c.batch_execute(&sql).map_err(|e| format!("seeding history: {e}"))
}

fn login(port: u16, email: &str) -> Result<String, String> {
    let mut c = Http::connect(port).map_err(|e| e.to_string())?;
    let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    let (s, b) = c.request("POST", "/api/v1/auth/login", None, Some(&body)).map_err(|e| e.to_string())?;
    if s != 200 {
        return Err(format!("login {email}: {s} {b}"));
    }
    let v: serde_json::Value = serde_json::from_str(&b).map_err(|e| e.to_string())?;
    v["token"].as_str().map(String::from).ok_or_else(|| "no token".into())
}

fn report_body(child: i64) -> String {
    let now = chrono::Utc::now();
    format!(
        r#"{{"child_id":{child},"discovered_at":"{}","last_seen_at":"{}","clothing":"grey hoodie","last_seen_place":"Bench street"}}"#,
        (now - chrono::Duration::minutes(5)).to_rfc3339(),
        (now - chrono::Duration::hours(1)).to_rfc3339()
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn run(quick: bool, database: Option<String>, out: &str, only: Option<Vec<String>>) -> Result<(), String> {
    let want = |phase: &str| only.as_ref().is_none_or(|o| o.iter().any(|p| p == phase));
    let secs = if quick { 4.0 } else { 15.0 };
    let reports = if quick { 200 } else { 1000 };
    let tmp = std::env::temp_dir().join(format!("saknad-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let url = match &database {
        Some(u) => fresh_pg(u)?,
        None => format!("sqlite://{}", tmp.join("bench.sqlite").display()),
    };
    let backend = if url.starts_with("sqlite") { "sqlite" } else { "postgres" };
    let pool_size = if quick { 12_000 } else { 40_000 };
    let children = seed(&url, pool_size + reports + 2)?;
    let history = 100_000;
    let seeded = Instant::now();
    seed_history(&url, history)?;
    eprintln!("bench: seeded {history} episodes with their steps in {:.1} s", seeded.elapsed().as_secs_f64());
    let (smtp_port, arrivals) = smtp_sink()?;
    let port = free_port()?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(exe)
        .arg("--serve")
        .env("SAKNAD_DATABASE_URL", &url)
        .env("SAKNAD_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
        .env("SAKNAD_JWT_SECRET", SECRET)
        // The request path is measured, not the second factor: a session that gave it is checked the same way.
        .env("SAKNAD_REQUIRE_MFA", "0")
        .env("SAKNAD_DATA_DIR", tmp.display().to_string())
        .env("SAKNAD_DB_POOL_SIZE", "16")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_LOG_LEVEL", "off")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let server = Server { child };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Http::connect(port).and_then(|mut c| c.request("GET", "/health", None, None)).map(|r| r.0).ok() != Some(200) {
        if Instant::now() > deadline {
            return Err("the server did not come up".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let staff = login(port, "staff@bench.test")?;
    let sw = login(port, "sw@bench.test")?;
    let conns = 32;

    // 1. Baseline.
    // A phase left out by `--only` is reported as null.
    let phase =
        |name: &str, conns: usize, work: Work| if want(name) { load(port, conns, secs, work) } else { f64::NAN };
    let health_rps = phase(
        "health",
        conns,
        Arc::new(|c: &mut Http, _| c.request("GET", "/health", None, None).map(|r| r.0 == 200).unwrap_or(false)),
    );

    report_rss(server.child.id());
    // 2. One episode to read, as its social worker (every read writes an access-log entry).
    let mut c = Http::connect(port).map_err(|e| e.to_string())?;
    let (s, b) =
        c.request("POST", "/api/v1/cases", Some(&staff), Some(&report_body(children[0]))).map_err(|e| e.to_string())?;
    if s != 201 {
        return Err(format!("report failed: {s} {b}"));
    }
    let case: serde_json::Value = serde_json::from_str(&b).map_err(|e| e.to_string())?;
    let path = format!("/api/v1/cases/{}", case["id"]);
    let sw2 = sw.clone();
    let case_get_rps = phase(
        "case_get",
        conns,
        Arc::new(move |c: &mut Http, _| c.request("GET", &path, Some(&sw2), None).map(|r| r.0 == 200).unwrap_or(false)),
    );

    report_rss(server.child.id());
    // 3. Reports per second, each with its outbox rows (the worker delivers meanwhile).
    let pool = Arc::new(children[1..=pool_size].to_vec());
    let staff2 = staff.clone();
    let case_post_rps = phase(
        "case_post",
        std::env::var("BENCH_POST_CONNS").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        Arc::new(move |c: &mut Http, i| {
            let Some(child) = pool.get(i) else { return false };
            c.request("POST", "/api/v1/cases", Some(&staff2), Some(&report_body(*child)))
                .map(|r| r.0 == 201)
                .unwrap_or(false)
        }),
    );
    // Let the worker catch up before measuring latency.
    wait_quiet(&arrivals, Duration::from_secs(180));

    report_rss(server.child.id());
    // 4. 201 → police message accepted by SMTP, 20 concurrent reporters.
    let email_reports = if want("report_email") { reports } else { 0 };
    let lc = Arc::new(children[pool_size + 1..pool_size + 1 + email_reports].to_vec());
    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let (created, next, lc, staff) = (Arc::clone(&created), Arc::clone(&next), Arc::clone(&lc), staff.clone());
            std::thread::spawn(move || {
                let Ok(mut c) = Http::connect(port) else { return };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(child) = lc.get(i) else { return };
                    if let Ok((201, body)) =
                        c.request("POST", "/api/v1/cases", Some(&staff), Some(&report_body(*child)))
                    {
                        let at = Instant::now();
                        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                        if let (Some(r), Ok(mut m)) = (v["reference"].as_str(), created.lock()) {
                            m.insert(r.to_string(), at);
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    wait_quiet(&arrivals, Duration::from_secs(60));
    let created = created.lock().map(|m| m.clone()).unwrap_or_default();
    let police: Vec<Arrival> = arrivals
        .lock()
        .map(|a| a.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.to == "police@bench.test")
        .collect();
    let mut lat: Vec<f64> = police
        .iter()
        .filter_map(|a| {
            let sent = created.get(&a.subject)?;
            Some(a.at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let delivered = lat.len();

    report_rss(server.child.id());
    // 5. County statistics over the 100,000 seeded episodes (median of five requests), for the widest period
    //    a request may name: an auditor asking "since the start".
    let officer = login(port, "officer@bench.test")?;
    let mut c = Http::connect(port).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..if want("stats") { 5 } else { 0 } {
        let t = Instant::now();
        let (s, body) = c
            .request("GET", "/api/v1/counties/03/stats?from=2000-01-01&to=2100-12-31", Some(&officer), None)
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if s != 200 || !body.contains(&format!("\"episodes\":{history}")) {
            return Err(format!("statistics failed: {s} {}", body.chars().take(200).collect::<String>()));
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let stats_100k_ms = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);

    report_rss(server.child.id());
    let rss_mb = status_mb(server.child.id(), "VmHWM:");
    drop(server);
    let results = serde_json::json!({
        "backend": backend,
        "mode": if quick { "quick" } else { "full" },
        "health_rps": health_rps.round(),
        "case_get_rps": case_get_rps.round(),
        "case_get_ratio": (case_get_rps / health_rps * 1000.0).round() / 1000.0,
        "case_post_rps": case_post_rps.round(),
        "report_email_p50_ms": round1(percentile(&lat, 50.0)),
        "report_email_p95_ms": round1(percentile(&lat, 95.0)),
        "report_email_samples": delivered,
        "stats_100k_ms": round1(stats_100k_ms),
        "server_errors": SERVER_ERRORS.load(Ordering::Relaxed),
        "rss_mb": round1(rss_mb),
    });
    println!("{:<24} {:>12}", "metric", "value");
    if let Some(m) = results.as_object() {
        for (k, v) in m {
            println!("{k:<24} {v:>12}");
        }
    }
    if let Some(dir) = std::path::Path::new(out).parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&results).unwrap_or_default()).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&tmp);
    if SERVER_ERRORS.load(Ordering::Relaxed) > 0 {
        return Err(format!("{} requests were answered with a server error", SERVER_ERRORS.load(Ordering::Relaxed)));
    }
    if delivered < email_reports * 9 / 10 {
        return Err(format!("only {delivered} of {email_reports} police messages arrived"));
    }
    Ok(())
}

/// Waits until no message has arrived for a second (or the limit passes).
fn wait_quiet(arrivals: &Arrivals, limit: Duration) {
    let start = Instant::now();
    let mut last = usize::MAX;
    while start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(1000));
        let n = arrivals.lock().map(|a| a.len()).unwrap_or(0);
        if n == last {
            return;
        }
        last = n;
    }
}

/// A fresh database on the given PostgreSQL server, so a run never touches existing data.
fn fresh_pg(base: &str) -> Result<String, String> {
    use diesel::{Connection, RunQueryDsl};
    let name = format!("saknad_bench_{}", std::process::id());
    let mut c = diesel::PgConnection::establish(base).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).map_err(|e| e.to_string())?;
    let (main, query) = base.split_once('?').map(|(m, q)| (m, Some(q))).unwrap_or((base, None));
    let scheme_end = main.find("://").map(|j| j + 3).unwrap_or(0);
    let cut = main[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(main.len());
    Ok(format!("{}/{name}{}", &main[..cut], query.map(|q| format!("?{q}")).unwrap_or_default()))
}
