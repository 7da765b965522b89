//! Sending mail: SMTP through lettre (plain, STARTTLS with `?tls=required`, implicit TLS with `smtps://`,
//! credentials in the URL), or `.eml` files in `data/outbox/` when no SMTP server is configured.

use super::render::Rendered;
use lettre::message::header::{ContentType, HeaderName, HeaderValue, MessageId};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// The outcome of one attempt: the server's reply, or why it failed (no personal data in either).
pub type SendResult = Result<String, String>;

impl Mailer {
    pub fn from_settings(smtp_url: Option<&str>, data_dir: &std::path::Path) -> Result<Mailer, String> {
        match smtp_url {
            None => Ok(Mailer::Files(data_dir.join("outbox"))),
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("SAKNAD_SMTP_URL is not usable: {e}"))?;
                Ok(Mailer::Smtp(builder.timeout(Some(Duration::from_secs(15))).build()))
            }
        }
    }

    pub async fn send(&self, msg: Message, file_stem: &str) -> SendResult {
        match self {
            Mailer::Smtp(t) => match t.send(msg).await {
                Ok(resp) => Ok(format!("{} {}", resp.code(), resp.message().collect::<Vec<_>>().join(" "))),
                Err(e) => Err(one_line(&e.to_string())),
            },
            Mailer::Files(dir) => {
                let dir = dir.clone();
                let name = format!("{file_stem}.eml");
                let bytes = msg.formatted();
                let reply = format!("written to {name}");
                rocket::tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    // Write then rename, so a reader never sees half a message.
                    let tmp = dir.join(format!(".{name}.tmp"));
                    crate::files::write_private(&tmp, &bytes)?;
                    std::fs::rename(&tmp, dir.join(&name))
                })
                .await
                .map_err(|e| e.to_string())?
                .map(|_| reply)
                .map_err(|e| one_line(&e.to_string()))
            }
        }
    }
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(500).collect()
}

/// Builds the MIME message: text and HTML alternatives, and the photo as an attachment when given.
pub fn build(from: &str, to: &str, message_id: &str, r: &Rendered) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("SAKNAD_MAIL_FROM is not an address: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("recipient address rejected: {e}"))?;
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(r.text.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(r.html.clone()));
    let body = match &r.photo {
        Some((ct, bytes)) => {
            let ext = if ct == "image/png" { "png" } else { "jpg" };
            let ct = ContentType::parse(ct).map_err(|e| e.to_string())?;
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new(format!("foto.{ext}")).body(bytes.clone(), ct))
        }
        None => alternative,
    };
    Message::builder()
        .from(from)
        .to(to)
        .subject(r.subject.clone())
        .header(MessageId::from(message_id.to_string()))
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Saknad-Reference"), r.reference.clone()))
        .multipart(body)
        .map_err(|e| e.to_string())
}
