//! Typed settings: `Rocket.toml` (section of the active profile) plus `SAKNAD_*` variables, the environment
//! winning. Everything is validated here, at start-up, so that a bad configuration stops the server with
//! one sentence instead of failing on the first request.

use crate::db::DbUrl;
use rocket::figment::providers::{Env, Serialized};
use rocket::figment::Figment;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DbUrl,
    pub smtp_url: Option<String>,
    /// A PEM file of the certificate authority the mail relay's certificate is checked against, beside the
    /// public roots (`SAKNAD_SMTP_CA_FILE`; a municipality's relay often has an internal CA).
    pub smtp_ca_file: Option<PathBuf>,
    pub mail_from: String,
    pub public_url: String,
    pub jwt_secret: String,
    pub demo: bool,
    pub data_dir: PathBuf,
    pub db_pool_size: u32,
    /// Run the delivery worker in this process (tests drive it by hand).
    pub worker: bool,
    pub worker_poll: std::time::Duration,
    /// Days after the last closure before a child's photo is deleted.
    pub retention_photo_days: i64,
    /// Days after the last closure before a child's personal data is pseudonymised.
    pub retention_personal_days: i64,
    pub outbox_lease_seconds: i64,
    /// Reverse proxies whose `X-Real-IP` / `X-Forwarded-For` are believed (`SAKNAD_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The key of the access log's chain (`SAKNAD_AUDIT_KEY`, else `audit_key` in the data directory).
    pub audit_key: String,
    /// Every role that reaches personal data must give a second factor (`SAKNAD_REQUIRE_MFA`; on by default
    /// in release builds, off in debug builds and demo mode).
    pub require_mfa: bool,
    /// A session ends after this long without a request (`SAKNAD_SESSION_IDLE_MINUTES`, default 30).
    pub session_idle: chrono::Duration,
    /// A session ends this long after login whatever happens (`SAKNAD_SESSION_HOURS`, default 8, at most 12).
    pub session_length: chrono::Duration,
    /// The identity providers people may log in with (`SAKNAD_OIDC`, or `[default.oidc.NAME]` in Rocket.toml).
    pub oidc: Vec<crate::auth::oidc::Provider>,
}

impl Settings {
    /// Cookies are `Secure` unless the server is reached over plain HTTP on this machine (development):
    /// a production address without https then cannot hold a session at all, rather than leak one.
    pub fn secure_cookies(&self) -> bool {
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
        !local.iter().any(|l| self.public_url == *l || self.public_url.starts_with(&format!("{l}:")))
    }

    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Debug, Deserialize, Default)]
struct Raw {
    database_url: Option<String>,
    smtp_url: Option<String>,
    smtp_ca_file: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
    jwt_secret: Option<String>,
    demo: Option<Flag>,
    data_dir: Option<String>,
    db_pool_size: Option<u32>,
    worker: Option<Flag>,
    worker_poll_ms: Option<u64>,
    retention_photo_days: Option<i64>,
    retention_personal_days: Option<i64>,
    outbox_lease_seconds: Option<i64>,
    trusted_proxies: Option<String>,
    audit_key: Option<String>,
    require_mfa: Option<Flag>,
    session_idle_minutes: Option<i64>,
    session_hours: Option<i64>,
    oidc: Option<std::collections::BTreeMap<String, crate::auth::oidc::RawProvider>>,
}

/// `SAKNAD_DEMO=1`, `=true` and `=yes` all mean on.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Int(i64),
    Str(String),
}

