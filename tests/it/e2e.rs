//! End-to-end in headless Chromium (Debian's chromium + chromium-driver): a real server on a loopback port,
//! a phone-sized window, the demo data. Screenshots go to `target/e2e/`. Skipped when chromedriver is not
//! installed, unless `SAKNAD_REQUIRE_BROWSER=1` (CI sets it).

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn wait_for(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

/// Saves a screenshot of the page state and runs axe-core on it (WCAG 2.1 A and AA); the violations are
/// collected and the test fails at its end if there are any.
async fn shot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
    if let Some(found) = axe(c).await {
        AXE_VIOLATIONS.lock().map(|mut v| v.extend(found.into_iter().map(|f| format!("{name}: {f}")))).ok();
    }
}

static AXE_VIOLATIONS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// axe-core from the npm registry (`SAKNAD_AXE` names its `axe.min.js`; CI installs it). `None` when it is
/// not installed and not required.
async fn axe(c: &Client) -> Option<Vec<String>> {
    let path = match std::env::var("SAKNAD_AXE") {
        Ok(p) => p,
        Err(_) => {
            assert!(std::env::var("SAKNAD_REQUIRE_AXE").is_err(), "SAKNAD_REQUIRE_AXE is set but SAKNAD_AXE is not");
            return None;
        }
    };
    let source = std::fs::read_to_string(&path).expect("axe.min.js");
    c.execute(&source, vec![]).await.expect("inject axe-core");
    let run = r#"const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
          .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
          .catch(e => done(['axe failed: ' + e]));"#;
    let result = c.execute_async(run, vec![]).await.expect("run axe-core");
    Some(result.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default())
}

async fn login(c: &Client, base: &str, email: &str) {
    c.delete_all_cookies().await.expect("cookies");
    c.goto(&format!("{base}/login")).await.expect("login page");
    c.find(Locator::Id("email")).await.expect("email").send_keys(email).await.expect("type");
    c.find(Locator::Id("password"))
        .await
        .expect("password")
        .send_keys(saknad::demo::DEMO_PASSWORD)
        .await
        .expect("type");
    c.find(Locator::Css("form[action^='/login'] button")).await.expect("submit").click().await.expect("click");
    wait_for_page(c, "signed in", |p| p.contains("/logout")).await;
}

/// The lines holding `marker` in the plain-text part of the messages written to the outbox folder (no SMTP
/// server in these tests) to an address that `to` accepts.
fn links_in_outbox(outbox: &std::path::Path, to: impl Fn(&str) -> bool, marker: &str) -> Vec<String> {
    let mut links = Vec::new();
    let Ok(dir) = std::fs::read_dir(outbox) else { return links };
    for entry in dir.flatten() {
        let Ok(raw) = std::fs::read(entry.path()) else { continue };
        let Ok(mail) = mailparse::parse_mail(&raw) else { continue };
        let addressed = mail.headers.iter().any(|h| h.get_key().eq_ignore_ascii_case("to") && to(&h.get_value()));
        if !addressed {
            continue;
        }
        let parts: Vec<&mailparse::ParsedMail> = std::iter::once(&mail).chain(mail.subparts.iter()).collect();
        for part in parts.iter().flat_map(|p| std::iter::once(*p).chain(p.subparts.iter())) {
            if part.ctype.mimetype == "text/plain" {
                let body = part.get_body().unwrap_or_default();
                links.extend(body.lines().filter(|l| l.contains(marker)).map(|l| l.trim().to_string()));
            }
        }
    }
    links
}

/// The acknowledgement link of a message to a recipient other than the police: the guardian's or social
/// services'.
fn ack_link(outbox: &std::path::Path) -> Option<String> {
    links_in_outbox(outbox, |to| !to.contains("polisen"), "/ack/").into_iter().next()
}

/// The page fits the window's width: nothing scrolls sideways (WCAG 1.4.10 at 320 px).
async fn reflows(c: &Client) -> bool {
    let w =
        c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.expect("widths");
    let (scroll, inner) = (w[0].as_i64().unwrap_or(i64::MAX), w[1].as_i64().unwrap_or(0));
    scroll <= inner
}

async fn source(c: &Client) -> String {
    c.source().await.unwrap_or_default()
}

