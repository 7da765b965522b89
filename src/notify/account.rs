//! Rendering and sending mail about accounts and the directory (`store::account_mail`).
//!
//! Policy: nothing about any child is ever in these messages. A security notice names the account or the
//! address that changed, who changed it and when; a set-password link mail names the account's owner and
//! the link's end. Codes (roles, fields, events) are shown by their labels in the recipient's language.

use super::mailer;
use super::render::Rendered;
use crate::db::AnyConnection;
use crate::domain::delivery::Mode;
use crate::i18n;
use crate::store::account_mail::{self, MailRow, SECURITY_NOTICE, SET_PASSWORD};
use crate::store::children::utc;
use crate::store::links;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera};

/// The order and labels of what a security notice lists; values under `role` and `field` are codes shown by
/// their labels.
const FIELDS: [(&str, &str); 8] = [
    ("account", "notice_account"),
    ("role", "role"),
    ("scope", "notice_scope"),
    ("field", "notice_field"),
    ("old", "notice_old"),
    ("new", "notice_new"),
    ("by", "notice_by"),
    ("at", "notice_at"),
];

pub const EVENTS: [&str; 8] = [
    "user_created",
    "access_restored",
    "mfa_reset",
    "contact_changed",
    "contact_replaced",
    "allowed_domains_changed",
    "mfa_enabled",
    "recovery_code_used",
];

#[derive(Serialize)]
struct Line {
    label: &'static str,
    value: String,
}

/// What rendering found: a message to send, or nothing because the link it carried has ended.
pub enum Outcome {
    Send(Box<Rendered>),
    Obsolete,
}

pub fn render(
    tera: &Tera,
    conn: &mut AnyConnection,
    row: &MailRow,
    secret: &[u8],
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, String> {
    let lang = i18n::lang_of(Some(&row.language));
    let params: Value = serde_json::from_str(&row.params).map_err(|e| format!("params: {e}"))?;
    let mut ctx = Context::new();
    ctx.insert("t", &i18n::table(lang));
    ctx.insert("lang", lang);
    let kind = row.kind.as_str();
    let reference = format!("account-{}", row.id);
    match kind {
        SET_PASSWORD => {
            let id = params["link_id"].as_i64().unwrap_or(0);
            let link = links::by_id(conn, id).map_err(|e| format!("link: {e}"))?;
            let Some(link) = link.filter(|l| l.used_at.is_none() && utc(l.expires_at) > now) else {
                return Ok(Outcome::Obsolete);
            };
            let token = links::token(secret, &link.purpose, &link.nonce);
            ctx.insert("name", params["name"].as_str().unwrap_or(""));
            ctx.insert("new_account", &params["new_account"].as_bool().unwrap_or(false));
            ctx.insert("url", &format!("{public_url}/set-password/{token}"));
            ctx.insert(
                "expires",
                &crate::domain::calendar::to_local(utc(link.expires_at)).format("%Y-%m-%d %H:%M").to_string(),
            );
        }
        SECURITY_NOTICE => {
            let event = params["event"].as_str().filter(|e| EVENTS.contains(e)).ok_or("unknown event")?;
            ctx.insert("subject", i18n::t(lang, &format!("security_{event}_subject")));
            ctx.insert("intro", i18n::t(lang, &format!("security_{event}_text")));
            // A delivery mode's change names the mode by its label, under "how messages are sent".
            let mode = params["fields"]["field"].as_str().is_some_and(|f| f.ends_with("_delivery"));
            let lines: Vec<Line> = FIELDS
                .iter()
                .filter_map(|(key, label)| {
                    let v = params["fields"][key].as_str()?;
                    let value = match *key {
                        "role" => i18n::t(lang, &format!("role_{v}")).to_string(),
                        "field" if mode => format!("{}: {}", i18n::t(lang, "delivery_heading"), i18n::t(lang, v)),
                        "field" => i18n::t(lang, v).to_string(),
                        "old" | "new" if mode => i18n::t(lang, &format!("delivery_{v}")).to_string(),
                        _ => v.to_string(),
                    };
                    Some(Line { label: i18n::t(lang, label), value })
                })
                .collect();
            ctx.insert("lines", &lines);
            let review = params["review"].as_bool().unwrap_or(false);
            ctx.insert("url", &review.then(|| format!("{public_url}/access-log")));
        }
        other => return Err(format!("unknown account mail kind {other}")),
    }
    let r = |part: &str| {
        tera.render(&format!("email/{kind}/{part}"), &ctx).map_err(|e| format!("rendering {kind}/{part}: {e:?}"))
    };
    Ok(Outcome::Send(Box::new(Rendered {
        subject: r("subject.txt")?.trim().to_string(),
        text: r("body.txt")?,
        html: r("body.html")?,
        photo: None,
        reference,
        categories: vec![],
        mode: Mode::Full,
        full_refused: false,
    })))
}

/// Sends what is due; returns how many were sent.
pub async fn send_due(
    db: &crate::db::Db,
    ob: &std::sync::Arc<super::worker::Outbox>,
    now: DateTime<Utc>,
) -> Result<usize, crate::db::DbError> {
    use crate::db::DbError;
    let lease = chrono::Duration::seconds(ob.lease_seconds);
    let rows = db.run(move |c| account_mail::claim_due(c, now, lease, 16).map_err(DbError::from)).await?;
    let mut sent = 0;
    for row in rows {
        let (ob2, r2) = (std::sync::Arc::clone(ob), row.clone());
        let outcome =
            db.run(move |c| Ok::<_, DbError>(ob2.renderer.account(c, &r2, &ob2.secret, &ob2.public_url, now))).await?;
        let result = match outcome {
            Ok(Outcome::Obsolete) => Ok(None),
            Ok(Outcome::Send(r)) => {
                let id = format!("<account-{}@saknad>", row.id);
                match mailer::build(&ob.mail_from, &row.address, &id, &r) {
                    Ok(msg) => {
                        let stem = format!("{}-account-{}", now.format("%Y%m%dT%H%M%S"), row.id);
                        ob.mailer.send(msg, &stem).await.map(Some)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        let id = row.id;
        match result {
            Ok(reply) => {
                sent += usize::from(reply.is_some());
                db.run(move |c| account_mail::mark_sent(c, id, now).map_err(DbError::from)).await?;
            }
            Err(e) => {
                let kind = e.split_whitespace().next().unwrap_or("error").to_string();
                log::warn!("account mail {id}: delivery attempt failed ({kind})");
                db.run(move |c| account_mail::mark_failed(c, &row, &e, now).map_err(DbError::from)).await?;
            }
        }
    }
    Ok(sent)
}
