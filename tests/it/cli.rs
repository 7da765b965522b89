//! The `saknad` binary itself: create-admin, migrate, and refusing a bad configuration in one sentence.

use std::io::Write;
use std::process::{Command, Stdio};

fn saknad(dir: &std::path::Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_saknad"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SAKNAD_DATABASE_URL")
        .env("SAKNAD_JWT_SECRET", crate::common::SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn saknad");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn create_admin_twice_fails_the_second_time_with_a_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let args = ["create-admin", "--email", "root@kommun.se", "--name", "Root"];
    let (ok, out, err) = saknad(dir.path(), &args, "a long enough password\n", &[]);
    assert!(ok, "{out} {err}");
    assert!(dir.path().join("data/saknad.sqlite").exists());
    let (ok, _, err) = saknad(dir.path(), &args, "a long enough password\n", &[]);
    assert!(!ok);
    assert_eq!(err.trim(), "saknad: email: already in use");
    let (ok, _, err) = saknad(dir.path(), &["create-admin", "--email", "b@kommun.se", "--name", "B"], "short\n", &[]);
    assert!(!ok);
    assert_eq!(err.trim(), "saknad: password: at least 12 characters");
}

#[test]
fn migrate_runs_and_bad_configuration_stops_with_one_sentence() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, out, _) = saknad(dir.path(), &["migrate"], "", &[("SAKNAD_DATABASE_URL", "sqlite://db/x.sqlite")]);
    assert!(ok && out.contains("up to date"));
    for (url, expect) in [
        ("mysql://localhost/x", "must start with sqlite:// or postgres://"),
        ("postgres://nobody@127.0.0.1:1/none", "cannot connect to the database"),
    ] {
        let (ok, _, err) = saknad(dir.path(), &["migrate"], "", &[("SAKNAD_DATABASE_URL", url)]);
        assert!(!ok);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(expect) && !err.contains("panicked"), "{err}");
    }
    let (ok, _, err) = saknad(dir.path(), &["serve"], "", &[("SAKNAD_JWT_SECRET", "too short")]);
    assert!(!ok && err.contains("at least 32 characters") && !err.contains("panicked"), "{err}");
}

#[test]
fn migration_names_match_between_backends() {
    let names = |b: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{b}", env!("CARGO_MANIFEST_DIR")))
            .expect("migrations dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        v.sort();
        v
    };
    let (s, p) = (names("sqlite"), names("postgres"));
    assert!(!s.is_empty());
    assert_eq!(s, p);
}