/// Waits (up to 10 s) until the page's source satisfies `cond`; clicks return before navigation ends.
async fn wait_for_page(c: &Client, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = source(c).await;
        if cond(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "{what}: {page}");
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A browser driven through chromedriver, closed with the driver when dropped.
struct Browser {
    c: Client,
    _driver: Driver,
}

/// Headless Chromium at `width`×`height`; `None` (test skipped) without chromedriver, unless required.
async fn browser(width: u32, height: u32) -> Option<Browser> {
    let Some(driver_bin) = chromedriver() else {
        assert!(
            std::env::var("SAKNAD_REQUIRE_BROWSER").is_err(),
            "SAKNAD_REQUIRE_BROWSER is set but chromedriver is missing"
        );
        eprintln!("chromedriver not installed: end-to-end test skipped");
        return None;
    };
    let wd_port = free_port();
    let driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={wd_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    assert!(wait_for(wd_port), "chromedriver up");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", format!("--window-size={width},{height}")]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{wd_port}"))
        .await
        .expect("webdriver session");
    Some(Browser { c, _driver: driver })
}

/// A real server with the demo data on a free loopback port; its base URL and task.
fn serve(
    dir: &std::path::Path,
    port: u16,
    configure: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment,
) -> (String, rocket::tokio::task::JoinHandle<Result<rocket::Rocket<rocket::Ignite>, rocket::Error>>) {
    let figment = crate::common::test_figment(&format!("sqlite://{}", dir.join("e2e.sqlite").display()), dir)
        .merge(("demo", true))
        .merge(("worker", true))
        .merge(("worker_poll_ms", 200))
        .merge(("port", port))
        .merge(("address", "127.0.0.1"))
        .merge(("public_url", format!("http://127.0.0.1:{port}")));
    let rocket = saknad::build(configure(figment)).expect("build");
    let server = rocket::tokio::spawn(rocket.launch());
    assert!(wait_for(port), "server up");
    (format!("http://127.0.0.1:{port}"), server)
}

/// The violations axe-core found in the page states so far; the test fails on any at its end.
fn assert_no_axe_violations() {
    let violations = AXE_VIOLATIONS.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(violations.is_empty(), "axe-core found WCAG 2.1 A/AA violations:\n{}", violations.join("\n"));
}

