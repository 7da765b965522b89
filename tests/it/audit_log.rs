use crate::common::*;
use crate::db_test;
use diesel::prelude::*;
use rocket::http::Status;
use saknad::db::schema::access_log;
use saknad::domain::role::Role;
use serde_json::json;

fn drop_append_only_guard(app: &TestApp) {
    let mut c = app.conn();
    let sql = match app.backend {
        Backend::Sqlite => "DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete;",
        Backend::Postgres => "DROP TRIGGER access_log_no_update ON access_log;",
    };
    diesel::connection::SimpleConnection::batch_execute(&mut *c, sql).expect("drop triggers");
}

db_test!(logins_user_creation_and_contact_changes_are_logged, |app| {
    let admin = app.admin().await;
    let _ =
        app.post("/api/v1/auth/login", None, json!({"email": "admin@test.se", "password": "Tr0ub4dor&3-guess"})).await;
    app.post("/api/v1/users", Some(&admin), json!({"email": "n@x.se", "name": "N", "role": "national_analyst"})).await;
    app.put("/api/v1/counties/01/contacts", Some(&admin), json!({"police_email": "p@x.se", "county_email": "c@x.se"}))
        .await;
    let actions: Vec<String> =
        access_log::table.order(access_log::seq).select(access_log::action).load(&mut *app.conn()).expect("log");
    assert_eq!(actions, ["login", "login_failed", "user_created", "county_contacts_changed"]);
    let details: Vec<Option<String>> =
        access_log::table.select(access_log::detail).load(&mut *app.conn()).expect("log");
    assert!(details.iter().flatten().all(|d| !d.contains("Tr0ub4dor") && !d.contains(PASSWORD)));
    let (s, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((s, v), (Status::Ok, json!({"ok": true, "entries": 4})));
});

db_test!(the_log_refuses_updates_and_deletes, |app| {
    app.admin().await;
    let mut c = app.conn();
    assert!(diesel::update(access_log::table).set(access_log::action.eq("x")).execute(&mut *c).is_err());
    assert!(diesel::delete(access_log::table).execute(&mut *c).is_err());
});

db_test!(verify_finds_a_changed_entry, |app| {
    let admin = app.admin().await;
    app.login("admin@test.se").await;
    app.login("admin@test.se").await;
    drop_append_only_guard(&app);
    diesel::update(access_log::table.filter(access_log::seq.eq(2)))
        .set(access_log::actor_user_id.eq(Some(999_i64)))
        .execute(&mut *app.conn())
        .expect("tamper");
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_broken_seq"], 2);
});

db_test!(verify_finds_a_removed_and_a_truncated_entry, |app| {
    let admin = app.admin().await;
    for _ in 0..3 {
        app.login("admin@test.se").await;
    }
    drop_append_only_guard(&app);
    diesel::delete(access_log::table.filter(access_log::seq.eq(4))).execute(&mut *app.conn()).expect("tamper");
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((v["ok"].as_bool(), v["first_broken_seq"].as_i64()), (Some(false), Some(4)));
    // Only the tail removed: the head still remembers how long the log was.
    diesel::delete(access_log::table.filter(access_log::seq.ge(4))).execute(&mut *app.conn()).expect("tamper");
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(v["ok"], false, "{v}");
});

db_test!(verify_finds_swapped_entries, |app| {
    let admin = app.admin().await;
    app.login("admin@test.se").await;
    drop_append_only_guard(&app);
    // Swap the content of entries 1 and 2 but keep their sequence numbers: the chain no longer links up.
    let rows: Vec<(String, String, String)> = access_log::table
        .order(access_log::seq)
        .select((access_log::action, access_log::prev_hash, access_log::hash))
        .load(&mut *app.conn())
        .expect("rows");
    for (seq, (action, prev, hash)) in [(1_i64, &rows[1]), (2_i64, &rows[0])] {
        diesel::update(access_log::table.filter(access_log::seq.eq(seq)))
            .set((access_log::action.eq(action), access_log::prev_hash.eq(prev), access_log::hash.eq(hash)))
            .execute(&mut *app.conn())
            .expect("swap");
    }
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((v["ok"].as_bool(), v["first_broken_seq"].as_i64()), (Some(false), Some(1)));
});

db_test!(verify_is_for_admins_only, |app| {
    app.user("co@test.se", Role::CountyOfficer, Some("01"), None, None);
    let co = app.login("co@test.se").await;
    assert_eq!(app.get("/api/v1/audit/verify", Some(&co)).await.0, Status::Forbidden);
    assert_eq!(app.get("/api/v1/audit/verify", None).await.0, Status::Unauthorized);
});

db_test!(a_batch_of_entries_chains_like_single_appends, |app| {
    let admin = app.admin().await;
    let actor = saknad::store::audit::Actor::system();
    let events: Vec<_> = (0..3).map(|i| saknad::store::audit::Event::new("case_read").on("case", i)).collect();
    let now = app.clock().now();
    let items: Vec<_> = events.iter().map(|e| (&actor, e, now)).collect();
    let last = saknad::store::audit::append_many(&mut app.conn(), &items).expect("append");
    let seqs: Vec<i64> =
        access_log::table.order(access_log::seq).select(access_log::seq).load(&mut *app.conn()).expect("log");
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
    let (s, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((s, v["ok"].as_bool(), v["entries"].as_i64()), (Status::Ok, Some(true), Some(last)));
});

/// What an insider who can write the database does: delete entries (their own photo views), then recompute
/// every hash and the head — with plain SHA-256, or with a key of their own, since the real one is not in the
/// database.
fn rewrite_without(app: &TestApp, gone: i64, key: Option<&[u8]>) {
    use saknad::db::schema::audit_head;
    drop_append_only_guard(app);
    let mut c = app.conn();
    diesel::delete(access_log::table.filter(access_log::seq.eq(gone))).execute(&mut *c).expect("delete");
    let rows: Vec<saknad::store::audit::LogEntry> = access_log::table
        .order(access_log::seq)
        .select(saknad::store::audit::LogEntry::as_select())
        .load(&mut *c)
        .expect("rows");
    diesel::delete(access_log::table).execute(&mut *c).expect("clear");
    let mut prev = saknad::store::audit::GENESIS.to_string();
    for (i, mut e) in rows.into_iter().enumerate() {
        e.seq = i as i64 + 1;
        e.prev_hash = prev.clone();
        e.hash = saknad::store::audit::entry_hash(
            e.seq,
            &e.at,
            e.actor_user_id,
            e.actor_role.as_deref(),
            &e.action,
            e.object_kind.as_deref(),
            e.object_id.as_deref(),
            e.county_code.as_deref(),
            e.ip.as_deref(),
            e.detail.as_deref(),
            &e.prev_hash,
            key,
        );
        prev = e.hash.clone();
        diesel::insert_into(access_log::table).values(&e).execute(&mut *c).expect("insert");
    }
    let n: i64 = access_log::table.count().get_result(&mut *c).expect("count");
    diesel::update(audit_head::table)
        .set((audit_head::seq.eq(n), audit_head::last_hash.eq(&prev), audit_head::keyed_from_seq.eq(1)))
        .execute(&mut *c)
        .expect("head");
}

db_test!(a_log_rewritten_without_the_key_is_found_out, |app| {
    let admin = app.admin().await;
    for _ in 0..3 {
        app.login("admin@test.se").await;
    }
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(v["ok"], true, "{v}");
    rewrite_without(&app, 2, None);
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((v["ok"].as_bool(), v["first_broken_seq"].as_i64()), (Some(false), Some(1)), "plain SHA-256: {v}");
});

db_test!(a_log_rewritten_with_another_key_is_found_out_and_the_key_is_kept_outside_the_database, |app| {
    use std::os::unix::fs::PermissionsExt;
    let admin = app.admin().await;
    app.login("admin@test.se").await;
    rewrite_without(&app, 1, Some(b"a key the insider made up, 32 chars or more"));
    let (_, v) = app.get("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((v["ok"].as_bool(), v["first_broken_seq"].as_i64()), (Some(false), Some(1)), "{v}");
    // The key was generated into the data directory, readable by the owner only, and is in no table.
    let path = app.state().settings.data_dir.join("audit_key");
    let key = std::fs::read_to_string(&path).expect("key file");
    assert!(key.trim().len() >= 32);
    assert_eq!(std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o600));
    let dump: Vec<String> = access_log::table.select(access_log::hash).load(&mut *app.conn()).expect("hashes");
    assert!(dump.iter().all(|h| !h.contains(key.trim())));
    assert_eq!(app.state().settings.audit_key, key.trim());
    let short = saknad::config::Settings::from_figment(
        &test_figment("sqlite://x", std::path::Path::new("/tmp")).merge(("audit_key", "too short")),
    );
    assert!(short.is_err_and(|e| e.contains("SAKNAD_AUDIT_KEY")));
});

/// (action, object id, detail) of the access-log entries with one of `actions`, oldest first.
fn entries(app: &TestApp, actions: &[&str]) -> Vec<(String, Option<String>, Option<String>)> {
    access_log::table
        .filter(access_log::action.eq_any(actions))
        .order(access_log::seq)
        .select((access_log::action, access_log::object_id, access_log::detail))
        .load(&mut *app.conn())
        .unwrap_or_default()
}

db_test!(every_disclosure_is_logged_record_by_record_email_by_email, |app| {
    app.clock().set(crate::cases::monday_10());
    let w = World::new(&app).await;
    let mut second = child_body(w.acc);
    second["given_name"] = json!("Bashir");
    let (_, kid) = app.post("/api/v1/children", Some(&w.sw), second).await;
    // A list names each child it showed.
    app.get("/api/v1/children", Some(&w.staff)).await;
    let listed: Vec<Option<String>> = entries(&app, &["child_listed"]).into_iter().map(|e| e.1).collect();
    assert_eq!(
        listed,
        [Some(w.child.to_string()), Some(kid["id"].to_string())].map(|s| s.map(|s| s.trim_matches('"').to_string()))
    );
    // A replayed report discloses the episode again.
    let body = report(&app, w.child, 5);
    let key = [("Idempotency-Key", "r-1")];
    let (s, first) =
        app.send(rocket::http::Method::Post, "/api/v1/cases", Some(&w.staff), Some(body.to_string()), &key).await;
    assert_eq!(s, Status::Created);
    let (s, _) =
        app.send(rocket::http::Method::Post, "/api/v1/cases", Some(&w.staff), Some(body.to_string()), &key).await;
    assert_eq!(s, Status::Created);
    let id = first["id"].to_string();
    assert_eq!(entries(&app, &["case_replayed"]).into_iter().map(|e| e.1).collect::<Vec<_>>(), [Some(id.clone())]);
    app.get("/api/v1/cases", Some(&w.sw)).await;
    assert_eq!(entries(&app, &["case_listed"]).len(), 1);
    // Each email: to whom (the kind), about which episode, which categories of data.
    app.drain().await;
    let mails = entries(&app, &["email_sent"]);
    assert_eq!(mails.len(), 5, "{mails:?}");
    let police = mails.iter().find(|e| e.2.as_deref().is_some_and(|d| d.starts_with("police:"))).cloned();
    let police = police.unwrap_or_default();
    assert_eq!(police.1, Some(id.clone()));
    assert!(police.2.as_deref().is_some_and(|d| d.contains("health") && d.contains("description")), "{police:?}");
    let mv = mails.iter().find(|e| e.2.as_deref().is_some_and(|d| d.starts_with("migrationsverket:"))).cloned();
    assert!(mv.and_then(|e| e.2).is_some_and(|d| d.contains("identity") && !d.contains("health")));
    // Found: the mails carry no health or description, and their entries say so.
    let (s, _) = app.post(&format!("/api/v1/cases/{id}/found"), Some(&w.staff), json!({})).await;
    assert_eq!(s, Status::Ok);
    app.drain().await;
    let after: Vec<_> = entries(&app, &["email_sent"]).into_iter().skip(5).collect();
    assert!(
        !after.is_empty() && after.iter().all(|e| e.2.as_deref().is_some_and(|d| !d.contains("health"))),
        "{after:?}"
    );
    // Whoever opens an acknowledgement link sees the episode's reference: the view is logged.
    let token: String = {
        use saknad::db::schema::notifications;
        let nonce: Option<String> = notifications::table
            .filter(notifications::ack_required.eq(true))
            .select(notifications::ack_nonce)
            .first::<Option<String>>(&mut *app.conn())
            .ok()
            .flatten();
        saknad::auth::ack::token(app.state().settings.jwt_secret.as_bytes(), &nonce.unwrap_or_default())
    };
    let resp = app.client.get(format!("/ack/{token}")).dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(entries(&app, &["ack_page_viewed"]).into_iter().map(|e| e.1).collect::<Vec<_>>(), [Some(id)]);
});

/// The anchor mails written to the outbox folder.
fn anchor_mails(app: &TestApp) -> Vec<String> {
    let dir = app.state().settings.data_dir.join("outbox");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("-anchor-"))
        .map(|p| {
            let raw = std::fs::read(&p).unwrap_or_default();
            let text = mailparse::parse_mail(&raw)
                .map(|m| {
                    let to = m.headers.iter().find(|h| h.get_key() == "To").map(|h| h.get_value()).unwrap_or_default();
                    let body =
                        m.subparts.iter().find(|t| t.ctype.mimetype == "text/plain").and_then(|t| t.get_body().ok());
                    format!("To: {to}\n{}", body.unwrap_or_default())
                })
                .unwrap_or_default();
            (p.to_string_lossy().to_string(), text)
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

db_test!(the_head_of_the_log_is_anchored_outside_the_database_once_a_day, |app| {
    use hmac::Mac;
    let admin = app.admin().await;
    let (s, _) = app
        .put(
            "/api/v1/counties/01/contacts",
            Some(&admin),
            json!({"police_email": "p@x.se", "county_email": "lst@x.se"}),
        )
        .await;
    assert_eq!(s, rocket::http::Status::Ok);
    app.login("admin@test.se").await;
    app.drain().await;
    app.drain().await;
    let path = app.state().settings.data_dir.join("anchors.log");
    let text = std::fs::read_to_string(&path).expect("anchors.log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "once a day: {text}");
    let f: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!((f[0], f[1], f.len()), ("saknad-anchor", "v1", 7), "{}", lines[0]);
    let seq: i64 = f[4].parse().unwrap_or(0);
    let at_seq: String = access_log::table
        .filter(access_log::seq.eq(seq))
        .select(access_log::hash)
        .first(&mut *app.conn())
        .unwrap_or_default();
    assert_eq!(at_seq, f[5], "the anchored hash is the entry's of that number");
    // Signed with the access-log key, as docs/operations.md shows how to check with openssl.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(app.state().settings.audit_key.as_bytes()).expect("key");
    mac.update(f[..6].join(" ").as_bytes());
    assert_eq!(hex::encode(mac.finalize().into_bytes()), f[6]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o600));
    // The same line went to the county mailbox, once (mail files stand in for SMTP here).
    let mails = anchor_mails(&app);
    assert_eq!(mails.len(), 1, "one anchor mail to the one county mailbox that is set");
    assert!(mails[0].contains("To: lst@x.se") && mails[0].contains(lines[0]), "{}", mails[0]);
    app.clock().advance(chrono::Duration::days(1));
    app.drain().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default().lines().count(), 2, "and again the next day");
    assert_eq!(anchor_mails(&app).len(), 2);
});