impl Flag {
    fn on(&self) -> bool {
        match self {
            Flag::Bool(b) => *b,
            Flag::Int(i) => *i != 0,
            Flag::Str(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"),
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/saknad.sqlite";
const SECRET_FILE: &str = "jwt_secret";

impl Settings {
    /// The Rocket figment (Rocket.toml + ROCKET_*) with SAKNAD_* merged on top.
    pub fn figment() -> Figment {
        rocket::Config::figment().merge(Env::prefixed("SAKNAD_").global())
    }

    pub fn from_figment(figment: &Figment) -> Result<Settings, String> {
        let raw: Raw = figment.extract().map_err(|e| format!("invalid configuration: {e}"))?;
        let database = DbUrl::parse(raw.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))?;
        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "data".into()));
        let demo = raw.demo.map(|f| f.on()).unwrap_or(false);
        let public_url = raw.public_url.unwrap_or_else(|| "http://127.0.0.1:8000".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err("SAKNAD_PUBLIC_URL must start with http:// or https://".into());
        }
        if let Some(smtp) = &raw.smtp_url {
            if !(smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
                return Err("SAKNAD_SMTP_URL must start with smtp:// or smtps://".into());
            }
        }
        let jwt_secret = match raw.jwt_secret.filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => stored_or_generated_secret(&data_dir, demo)?,
        };
        if let Some(why) = crate::auth::password::secret_weakness(&jwt_secret) {
            return Err(format!("SAKNAD_JWT_SECRET {why}"));
        }
        let mut trusted_proxies = Vec::new();
        for p in raw.trusted_proxies.as_deref().unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<std::net::IpAddr>() {
                Ok(ip) => trusted_proxies.push(ip),
                Err(_) => return Err(format!("SAKNAD_TRUSTED_PROXIES: {p:?} is not an IP address")),
            }
        }
        let audit_key = match raw.audit_key.filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => stored_or_generated_audit_key(&data_dir)?,
        };
        if let Some(why) = crate::auth::password::secret_weakness(&audit_key) {
            return Err(format!("SAKNAD_AUDIT_KEY {why}"));
        }
        let require_mfa = raw.require_mfa.map(|f| f.on()).unwrap_or(!cfg!(debug_assertions) && !demo);
        let idle = raw.session_idle_minutes.unwrap_or(crate::domain::session::DEFAULT_IDLE_MINUTES);
        if !(1..=24 * 60).contains(&idle) {
            return Err("SAKNAD_SESSION_IDLE_MINUTES must be between 1 and 1440".into());
        }
        let hours = raw.session_hours.unwrap_or(crate::domain::session::DEFAULT_HOURS);
        if !(1..=crate::domain::session::MAX_HOURS).contains(&hours) {
            return Err(format!("SAKNAD_SESSION_HOURS must be between 1 and {}", crate::domain::session::MAX_HOURS));
        }
        let mut oidc = Vec::new();
        for (name, p) in raw.oidc.unwrap_or_default() {
            oidc.push(p.validate(&name)?);
        }
        Ok(Settings {
            require_mfa,
            session_idle: chrono::Duration::minutes(idle),
            session_length: chrono::Duration::hours(hours),
            oidc,
            audit_key,
            trusted_proxies,
            database,
            smtp_url: raw.smtp_url.filter(|s| !s.is_empty()),
            smtp_ca_file: raw.smtp_ca_file.filter(|s| !s.is_empty()).map(PathBuf::from),
            mail_from: raw.mail_from.unwrap_or_else(|| "Saknad <saknad@localhost>".into()),
            public_url: public_url.trim_end_matches('/').to_string(),
            jwt_secret,
            demo,
            data_dir,
            db_pool_size: raw.db_pool_size.unwrap_or(8).clamp(1, 64),
            worker: raw.worker.map(|f| f.on()).unwrap_or(true),
            worker_poll: std::time::Duration::from_millis(raw.worker_poll_ms.unwrap_or(2000).clamp(50, 60_000)),
            retention_photo_days: raw.retention_photo_days.unwrap_or(90).clamp(1, 36_500),
            retention_personal_days: raw.retention_personal_days.unwrap_or(5 * 365).clamp(1, 36_500),
            outbox_lease_seconds: raw.outbox_lease_seconds.unwrap_or(300).clamp(1, 300),
        })
    }

    /// Rocket's own cookie key, derived from the JWT secret so that no `ROCKET_SECRET_KEY` is needed.
    pub fn rocket_secret_key(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"saknad/rocket-secret-key/v1\0");
        h.update(self.jwt_secret.as_bytes());
        hex::encode(h.finalize())
    }

    /// The figment Rocket itself runs with: the caller's plus the derived secret key.
    pub fn rocket_figment(&self, base: Figment) -> Figment {
        // Blocking work is database work and waits for a pooled connection anyway: more threads than a few
        // per connection only add memory (each thread gets its own allocator arena).
        let blocking =
            base.extract_inner::<usize>("max_blocking").unwrap_or(usize::MAX).min(self.db_pool_size as usize * 4);
        // Client address headers are read by `auth::client_ip`, from trusted proxies only, never by Rocket.
        base.merge(Serialized::default("secret_key", self.rocket_secret_key()))
            .merge(Serialized::default("max_blocking", blocking))
            .merge(Serialized::default("ip_header", false))
    }
}

/// A release build without `SAKNAD_JWT_SECRET` uses the secret stored in the data directory. It creates
/// one only in debug builds or demo mode: a production server must not silently invent a key that other
/// instances behind the same load balancer would not share.
fn stored_or_generated_secret(data_dir: &std::path::Path, demo: bool) -> Result<String, String> {
    let path = data_dir.join(SECRET_FILE);
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if s.len() >= 32 {
            return Ok(s);
        }
        return Err(format!(
            "the stored JWT secret in {} is too short; delete it or set SAKNAD_JWT_SECRET",
            path.display()
        ));
    }
    if !cfg!(debug_assertions) && !demo {
        return Err(format!(
            "SAKNAD_JWT_SECRET is not set and no generated secret is stored in {}; set it to at least 32 random characters",
            path.display()
        ));
    }
    let secret = crate::auth::random_token(48);
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    write_private(&path, &secret).map_err(|e| format!("cannot store a generated secret in {}: {e}", path.display()))?;
    Ok(secret)
}

const AUDIT_KEY_FILE: &str = "audit_key";

/// The access log's key: the one stored in the data directory, or a new one written there (owner-only).
/// Never in the database: whoever can rewrite the database must not be able to re-sign the log. Servers
/// that share a database share `SAKNAD_AUDIT_KEY` instead (docs/operations.md).
fn stored_or_generated_audit_key(data_dir: &std::path::Path) -> Result<String, String> {
    let path = data_dir.join(AUDIT_KEY_FILE);
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if s.len() >= 32 {
            return Ok(s);
        }
        return Err(format!("{} holds no usable access-log key (at least 32 characters)", path.display()));
    }
    let key = crate::auth::random_token(48);
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    write_private(&path, &key).map_err(|e| format!("cannot store the access-log key in {}: {e}", path.display()))?;
    Ok(key)
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(content.as_bytes())
}