#[rocket::async_test]
async fn a_report_from_the_phone_to_closure_in_the_browser() {
    let Some(Browser { c, _driver }) = browser(390, 844).await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let (base, server) = serve(dir.path(), free_port(), |f| f);

    // Staff at 02:00 on a phone: log in, report the first child missing.
    login(&c, &base, "personal@demo.saknad.se").await;
    wait_for_page(&c, "staff start page", |p| p.contains("Barn på boendet") && p.contains("lang=\"sv\"")).await;
    shot(&c, "01-staff-children").await;
    c.find(Locator::Css("a.button.danger")).await.expect("report button").click().await.expect("click");
    wait_for_page(&c, "report form", |p| p.contains("Rapportera försvunnet barn")).await;
    c.find(Locator::Id("clothing")).await.expect("clothing").send_keys("röd jacka, blå jeans").await.expect("type");
    c.find(Locator::Id("search_actions"))
        .await
        .expect("search")
        .send_keys("sökt i huset, ringt hans telefon")
        .await
        .expect("type");
    shot(&c, "02-report-form").await;
    c.find(Locator::Css("button.danger[type=submit]")).await.expect("send").click().await.expect("click");
    // Right after reporting: call the police now, read out the sheet, record the reference.
    wait_for_page(&c, "confirmation page", |p| p.contains("Ring polisen nu")).await;
    let page = source(&c).await;
    assert!(page.contains("href=\"tel:112\"") && page.contains("href=\"tel:11414\""), "tel: links to the police");
    shot(&c, "03-reported-call-police").await;
    c.find(Locator::Id("police_reference")).await.expect("reference").send_keys("K-4711-26").await.expect("type");
    c.find(Locator::Css("#police-reference-form button")).await.expect("save").click().await.expect("click");
    wait_for_page(&c, "case page", |p| p.contains("id=\"notifications\"") && p.contains("K-4711-26")).await;
    let url = c.current_url().await.expect("url");
    assert!(url.path().starts_with("/cases/"), "{url}");
    assert!(!source(&c).await.contains("http-equiv=\"refresh\""), "the case page never reloads itself");
    // The police notification is shown as sent once the worker has delivered it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = source(&c).await;
        if page.contains("note-status-sent") && page.contains("polisen") {
            break;
        }
        assert!(Instant::now() < deadline, "police notification never shown as sent");
        rocket::tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.expect("refresh");
    }
    assert!(source(&c).await.contains("AB-"), "reference shown");
    shot(&c, "04-case-notified").await;
    let case_url = c.current_url().await.expect("url").to_string();

    // The guardian acknowledges from the link in the email, on a phone.
    let outbox = dir.path().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(15);
    let link = loop {
        if let Some(l) = ack_link(&outbox) {
            break l;
        }
        assert!(Instant::now() < deadline, "no acknowledgement link in {}", outbox.display());
        rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    };
    c.delete_all_cookies().await.expect("cookies");
    c.goto(&link).await.expect("ack page");
    wait_for_page(&c, "acknowledgement page", |p| p.contains("id=\"name\"")).await;
    shot(&c, "04a-acknowledge").await;
    c.find(Locator::Id("name")).await.expect("name").send_keys("Greta Godman").await.expect("type");
    c.find(Locator::Css("main form button[type=submit]")).await.expect("ack").click().await.expect("click");
    wait_for_page(&c, "acknowledged", |p| p.contains("Greta Godman") || p.contains("Tack")).await;
    shot(&c, "04b-acknowledged").await;

    // The social worker completes a step, records the return and closes.
    login(&c, &base, "socialsekreterare@demo.saknad.se").await;
    c.goto(&case_url).await.expect("case");
    c.execute("document.getElementById('steps').scrollIntoView();", vec![]).await.expect("scroll");
    shot(&c, "04c-case-task-list").await;
    // What was learnt later is added to the report.
    c.find(Locator::Css("#add-to-report > summary")).await.expect("add").click().await.expect("open");
    c.find(Locator::Id("add-field")).await.expect("about").select_by_value("possible_whereabouts").await.expect("pick");
    c.find(Locator::Id("add-text")).await.expect("text").send_keys("en kusin i Malmö").await.expect("type");
    c.find(Locator::Id("add-button")).await.expect("add").click().await.expect("click");
    wait_for_page(&c, "addition shown", |p| p.contains("report-additions") && p.contains("en kusin i Malmö")).await;
    // A step is a row of the task list; its action opens beneath it.
    c.find(Locator::Css("#step-lvu_assessment summary")).await.expect("lvu action").click().await.expect("open");
    c.find(Locator::Css("#step-lvu_assessment form button")).await.expect("lvu complete").click().await.expect("click");
    // "Sparat" was on the page already (the addition): wait for the step itself to show done.
    wait_for_page(&c, "step saved", |p| {
        p.split("id=\"step-lvu_assessment\"")
            .nth(1)
            .and_then(|rest| rest.split("</li>").next())
            .is_some_and(|li| li.contains("tag-done"))
    })
    .await;
    c.find(Locator::Id("found-button")).await.expect("found").click().await.expect("click");
    wait_for_page(&c, "found", |p| p.contains("id=\"case-status\">påträffad")).await;
    let reason = c.find(Locator::Id("close-reason")).await.expect("reason");
    reason.select_by_value("transferred").await.expect("select");
    c.find(Locator::Id("close-button")).await.expect("close").click().await.expect("click");
    wait_for_page(&c, "closed", |p| p.contains("id=\"case-status\">avslutat")).await;
    shot(&c, "05-case-closed").await;
    // The social worker records an asylum decision on the child's page; staff are prompted to go through the
    // preparedness sheet with the child, and confirm it.
    c.goto(&format!("{base}/children")).await.expect("children");
    c.find(Locator::LinkText("Yonas Tesfay")).await.expect("child link").click().await.expect("click");
    wait_for_page(&c, "child page", |p| p.contains("id=\"asylum\"")).await;
    let child_url = c.current_url().await.expect("url").to_string();
    c.execute("document.getElementById('asylum_decision_date').value = new Date().toISOString().slice(0, 10);", vec![])
        .await
        .expect("date");
    c.find(Locator::Id("asylum_decision_outcome"))
        .await
        .expect("outcome")
        .select_by_value("granted")
        .await
        .expect("pick");
    c.find(Locator::Css("form[action*=asylum-decision] button")).await.expect("save").click().await.expect("click");
    wait_for_page(&c, "decision saved", |p| p.contains("uppehållstillstånd beviljat,")).await;
    shot(&c, "05b-child-asylum-decision").await;
    assert!(reflows(&c).await, "the child page scrolls sideways on a phone");
    login(&c, &base, "personal@demo.saknad.se").await;
    c.goto(&format!("{base}/worklist")).await.expect("worklist");
    wait_for_page(&c, "prevention prompts", |p| {
        p.contains("id=\"prompts\"") && p.contains("ett asylbeslut har kommit")
    })
    .await;
    shot(&c, "05c-staff-prevention").await;
    c.goto(&child_url).await.expect("child");
    c.find(Locator::Css("form[action*='sheet/reviewed'] button")).await.expect("confirm").click().await.expect("click");
    wait_for_page(&c, "sheet confirmed", |p| p.contains("Sparat")).await;
    c.goto(&format!("{base}/worklist")).await.expect("worklist");
    let page = source(&c).await;
    assert!(!page.contains("Yonas Tesfay</a>: ett asylbeslut"), "the review answered the prompt");

    // The county officer edits the routine and sees the episode pseudonymised.
    login(&c, &base, "lansstyrelsen@demo.saknad.se").await;
    c.goto(&format!("{base}/routine")).await.expect("routine");
    // Each step is a card that opens; a deadline is a number and a unit.
    c.find(Locator::Css("#steps_1_card > summary")).await.expect("police card").click().await.expect("open");
    let deadline_input = c.find(Locator::Id("steps_1__deadline")).await.expect("police deadline");
    deadline_input.clear().await.expect("clear");
    deadline_input.send_keys("45").await.expect("type");
    c.find(Locator::Id("steps_1__deadline_unit"))
        .await
        .expect("unit")
        .select_by_value("minutes")
        .await
        .expect("select");
    c.find(Locator::Id("note")).await.expect("note").send_keys("Polisen inom 45 minuter").await.expect("type");
    shot(&c, "06a-routine-editing").await;
    c.find(Locator::Id("save-routine")).await.expect("save").click().await.expect("click");
    wait_for_page(&c, "new version stored", |p| p.contains("Version 2") && p.contains("45 minuter")).await;
    shot(&c, "06-routine").await;
    // A bad deadline is shown next to its field, the summary links to it.
    c.find(Locator::Css("#steps_1_card > summary")).await.expect("police card").click().await.expect("open");
    let deadline_input = c.find(Locator::Id("steps_1__deadline")).await.expect("police deadline");
    deadline_input.clear().await.expect("clear");
    deadline_input.send_keys("snart").await.expect("type");
    c.find(Locator::Id("save-routine")).await.expect("save").click().await.expect("click");
    wait_for_page(&c, "inline error", |p| p.contains("error-summary") && p.contains("steps_1__deadline-error")).await;
    shot(&c, "06b-routine-error").await;
    c.goto(&format!("{base}/cases")).await.expect("cases");
    let page = source(&c).await;
    assert!(page.contains("AB-") && !page.contains("Amir") && !page.contains("Rahimi"), "pseudonymised list");
    shot(&c, "07-county-cases").await;
    c.goto(&format!("{base}/stats")).await.expect("stats");
    shot(&c, "08-county-stats").await;
    assert!(source(&c).await.contains("<svg"), "statistics with charts");

    // The English switch, remembered for the user.
    c.find(Locator::Css("form[action^='/language'] button")).await.expect("switch").click().await.expect("click");
    wait_for_page(&c, "switched", |p| p.contains("lang=\"en\"")).await;
    c.goto(&format!("{base}/cases")).await.expect("cases");
    let page = source(&c).await;
    assert!(page.contains("lang=\"en\"") && page.contains("Cases") && page.contains("Sign out"), "English");
    shot(&c, "09-english").await;
    // The same people's pages at 1280 px.
    c.set_window_size(1280, 900).await.expect("resize");
    login(&c, &base, "socialsekreterare@demo.saknad.se").await;
    c.goto(&case_url).await.expect("case");
    wait_for_page(&c, "wide case page", |p| p.contains("id=\"steps\"")).await;
    shot(&c, "10-wide-case").await;
    login(&c, &base, "lansstyrelsen@demo.saknad.se").await;
    for (path, name) in
        [("/routine", "11-wide-routine"), ("/stats", "12-wide-stats"), ("/access-log", "13-wide-access-log")]
    {
        c.goto(&format!("{base}{path}")).await.expect("page");
        shot(&c, name).await;
    }
    // The admin registers a user with the municipality picked by name; the user chooses the password from
    // the emailed link (the new-account journey is `a_new_social_worker_…`).
    login(&c, &base, "admin@demo.saknad.se").await;
    c.goto(&format!("{base}/admin/users")).await.expect("users");
    shot(&c, "14-wide-admin-users").await;
    create_social_worker(&c, "ny.socialsekreterare@demo.saknad.se", "0184").await;
    wait_for_page(&c, "user created", |p| p.contains("Nina Ny") && p.contains("Solna")).await;
    c.goto(&format!("{base}/admin/accommodations")).await.expect("accommodations");
    shot(&c, "15-wide-admin-accommodations").await;

    // At 320 px every page reflows: nothing scrolls sideways (WCAG 1.4.10).
    c.set_window_size(320, 800).await.expect("resize");
    let mut wide = Vec::new();
    for (who, paths) in [
        (
            "admin@demo.saknad.se",
            vec!["/admin/users", "/admin/accommodations", "/admin/municipalities", "/admin/domains"],
        ),
        ("personal@demo.saknad.se", vec!["/", "/worklist", &case_url, &child_url, "/account", "/mfa"]),
        ("socialsekreterare@demo.saknad.se", vec!["/cases", "/children", "/children/new", &case_url, &child_url]),
        ("socialjour@demo.saknad.se", vec!["/cases", "/worklist", &case_url]),
        ("lansstyrelsen@demo.saknad.se", vec!["/cases", "/routine", "/stats", "/access-log", "/contacts"]),
    ] {
        login(&c, &base, who).await;
        for path in paths {
            let url = if path.starts_with("http") { path.to_string() } else { format!("{base}{path}") };
            c.goto(&url).await.expect("page");
            let name = format!(
                "narrow-{}{}",
                who.split('@').next().unwrap_or(""),
                path.rsplit_once(base.as_str()).map_or(path, |(_, p)| p).replace('/', "-")
            );
            shot(&c, &name).await;
            if !reflows(&c).await {
                wide.push(format!("{who} {path}"));
            }
        }
    }
    assert!(wide.is_empty(), "pages that scroll sideways at 320 px: {wide:?}");
    let _ = c.close().await;
    server.abort();
    assert_no_axe_violations();
}

