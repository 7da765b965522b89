//! The web side: page rendering (Tera, templates embedded in the binary), security headers for every
//! response, static files, and the recipients' acknowledgement pages.

pub mod ack;
pub mod charts;
pub mod form;
pub mod pages;
pub mod session;

use crate::i18n;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use std::io::Cursor;
use tera::{Context, Tera};

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");

pub struct Pages {
    tera: Tera,
}

impl Pages {
    pub fn new() -> Result<Pages, String> {
        Ok(Pages { tera: crate::templates::engine(crate::templates::PAGES, "page")? })
    }

    /// A context with the language's text table already in it.
    pub fn context(lang: &str) -> Context {
        let mut ctx = Context::new();
        ctx.insert("t", &i18n::table(lang));
        ctx.insert("lang", lang);
        // Every variable the layout reads, so a page without a session renders too.
        ctx.insert("csrf", "");
        ctx.insert("flash", &None::<String>);
        ctx.insert("flash_error", &false);
        ctx.insert("errors", &crate::error::FieldErrors::new());
        ctx.insert("ferr", &crate::error::FieldErrors::new());
        ctx
    }

    pub fn render(&self, status: Status, name: &str, ctx: &Context) -> Page {
        match self.tera.render(name, ctx) {
            Ok(html) => Page { status, html },
            Err(e) => {
                log::error!("rendering {name}: {e:?}");
                Page {
                    status: Status::InternalServerError,
                    html: "<!doctype html><title>Saknad</title><p>Internal error</p>".into(),
                }
            }
        }
    }

    /// A page with a heading and one paragraph (confirmations, errors).
    pub fn message(
        &self,
        status: Status,
        lang: &str,
        heading_key: &str,
        text_key: &str,
        reference: Option<&str>,
    ) -> Page {
        let mut ctx = Self::context(lang);
        ctx.insert("heading", i18n::t(lang, heading_key));
        ctx.insert("text", i18n::t(lang, text_key));
        ctx.insert("reference", &reference);
        self.render(status, "pages/message.html", &ctx)
    }
}

pub struct Page {
    pub status: Status,
    pub html: String,
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .status(self.status)
            .header(ContentType::HTML)
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(self.html.len(), Cursor::new(self.html))
            .ok()
    }
}

/// Security headers on every response (issue #6): no inline script, no framing, no referrer, no sniffing;
/// no API answer is kept by a browser or proxy cache (API.md "Headers and files"); HSTS when served over
/// https.
pub struct SecurityHeaders {
    pub hsts: bool,
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "security headers", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if crate::auth::guard::is_api(req) {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
        if self.hsts {
            res.set_header(Header::new("Strict-Transport-Security", "max-age=31536000; includeSubDomains"));
        }
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("Referrer-Policy", "no-referrer"));
    }
}

#[rocket::get("/static/app.css")]
pub fn get_app_css() -> (ContentType, &'static str) {
    (ContentType::CSS, APP_CSS)
}

#[rocket::get("/static/app.js")]
pub fn get_app_js() -> (ContentType, &'static str) {
    (ContentType::JavaScript, APP_JS)
}
