//! Rendering a notification at send time from the episode as it is then.
//!
//! Data minimisation is done here, by construction: the template context for a recipient only ever holds
//! the data that recipient may get (SPEC §4), so no template mistake can leak more.
//! - full (police, guardian, social services, on-call): the whole structured report and the photo;
//! - identity (Migrationsverket, assigning municipality): identity, dossier number and dates;
//! - coordinator (trafficking coordinator): reference, municipality, risk and the social worker's contact;
//! - county (the county mailbox): reference, municipality and what went wrong — nothing about the child.
//!
//! Only while the child is missing does a full mail carry the description, health and the report's details:
//! found and closed mails never repeat them.

use crate::auth::ack;
use crate::db::AnyConnection;
use crate::domain::calendar::to_local;
use crate::domain::delivery::{self, Mode};
use crate::domain::episode::Status;
use crate::domain::recipients::RecipientKind;
use crate::i18n;
use crate::store::children::{age_on, json_list, json_object, utc};
use crate::store::messages::{self, Loaded, ToRender};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use tera::{Context, Tera};

pub const KINDS: [&str; 6] =
    ["case_reported", "case_found", "case_closed", "escalation", "delivery_failed", "reminder"];

pub struct Renderer {
    tera: Tera,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// (content type, bytes) of the child's photo, for full-report recipients.
    pub photo: Option<(String, Vec<u8>)>,
    /// The episode reference, also sent as the `X-Saknad-Reference` header for receivers' filters.
    pub reference: String,
    /// Which categories of personal data the message carries, for its access-log entry.
    pub categories: Vec<&'static str>,
    /// Sent in full or as a notice, and whether a configured `full` was refused for want of TLS.
    pub mode: Mode,
    pub full_refused: bool,
}

/// What a rendering is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// A message with the content.
    Mail,
    /// A message with the reference, what happened and the link.
    Notice { full_refused: bool },
    /// The content on the page behind a notice's link.
    Page,
}

/// The categories of personal data a message to `aud` carries (SPEC §4 minimisation, §7 found means found).
pub fn categories(aud: Audience, still_missing: bool, photo: bool) -> Vec<&'static str> {
    let mut c = vec!["reference"];
    match aud {
        Audience::Full => {
            c.extend(["identity", "accommodation", "risk"]);
            if still_missing {
                c.extend(["description", "report", "contacts", "health"]);
            }
        }
        Audience::Identity => c.extend(["identity", "dossier_number"]),
        Audience::Coordinator => c.push("risk"),
        Audience::County => {}
    }
    if photo {
        c.push("photo");
    }
    c
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Full,
    Identity,
    Coordinator,
    County,
}

pub fn audience(recipient_kind: RecipientKind) -> Audience {
    use RecipientKind as K;
    match recipient_kind {
        K::Police | K::Guardian | K::SocialServices | K::OnCall => Audience::Full,
        K::Migrationsverket | K::AssigningMunicipality => Audience::Identity,
        K::TraffickingCoordinator => Audience::Coordinator,
        K::County | K::Reminder => Audience::County,
    }
}

#[derive(Serialize)]
struct ChildCtx {
    name: String,
    aliases: Vec<String>,
    date_of_birth: String,
    estimated: bool,
    age: i32,
    sex: &'static str,
    nationality: Option<String>,
    languages: String,
    dossier_number: Option<String>,
}

#[derive(Serialize)]
struct Line {
    label: &'static str,
    value: String,
}

fn local(t: NaiveDateTime) -> String {
    to_local(utc(t)).format("%Y-%m-%d %H:%M").to_string()
}

/// The template a notification is rendered with; a kind this program does not know is a report.
fn kind_of(n: &ToRender) -> &str {
    if KINDS.contains(&n.head.kind.as_str()) {
        n.head.kind.as_str()
    } else {
        "case_reported"
    }
}

impl Renderer {
    pub fn new() -> Result<Renderer, String> {
        Ok(Renderer { tera: crate::templates::engine(crate::templates::EMAIL, "email")? })
    }