/// The admin's new-user form on the users page, filled in for a social worker Nina Ny of `municipality`
/// (picked by name from the list), and sent.
async fn create_social_worker(c: &Client, email: &str, municipality: &str) {
    c.find(Locator::Id("email")).await.expect("email").send_keys(email).await.expect("type");
    c.find(Locator::Id("name")).await.expect("name").send_keys("Nina Ny").await.expect("type");
    c.find(Locator::Id("role")).await.expect("role").select_by_value("social_worker").await.expect("role");
    c.find(Locator::Id("municipality_code")).await.expect("muni").select_by_value(municipality).await.expect("muni");
    c.find(Locator::Css("form[action^='/admin/users?'] button.primary"))
        .await
        .expect("create")
        .click()
        .await
        .expect("click");
}

/// Types the code the authenticator app would show for the secret on the enrolment page, and confirms.
async fn enrol_in_browser(c: &Client, name: &str) {
    wait_for_page(c, "enrolment page", |p| p.contains("id=\"mfa-confirm\"") && p.contains("<svg")).await;
    shot(c, &format!("{name}-mfa-enrol")).await;
    let secret = c.find(Locator::Id("mfa-secret")).await.expect("secret").text().await.expect("text");
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let code = saknad::auth::mfa::code_at(&secret, now).unwrap_or_default();
    c.find(Locator::Id("code")).await.expect("code").send_keys(&code).await.expect("type");
    c.find(Locator::Css("#mfa-confirm button")).await.expect("confirm").click().await.expect("click");
    wait_for_page(c, "recovery codes", |p| p.contains("id=\"recovery-codes\"")).await;
    shot(c, &format!("{name}-mfa-recovery-codes")).await;
}

