//! Sending mail: SMTP through lettre (plain, STARTTLS with `?tls=required`, implicit TLS with `smtps://`,
//! credentials in the URL), or `.eml` files in `data/outbox/` when no SMTP server is configured.
//!
//! Whether the connection is encrypted decides what may be sent (`domain::delivery`): only `smtps://` and
//! `?tls=required` count. `?tls=opportunistic` does not, since whoever sits between can strip STARTTLS. Mail
//! files never leave this machine (owner-only files in the data directory), so they count as encrypted.

use super::render::Rendered;
use lettre::message::header::{ContentType, HeaderName, HeaderValue, MessageId};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, tls_required: bool },
    Files(PathBuf),
}

/// The outcome of one attempt: the server's reply, or why it failed (no personal data in either).
pub type SendResult = Result<String, String>;

impl Mailer {
    pub fn from_settings(
        smtp_url: Option<&str>,
        ca_file: Option<&std::path::Path>,
        data_dir: &std::path::Path,
    ) -> Result<Mailer, String> {
        let Some(url) = smtp_url else { return Ok(Mailer::Files(data_dir.join("outbox"))) };
        let unusable = |e: &dyn std::fmt::Display| format!("SAKNAD_SMTP_URL is not usable: {e}");
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| unusable(&e))?;
        let parsed = url::Url::parse(url).map_err(|e| unusable(&e))?;
        let tls = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let wrapper = parsed.scheme() == "smtps";
        let tls_required = wrapper || tls.as_deref() == Some("required");
        if let Some(path) = ca_file {
            if !tls_required {
                return Err(
                    "SAKNAD_SMTP_CA_FILE needs an SMTP URL that requires TLS (smtps:// or ?tls=required)".into()
                );
            }
            let pem = std::fs::read(path).map_err(|e| format!("SAKNAD_SMTP_CA_FILE {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| format!("SAKNAD_SMTP_CA_FILE: {e}"))?;
            let host = parsed.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string();
            let params = TlsParameters::builder(host)
                .add_root_certificate(cert)
                .build_rustls()
                .map_err(|e| format!("SAKNAD_SMTP_CA_FILE: {e}"))?;
            builder = builder.tls(if wrapper { Tls::Wrapper(params) } else { Tls::Required(params) });
        }
        let transport = builder.timeout(Some(Duration::from_secs(15))).build();
        Ok(Mailer::Smtp { transport, tls_required })
    }

    /// Whether a message with the report itself may be sent (SPEC §7).
    pub fn tls_required(&self) -> bool {
        match self {
            Mailer::Smtp { tls_required, .. } => *tls_required,
            Mailer::Files(_) => true,
        }
    }

    pub async fn send(&self, msg: Message, file_stem: &str) -> SendResult {
        match self {
            Mailer::Smtp { transport: t, .. } => match t.send(msg).await {
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