    /// A message about an account or the directory (`notify::account`).
    pub fn account(
        &self,
        conn: &mut AnyConnection,
        row: &crate::store::account_mail::MailRow,
        secret: &[u8],
        public_url: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<super::account::Outcome, String> {
        super::account::render(&self.tera, conn, row, secret, public_url, now)
    }

    /// Renders a message as it is sent: in full or as a notice (`domain::delivery`), depending on the
    /// county's choice for the recipient and on whether the mail connection requires TLS.
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &self,
        conn: &mut AnyConnection,
        n: &ToRender,
        cache: &mut Option<Loaded>,
        secret: &[u8],
        public_url: &str,
        now: chrono::DateTime<chrono::Utc>,
        tls_required: bool,
    ) -> Result<Rendered, String> {
        let db = |e: diesel::result::Error| format!("loading the notification's episode failed: {e}");
        if n.head.kind == "reminder" {
            return self.render_reminder(conn, n, public_url, now).map_err(db);
        }
        let loaded = match cache.take().filter(|l| l.episode.id == n.head.episode_id) {
            Some(l) => l,
            None => Loaded::load(conn, n.head.episode_id).map_err(db)?,
        };
        let (mode, full_refused) =
            delivery::effective(n.head.recipient_kind, loaded.delivery.delivery(n.head.recipient_kind), tls_required);
        let how = match mode {
            Mode::Full => Output::Mail,
            Mode::Notice => Output::Notice { full_refused },
        };
        let rendered = self.render_loaded(conn, n, &loaded, secret, public_url, how);
        *cache = Some(loaded);
        rendered
    }

    /// The content behind a notice's link, as the page shows it: what a full message to the same recipient
    /// would hold now (minimised for them, and without description or health once the child is found), but
    /// no photo. Returns the HTML and the categories it discloses, for the view's access-log entry.
    pub fn notice_content(
        &self,
        conn: &mut AnyConnection,
        notification_id: i64,
        lang: &str,
        secret: &[u8],
        public_url: &str,
    ) -> Result<(String, Vec<&'static str>), String> {
        let db = |e: diesel::result::Error| format!("loading the notice's episode failed: {e}");
        let mut n = messages::load(conn, notification_id).map_err(db)?;
        n.language = lang.to_string();
        let loaded = Loaded::load(conn, n.head.episode_id).map_err(db)?;
        let r = self.render_loaded(conn, &n, &loaded, secret, public_url, Output::Page)?;
        Ok((r.html, r.categories))
    }