/// The set-password link of a message to `to` in the outbox folder.
fn set_password_link(outbox: &std::path::Path, to: &str) -> Option<String> {
    links_in_outbox(outbox, |a| a.contains(to), "/set-password/").pop()
}

/// With a second factor required (as in a release build): the admin enrols on first sign-in, creates an
/// account; its owner chooses a password from the emailed link on a phone, enrols, and ends every session.
#[rocket::async_test]
async fn a_new_social_worker_chooses_a_password_from_the_link_and_enrols_a_second_factor_on_a_phone() {
    let Some(Browser { c, _driver }) = browser(1280, 900).await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let (base, server) = serve(dir.path(), free_port(), |f| f.merge(("require_mfa", true)));
    login(&c, &base, "admin@demo.saknad.se").await;
    enrol_in_browser(&c, "20-admin").await;
    c.goto(&format!("{base}/admin/users")).await.expect("users");
    create_social_worker(&c, "nina.ny@demo.saknad.se", "0180").await;
    wait_for_page(&c, "link sent", |p| p.contains("En länk för att välja lösenord har skickats")).await;
    shot(&c, "21-admin-user-created").await;
    // Her phone: the link from the email.
    c.set_window_size(390, 844).await.expect("resize");
    c.delete_all_cookies().await.expect("cookies");
    let outbox = dir.path().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(15);
    let link = loop {
        if let Some(l) = set_password_link(&outbox, "nina.ny@demo.saknad.se") {
            break l;
        }
        assert!(Instant::now() < deadline, "no set-password link in {}", outbox.display());
        rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    };
    c.goto(&link).await.expect("link");
    wait_for_page(&c, "set-password page", |p| {
        p.contains("id=\"new_password\"") && p.contains("nina.ny@demo.saknad.se")
    })
    .await;
    shot(&c, "22-set-password").await;
    c.find(Locator::Id("new_password")).await.expect("pw").send_keys("nina.ny.2026").await.expect("type");
    c.find(Locator::Css("form[action^='/set-password/'] button")).await.expect("save").click().await.expect("click");
    wait_for_page(&c, "refused at the field", |p| {
        p.contains("id=\"new_password-error\"") && p.contains("för lätt att gissa")
    })
    .await;
    shot(&c, "22b-set-password-refused").await;
    let strong = "vitsippor i backen vid Årstaviken";
    c.find(Locator::Id("new_password")).await.expect("pw").send_keys(strong).await.expect("type");
    c.find(Locator::Css("form[action^='/set-password/'] button")).await.expect("save").click().await.expect("click");
    wait_for_page(&c, "password saved", |p| p.contains("Lösenordet är sparat")).await;
    c.find(Locator::Id("email")).await.expect("email").send_keys("nina.ny@demo.saknad.se").await.expect("type");
    c.find(Locator::Id("password")).await.expect("password").send_keys(strong).await.expect("type");
    c.find(Locator::Css("form[action^='/login'] button")).await.expect("submit").click().await.expect("click");
    enrol_in_browser(&c, "23-social-worker").await;
    assert!(reflows(&c).await, "the recovery codes scroll sideways on a phone");
    c.find(Locator::Css("a.button.primary[href='/']")).await.expect("continue").click().await.expect("click");
    wait_for_page(&c, "her start page", |p| p.contains("/logout") && p.contains("Nina Ny")).await;
    c.goto(&format!("{base}/account")).await.expect("account");
    wait_for_page(&c, "account page", |p| p.contains("id=\"sessions\"")).await;
    shot(&c, "24-account-sessions").await;
    assert!(reflows(&c).await, "the sessions page scrolls sideways on a phone");
    c.find(Locator::Id("end-all")).await.expect("end all").click().await.expect("click");
    wait_for_page(&c, "signed out everywhere", |p| p.contains("Du är utloggad på alla enheter")).await;
    c.goto(&format!("{base}/cases")).await.expect("cases");
    wait_for_page(&c, "back at the login page", |p| p.contains("id=\"password\"")).await;
    let _ = c.close().await;
    server.abort();
    assert_no_axe_violations();
}

