//! The acknowledgement page of a notification (`/ack/{token}`); the JSON endpoint is `routes::api::ack`.
//! The path token is the only credential; `GET` never consumes it.

use super::{Page, Pages};
use crate::app::ack::{record, Acknowledge};
use crate::app::command::Submitted;
use crate::domain::delivery::Mode;
use crate::error::AppError;
use crate::i18n;
use crate::state::AppState;
use crate::store::delivery::{self as worker, AckOutcome};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::State;

/// The page's language: the one asked for (`?lang=`), else the recipient's.
fn page_lang(asked: Option<&str>, recipient: Option<&str>) -> &'static str {
    match asked {
        Some("sv") => "sv",
        Some("en") => "en",
        _ => i18n::lang_of(recipient),
    }
}

fn form_page(
    st: &AppState,
    lang: &str,
    token: &str,
    reference: &str,
    is_police: bool,
    name: &str,
    errors: &[(&str, &str)],
) -> Page {
    let mut ctx = Pages::context(lang);
    ctx.insert("other_lang", if lang == "en" { "sv" } else { "en" });
    ctx.insert("token", token);
    ctx.insert("reference", reference);
    ctx.insert("is_police", &is_police);
    ctx.insert("name", name);
    ctx.insert("police_reference", "");
    ctx.insert("content", "");
    ctx.insert("ack_open", &true);
    ctx.insert("acknowledged", &false);
    let errs: crate::error::FieldErrors = errors.iter().map(|(f, m)| (f.to_string(), m.to_string())).collect();
    super::pages::set_errors(&mut ctx, &errs, lang);
    let status = if errors.is_empty() { Status::Ok } else { Status::UnprocessableEntity };
    st.pages.render(status, "pages/ack.html", &ctx)
}

/// The acknowledgement page (no login), in the recipient's language with a switch to the other.
#[rocket::get("/ack/<token>?<lang>")]
pub async fn get_ack(
    st: &State<AppState>,
    ip: crate::auth::guard::ClientIp,
    token: &str,
    lang: Option<&str>,
) -> Result<Page, AppError> {
    let now = st.clock.now();
    let t = token.to_string();
    let info = st.db.run(move |c| worker::ack_info(c, &t, now).map_err(AppError::from)).await?;
    let l = page_lang(lang, info.as_ref().map(|i| i.language.as_str()));
    let Some(i) = info else {
        return Ok(st.pages.message(Status::NotFound, l, "ack_gone_title", "ack_gone_text", None));
    };
    let actor =
        crate::store::audit::Actor { user_id: None, role: Some(format!("recipient:{}", i.recipient_kind)), ip: ip.0 };
    let entry = |action: &'static str| {
        crate::store::audit::Event::new(action).on("case", i.episode_id).county(Some(i.county_code.clone()))
    };
    let notice = i.mode == Some(Mode::Notice) && !i.expired;
    if !notice {
        // The page names the episode to whoever holds the link: each view is in the access log.
        st.audit.log(actor, entry("ack_page_viewed"), now).await?;
        if i.acknowledged || i.expired || !i.ack_required {
            return Ok(st.pages.message(Status::Gone, l, "ack_gone_title", "ack_gone_text", Some(&i.reference)));
        }
        return Ok(form_page(st, l, token, &i.reference, i.recipient_kind == "police", "", &[]));
    }
    // A notice: the content is read here, and each view is logged with what it disclosed (SPEC §7).
    let (id, ob, lang_owned) = (i.notification_id, std::sync::Arc::clone(&st.outbox), l.to_string());
    let (html, categories) = st
        .db
        .run(move |c| {
            ob.renderer.notice_content(c, id, &lang_owned, &ob.secret, &ob.public_url).map_err(|e| {
                log::error!("the content of notification {id} could not be rendered: {e}");
                AppError::internal()
            })
        })
        .await?;
    let detail = format!("{}: {}", i.recipient_kind, categories.join(","));
    st.audit.log(actor, entry("notice_viewed").detail(detail), now).await?;
    let mut ctx = Pages::context(l);
    ctx.insert("other_lang", if l == "en" { "sv" } else { "en" });
    ctx.insert("token", token);
    ctx.insert("reference", &i.reference);
    ctx.insert("is_police", &(i.recipient_kind == "police"));
    ctx.insert("name", "");
    ctx.insert("police_reference", "");
    ctx.insert("content", &html);
    ctx.insert("ack_open", &(i.ack_required && !i.acknowledged));
    ctx.insert("acknowledged", &i.acknowledged);
    super::pages::set_errors(&mut ctx, &Default::default(), l);
    Ok(st.pages.render(Status::Ok, "pages/ack.html", &ctx))
}

#[derive(FromForm)]
pub struct AckForm {
    name: Option<String>,
    reference: Option<String>,
}

fn clean(s: Option<String>, max: usize) -> Option<String> {
    s.map(|v| v.trim().chars().filter(|c| !c.is_control()).take(max).collect::<String>()).filter(|v| !v.is_empty())
}

/// The form on the acknowledgement page.
#[rocket::post("/ack/<token>?<lang>", data = "<form>")]
pub async fn post_ack(
    st: &State<AppState>,
    ip: crate::auth::guard::ClientIp,
    token: &str,
    lang: Option<&str>,
    form: Form<AckForm>,
) -> Result<Page, AppError> {
    let l = page_lang(lang, None);
    let form = form.into_inner();
    let name = clean(form.name, 200);
    let reference = clean(form.reference, 64);
    let Some(name) = name else {
        let now = st.clock.now();
        let t = token.to_string();
        let info = st.db.run(move |c| worker::ack_info(c, &t, now).map_err(AppError::from)).await?;
        return Ok(match info {
            Some(i) if !i.acknowledged && !i.expired => form_page(
                st,
                page_lang(lang, Some(&i.language)),
                token,
                &i.reference,
                i.recipient_kind == "police",
                "",
                &[("name", i18n::t(page_lang(lang, Some(&i.language)), "required_name"))],
            ),
            Some(i) => st.pages.message(Status::Gone, l, "ack_gone_title", "ack_gone_text", Some(&i.reference)),
            None => st.pages.message(Status::NotFound, l, "ack_gone_title", "ack_gone_text", None),
        });
    };
    let input = Submitted::new(Acknowledge { name: Some(name), reference });
    Ok(match record(st, token, input, ip.0).await? {
        AckOutcome::Recorded { reference } => {
            st.pages.message(Status::Ok, l, "ack_done_title", "ack_done_text", Some(&reference))
        }
        AckOutcome::Gone => st.pages.message(Status::Gone, l, "ack_gone_title", "ack_gone_text", None),
        AckOutcome::Unknown => st.pages.message(Status::NotFound, l, "ack_gone_title", "ack_gone_text", None),
    })
}