    fn render_loaded(
        &self,
        conn: &mut AnyConnection,
        n: &ToRender,
        loaded: &Loaded,
        secret: &[u8],
        public_url: &str,
        how: Output,
    ) -> Result<Rendered, String> {
        let db = |e: diesel::result::Error| format!("loading the notification's episode failed: {e}");
        let (e, child) = (&loaded.episode, &loaded.child);
        let lang = i18n::lang_of(Some(&n.language));
        let aud = audience(n.head.recipient_kind);
        let mut ctx = Context::new();
        ctx.insert("t", &i18n::table(lang));
        ctx.insert("lang", lang);
        ctx.insert("kind", &n.head.kind);
        ctx.insert("audience", &aud);
        ctx.insert("reference", &e.reference);
        ctx.insert("is_police", &(n.head.recipient_kind == RecipientKind::Police));
        ctx.insert("municipality", &loaded.municipality);
        ctx.insert("discovered_at", &local(e.discovered_at));
        ctx.insert("last_seen_at", &local(e.last_seen_at));
        ctx.insert("found_at", &e.found_at.map(local));
        ctx.insert("closed_at", &e.closed_at.map(local));
        ctx.insert("closure_reason", &e.closure_reason.as_ref().map(|r| i18n::t(lang, &format!("reason_{r}"))));
        let link = n.ack_nonce.as_ref().map(|nonce| format!("{public_url}/ack/{}", ack::token(secret, nonce)));
        let ack_url = link.clone().filter(|_| n.ack_required && how != Output::Page);
        ctx.insert("ack_url", &ack_url);
        let notice = matches!(how, Output::Notice { .. });
        ctx.insert("notice", &notice);
        ctx.insert("full_refused", &matches!(how, Output::Notice { full_refused: true }));
        ctx.insert("notice_url", &link);
        ctx.insert("link_expires", &n.ack_expires_at.map(local));
        let risk_label = i18n::t(lang, &format!("risk_{}", e.risk_level));
        ctx.insert("risk_level", risk_label);
        let indicators: Vec<&str> = e.indicators().iter().map(|i| i18n::t(lang, &format!("indicator_{i}"))).collect();
        ctx.insert("indicators", &indicators.join(", "));
        ctx.insert("social_worker", &loaded.social_worker.as_ref().map(|(n, e)| format!("{n} <{e}>")));
        let related_kind: Option<String> = match n.escalation_of {
            Some(of) => messages::recipient_kind_of(conn, of).map_err(db)?,
            None => None,
        };
        let related: Option<&str> = related_kind.as_ref().map(|k| i18n::t(lang, &format!("recipient_{k}")));
        // Told because the police did not acknowledge: they are the ones to phone the police (SPEC §7).
        let call_police = n.head.kind == "escalation"
            && related_kind.as_deref() == Some(RecipientKind::Police.as_str())
            && n.head.recipient_kind != RecipientKind::Police
            && n.head.recipient_kind != RecipientKind::County;
        ctx.insert("call_police", &call_police);
        let failed = n.head.kind == "delivery_failed";
        ctx.insert("escalated_from", &related.filter(|_| !failed));
        ctx.insert("failed_recipient", &related.filter(|_| failed));
        let mut photo = None;
        if matches!(aud, Audience::Full | Audience::Identity) {
            let day = crate::domain::calendar::local_date(utc(e.discovered_at));
            ctx.insert(
                "child",
                &ChildCtx {
                    name: format!("{} {}", child.given_name, child.family_name),
                    aliases: json_list(&child.aliases),
                    date_of_birth: child.date_of_birth.to_string(),
                    estimated: child.date_of_birth_estimated,
                    age: age_on(child.date_of_birth, day),
                    sex: i18n::t(lang, &format!("sex_{}", child.sex)),
                    nationality: child.nationality.as_deref().map(|c| i18n::names::country(lang, c)),
                    languages: i18n::names::language_list(lang, &json_list(&child.languages)),
                    dossier_number: child.dossier_number.clone(),
                },
            );
        }
        // The description, health and the report's details help find a missing child; once the child is
        // found, no mail repeats them (SPEC §7), escalations of found and closed mails included.
        let still_missing = e.status == Status::Missing && !matches!(kind_of(n), "case_found" | "case_closed");
        ctx.insert("description", "");
        ctx.insert("lines", &Vec::<Line>::new());
        ctx.insert("whereabouts_known", &false);
        if aud == Audience::Full && still_missing {
            let rep = e.report();
            let sheet = json_object(&child.preparedness);
            let field =
                |k: &str| crate::domain::preparedness::as_text(sheet.get(k), lang).map(|t| t.replace('\n', ", "));
            let description: Vec<String> =
                ["height", "build", "hair", "eyes", "distinguishing_marks"].iter().filter_map(|k| field(k)).collect();
            ctx.insert("description", &description.join(", "));
            let mut lines: Vec<Line> = Vec::new();
            let mut push = |key: &'static str, v: Option<String>| {
                if let Some(value) = v.filter(|s| !s.trim().is_empty()) {
                    lines.push(Line { label: i18n::t(lang, key), value });
                }
            };
            push("clothing", rep.clothing);
            push("belongings", rep.belongings);
            push("phone_numbers", field("phone_numbers"));
            push("social_media", field("social_media"));
            push("known_contacts", field("known_contacts"));
            push("known_places", field("known_places"));
            push("last_seen_place", rep.last_seen_place);
            push("last_seen_by", rep.last_seen_by);
            push("circumstances", rep.circumstances);
            push("search_actions", rep.search_actions);
            push("possible_whereabouts", rep.possible_whereabouts);
            push("health", field("health_and_medication"));
            push("vulnerabilities", field("vulnerabilities"));
            ctx.insert("lines", &lines);
            ctx.insert("whereabouts_known", &e.whereabouts_known);
            if how == Output::Mail && (n.head.kind == "case_reported" || n.head.kind == "escalation") {
                photo = crate::store::children::photo(conn, child.id).map_err(db)?;
            }
        }
        if aud == Audience::Full {
            ctx.insert("police_reference", &e.police_reference);
            ctx.insert("found_place", &e.found().found_place);
            let acc = &loaded.accommodation;
            ctx.insert("accommodation", &acc.as_ref().map(|a| a.0.clone()));
            ctx.insert("accommodation_phone", &acc.as_ref().map(|a| a.1.clone()));
        }
        ctx.insert("has_photo", &photo.is_some());
        let kind = kind_of(n);
        let r = |name: &str| {
            self.tera
                .render(&format!("email/{kind}/{name}"), &ctx)
                .map_err(|e| format!("rendering {kind}/{name}: {e:?}"))
        };
        let (mode, full_refused) = match how {
            Output::Notice { full_refused } => (Mode::Notice, full_refused),
            Output::Mail | Output::Page => (Mode::Full, false),
        };
        let categories = if notice { vec!["reference"] } else { categories(aud, still_missing, photo.is_some()) };
        if how == Output::Page {
            let html = self.tera.render("email/content.html", &ctx).map_err(|e| format!("rendering content: {e:?}"))?;
            return Ok(Rendered {
                subject: String::new(),
                text: String::new(),
                html,
                photo: None,
                reference: e.reference.clone(),
                categories,
                mode,
                full_refused,
            });
        }
        Ok(Rendered {
            subject: r("subject.txt")?.trim().to_string(),
            text: r("body.txt")?,
            html: r("body.html")?,
            categories,
            photo,
            reference: e.reference.clone(),
            mode,
            full_refused,
        })
    }
}