/// The identity provider the tests run: `SAKNAD_OIDC_PROVIDER` names a folder where CI installed
/// oidc-provider from the npm registry. `None` (skipped) without it, unless `SAKNAD_REQUIRE_OIDC=1`.
fn identity_provider(redirect_uri: &str, secret: &str) -> Option<(String, Driver)> {
    let Ok(dir) = std::env::var("SAKNAD_OIDC_PROVIDER") else {
        assert!(
            std::env::var("SAKNAD_REQUIRE_OIDC").is_err(),
            "SAKNAD_REQUIRE_OIDC is set but SAKNAD_OIDC_PROVIDER is not"
        );
        eprintln!("SAKNAD_OIDC_PROVIDER not set: the identity provider test is skipped");
        return None;
    };
    // The script resolves `oidc-provider` from its own folder's node_modules.
    let script = std::path::Path::new(&dir).join("saknad-test-provider.mjs");
    std::fs::write(&script, include_str!("../oidc/provider.mjs")).expect("write the provider script");
    let port = free_port();
    let child = Command::new("node")
        .arg(&script)
        .arg(port.to_string())
        .arg(redirect_uri)
        .arg(secret)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node");
    let guard = Driver(child);
    assert!(wait_for(port), "the identity provider is up");
    Some((format!("http://localhost:{port}"), guard))
}

