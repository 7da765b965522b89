//! Fault tolerance with the real binary: the server is killed with SIGKILL in the middle of a burst of
//! reports while the mail server rejects everything; after a restart every report that got a 201 is there
//! and all its notifications are delivered, each recipient's copies sharing one Message-ID.

use crate::smtp::{SmtpSink, ACCEPT, REJECT};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let b = body.unwrap_or("");
    req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len()));
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

fn start(dir: &std::path::Path, port: u16, smtp: &str) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_saknad"))
        .current_dir(dir)
        .env("SAKNAD_DATABASE_URL", format!("sqlite://{}", dir.join("f.sqlite").display()))
        .env("SAKNAD_SMTP_URL", smtp)
        .env("SAKNAD_JWT_SECRET", crate::common::SECRET)
        .env("SAKNAD_DEMO", "1")
        .env("SAKNAD_DATA_DIR", dir.display().to_string())
        .env("SAKNAD_OUTBOX_LEASE_SECONDS", "2")
        .env("SAKNAD_WORKER_POLL_MS", "200")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_LOG_LEVEL", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start saknad");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(port, "GET", "/health", None, None).map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server(child)
}

fn token(port: u16, email: &str) -> String {
    let body = format!(r#"{{"email":"{email}","password":"{}"}}"#, saknad::demo::DEMO_PASSWORD);
    let (_, b) = http(port, "POST", "/api/v1/auth/login", None, Some(&body)).expect("login");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap_or_default();
    v["token"].as_str().unwrap_or_default().to_string()
}

#[rocket::async_test]
async fn a_server_killed_mid_burst_loses_no_report_and_sends_each_message_once() {
    let sink = SmtpSink::start_plain().await;
    sink.set_mode(REJECT);
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0);
    let mut server = Some(start(dir.path(), port, &sink.url()));
    let sw = token(port, "socialsekreterare@demo.saknad.se");
    let mut kids = Vec::new();
    for i in 0..16 {
        let body = serde_json::json!({"given_name": format!("Kid{i}"), "family_name": "Test", "date_of_birth": "2011-01-01", "sex": "male", "accommodation_id": 1}).to_string();
        let (s, b) = http(port, "POST", "/api/v1/children", Some(&sw), Some(&body)).expect("child");
        assert_eq!(s, 201, "{b}");
        kids.push(serde_json::from_str::<serde_json::Value>(&b).unwrap_or_default()["id"].as_i64().unwrap_or(0));
    }
    let created: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = kids
        .iter()
        .map(|kid| {
            let (created, sw, kid) = (Arc::clone(&created), sw.clone(), *kid);
            std::thread::spawn(move || {
                let now = chrono::Utc::now();
                let body = serde_json::json!({"child_id": kid, "discovered_at": now.to_rfc3339(), "last_seen_at": (now - chrono::Duration::hours(1)).to_rfc3339(), "clothing": "blue"}).to_string();
                if let Some((201, b)) = http(port, "POST", "/api/v1/cases", Some(&sw), Some(&body)) {
                    let v: serde_json::Value = serde_json::from_str(&b).unwrap_or_default();
                    if let (Some(r), Ok(mut c)) = (v["reference"].as_str(), created.lock()) {
                        c.push(r.to_string());
                    }
                }
            })
        })
        .collect();
    // Kill as soon as the first reports are acknowledged, while others are still in flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while created.lock().map(|c| c.len()).unwrap_or(0) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(server.take());
    for t in threads {
        let _ = t.join();
    }
    let acknowledged: Vec<String> = created.lock().map(|c| c.clone()).unwrap_or_default();
    assert!(!acknowledged.is_empty());
    // Restart against the same database with the mail server back.
    sink.set_mode(ACCEPT);
    let _server = start(dir.path(), port, &sink.url());
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let police: HashSet<String> =
            sink.to("rlc.stockholm@polisen.demo").iter().map(|m| m.header("X-Saknad-Reference")).collect();
        if acknowledged.iter().all(|r| police.contains(r)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every acknowledged report reached the police: {acknowledged:?} vs {police:?}"
        );
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sw = token(port, "socialsekreterare@demo.saknad.se");
    let (_, list) = http(port, "GET", "/api/v1/cases", Some(&sw), None).expect("cases");
    for r in &acknowledged {
        assert!(list.contains(r.as_str()), "report {r} got a 201 but is missing after the crash");
    }
    // Every report message to a recipient has exactly one Message-ID, however often it was attempted.
    // (Reminders about overdue steps are other messages and are left out.)
    let mut ids: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for m in sink.messages().into_iter().filter(|m| m.subject().contains("Anmälan")) {
        for to in &m.to {
            ids.entry((m.header("X-Saknad-Reference"), to.clone())).or_default().insert(m.header("Message-ID"));
        }
    }
    assert!(!ids.is_empty());
    assert!(ids.values().all(|set| set.len() == 1), "{ids:?}");
}