/// The daily anchor of the access log, for a county mailbox: the signed line and how to use it. No personal
/// data; in Swedish, the county's language, with an English line for auditors from elsewhere.
pub fn anchor(line: &str) -> Rendered {
    let day = line.split(' ').nth(2).unwrap_or_default();
    let text = format!("{}\n\n{line}\n\n{}\n", i18n::t("sv", "anchor_mail_text"), i18n::t("en", "anchor_mail_text"));
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Saknad</title></head><body><p>{}</p><pre>{}</pre><p lang=\"en\">{}</p></body></html>",
        esc(i18n::t("sv", "anchor_mail_text")),
        esc(line),
        esc(i18n::t("en", "anchor_mail_text"))
    );
    Rendered {
        subject: format!("{} {day}", i18n::t("sv", "anchor_mail_subject")),
        text,
        html,
        photo: None,
        reference: format!("anchor-{day}"),
        categories: vec![],
        mode: Mode::Full,
        full_refused: false,
    }
}

#[derive(Serialize)]
struct ReminderItem {
    reference: String,
    title: String,
    due: String,
    overdue: String,
    link: String,
}

/// What socialjour did, in the morning hand-over: the step or event, when and by whom (staff names only).
#[derive(Serialize)]
struct NightItem {
    reference: String,
    at: String,
    what: String,
    by: String,
    link: String,
}

fn span(lang: &str, minutes: i64) -> String {
    let (d, h, m) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (d, h) {
        (0, 0) => format!("{m} {}", i18n::t(lang, "minutes_short")),
        (0, _) => format!("{h} {} {m} {}", i18n::t(lang, "hours_short"), i18n::t(lang, "minutes_short")),
        _ => format!("{d} {} {h} {}", i18n::t(lang, "days_short"), i18n::t(lang, "hours_short")),
    }
}

impl Renderer {
    /// A reminder or daily digest: episode references and steps only, never the child.
    fn render_reminder(
        &self,
        conn: &mut AnyConnection,
        n: &ToRender,
        public_url: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> QueryResult<Rendered> {
        let lang = i18n::lang_of(Some(&n.language));
        let payload: serde_json::Value =
            n.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
        let ids: Vec<i64> =
            payload["steps"].as_array().map(|a| a.iter().filter_map(|v| v.as_i64()).collect()).unwrap_or_default();
        let rows = messages::reminder_steps(conn, &ids)?;
        let items: Vec<ReminderItem> = rows
            .into_iter()
            .map(|(id, reference, sv, en, due)| ReminderItem {
                reference,
                title: if lang == "en" { en } else { sv },
                due: local(due),
                overdue: span(lang, (now - utc(due)).num_minutes().max(0)),
                link: format!("{public_url}/cases/{id}"),
            })
            .collect();
        let night_ids: Vec<i64> =
            payload["night"].as_array().map(|a| a.iter().filter_map(|v| v.as_i64()).collect()).unwrap_or_default();
        let night: Vec<NightItem> = messages::handover_events(conn, &night_ids)?
            .into_iter()
            .map(|ev| {
                let step = ev.step_title.map(|(sv, en)| if lang == "en" { en } else { sv });
                NightItem {
                    link: format!("{public_url}/cases/{}", ev.episode_id),
                    reference: ev.reference,
                    at: local(ev.at),
                    what: match step {
                        Some(title) => format!("{}: {title}", i18n::t(lang, &format!("event_{}", ev.kind))),
                        None => i18n::t(lang, &format!("event_{}", ev.kind)).to_string(),
                    },
                    by: ev.by.unwrap_or_default(),
                }
            })
            .collect();
        let mut ctx = Context::new();
        ctx.insert("t", &i18n::table(lang));
        ctx.insert("lang", lang);
        ctx.insert("digest", &payload["digest"].as_bool().unwrap_or(false));
        ctx.insert("items", &items);
        ctx.insert("night", &night);
        let r = |name: &str| {
            self.tera.render(&format!("email/reminder/{name}"), &ctx).map_err(|e| {
                diesel::result::Error::QueryBuilderError(format!("rendering reminder/{name}: {e:?}").into())
            })
        };
        let reference =
            items.first().map(|i| i.reference.clone()).or_else(|| night.first().map(|i| i.reference.clone()));
        let reference = reference.unwrap_or_default();
        Ok(Rendered {
            subject: r("subject.txt")?.trim().to_string(),
            text: r("body.txt")?,
            html: r("body.html")?,
            photo: None,
            reference,
            categories: vec!["reference", "steps"],
            mode: Mode::Full,
            full_refused: false,
        })
    }
}