/// Signing in through the municipality's own identity provider (a real, certified OpenID provider): with its
/// strong authentication straight in; with a password only, the second factor is asked for; a person
/// without an account is refused.
#[rocket::async_test]
async fn signing_in_through_the_municipalitys_identity_provider() {
    let saknad_port = free_port();
    let secret = saknad::auth::random_token(24);
    let redirect = format!("http://127.0.0.1:{saknad_port}/login/oidc/stockholm/callback");
    let Some((issuer, _idp)) = identity_provider(&redirect, &secret) else { return };
    let Some(Browser { c, _driver }) = browser(390, 844).await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let provider = serde_json::json!({"stockholm": {"issuer": issuer, "client_id": "saknad", "client_secret": secret,
        "label": "Stockholms stad", "email_domains": ["demo.saknad.se"],
        "strong_acr": ["http://id.elegnamnden.se/loa/1.0/loa3"]}});
    let (base, server) = serve(dir.path(), saknad_port, |f| f.merge(("require_mfa", true)).merge(("oidc", provider)));
    let sign_in = |email: &'static str, strong: bool| {
        let (c, base, issuer) = (&c, &base, &issuer);
        async move {
            // Another person at the same browser: the provider's own session ends too (its single sign-on).
            c.goto(&format!("{issuer}/.well-known/openid-configuration")).await.expect("provider");
            c.delete_all_cookies().await.expect("cookies");
            c.goto(&format!("{base}/login")).await.expect("login page");
            c.delete_all_cookies().await.expect("cookies");
            c.goto(&format!("{base}/login")).await.expect("login page");
            c.find(Locator::Css("a[href='/login/oidc/stockholm']"))
                .await
                .expect("the provider's button")
                .click()
                .await
                .expect("click");
            wait_for_page(c, "the provider's page", |p| p.contains("Kommunens inloggning")).await;
            c.find(Locator::Id("login")).await.expect("login").send_keys(email).await.expect("type");
            if strong {
                c.find(Locator::Id("second")).await.expect("second").click().await.expect("tick");
            }
            c.find(Locator::Id("idp-submit")).await.expect("submit").click().await.expect("click");
        }
    };
    c.goto(&format!("{base}/login")).await.expect("login page");
    shot(&c, "30-login-with-provider").await;
    // The social worker with BankID: straight to her cases.
    sign_in("socialsekreterare@demo.saknad.se", true).await;
    wait_for_page(&c, "signed in through the provider", |p| p.contains("/logout") && p.contains("Ärenden")).await;
    shot(&c, "31-signed-in-through-provider").await;
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/cases", "{url}");
    // Staff with a password only at the provider: Saknad asks for its own second factor.
    sign_in("personal@demo.saknad.se", false).await;
    wait_for_page(&c, "asked for the second factor", |p| p.contains("id=\"mfa-confirm\"")).await;
    shot(&c, "32-provider-without-second-factor").await;
    // A person the provider knows but Saknad has no account for.
    sign_in("okand@demo.saknad.se", true).await;
    wait_for_page(&c, "refused", |p| p.contains("inget konto i Saknad")).await;
    shot(&c, "33-provider-no-account").await;
    let _ = c.close().await;
    server.abort();
    assert_no_axe_violations();
}
