//! A real SMTP server on loopback for the tests: it speaks enough of RFC 5321 for lettre, stores what it
//! receives, and can be switched to refuse connections or reject commands to simulate an outage.

use rocket::tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use rocket::tokio::net::TcpListener;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.data.as_bytes()).expect("a parseable message")
    }
    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name).unwrap_or_default()
    }
    fn part(&self, mime: &str) -> String {
        fn walk(p: &mailparse::ParsedMail, mime: &str, out: &mut Vec<String>) {
            if p.subparts.is_empty() {
                if p.ctype.mimetype == mime {
                    out.push(p.get_body().unwrap_or_default());
                }
            } else {
                for s in &p.subparts {
                    walk(s, mime, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.parsed(), mime, &mut out);
        out.join("\n")
    }
    pub fn text(&self) -> String {
        self.part("text/plain")
    }
    pub fn html(&self) -> String {
        self.part("text/html")
    }
    pub fn attachments(&self) -> usize {
        fn count(p: &mailparse::ParsedMail) -> usize {
            let me = usize::from(p.get_content_disposition().disposition == mailparse::DispositionType::Attachment);
            me + p.subparts.iter().map(count).sum::<usize>()
        }
        count(&self.parsed())
    }
    pub fn is_anchor(&self) -> bool {
        self.header("X-Saknad-Reference").starts_with("anchor-")
    }
    pub fn subject(&self) -> String {
        self.header("Subject")
    }
}

pub const ACCEPT: u8 = 0;
/// Answer 451 to MAIL FROM on an open connection.
pub const REJECT: u8 = 1;
/// Close every connection at once, like a server that is down.
pub const DOWN: u8 = 2;

pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
    tls: bool,
}

/// The test certificate authority the TLS sink's certificate (for 127.0.0.1 and localhost) is signed by;
/// the server is told to trust it with `smtp_ca_file`, as a municipality's relay with an internal CA would.
pub fn ca_file() -> String {
    format!("{}/tests/it/fixtures/smtp-ca.pem", env!("CARGO_MANIFEST_DIR"))
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = format!("{}/tests/it/fixtures", env!("CARGO_MANIFEST_DIR"));
    let certs = CertificateDer::pem_file_iter(format!("{dir}/smtp-cert.pem"))
        .expect("test certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("test certificate");
    let key = PrivateKeyDer::from_pem_file(format!("{dir}/smtp-key.pem")).expect("test key");
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a usable test certificate");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

impl SmtpSink {
    /// A sink that speaks SMTP over TLS (`smtps://`), as the server must use for full messages.
    pub async fn start() -> SmtpSink {
        Self::start_with(true).await
    }

    /// A sink without TLS: full messages must then be refused.
    pub async fn start_plain() -> SmtpSink {
        Self::start_with(false).await
    }

    async fn start_with(tls: bool) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(AtomicU8::new(ACCEPT));
        let (m, md) = (Arc::clone(&messages), Arc::clone(&mode));
        let acceptor = tls.then(acceptor);
        rocket::tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (m, md, acceptor) = (Arc::clone(&m), Arc::clone(&md), acceptor.clone());
                rocket::tokio::spawn(async move {
                    if md.load(Ordering::SeqCst) == DOWN {
                        return;
                    }
                    let _ = match acceptor {
                        Some(a) => match a.accept(sock).await {
                            Ok(s) => session(s, m, md).await,
                            Err(_) => Ok(()),
                        },
                        None => session(sock, m, md).await,
                    };
                });
            }
        });
        SmtpSink { port, messages, mode, tls }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "smtps" } else { "smtp" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    /// The messages about episodes, in the order received. The daily anchor of the access log, which goes
    /// to the county mailbox on the worker's first pass of a day, is left out (see `anchors`).
    pub fn messages(&self) -> Vec<Received> {
        self.all().into_iter().filter(|m| !m.is_anchor()).collect()
    }

    pub fn anchors(&self) -> Vec<Received> {
        self.all().into_iter().filter(Received::is_anchor).collect()
    }

    fn all(&self) -> Vec<Received> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages().into_iter().filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address))).collect()
    }
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    sock: S,
    store: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
) -> std::io::Result<()> {
    let (r, mut w) = rocket::tokio::io::split(sock);
    let mut lines = BufReader::new(r);
    w.write_all(b"220 sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if mode.load(Ordering::SeqCst) == DOWN {
            return Ok(());
        }
        if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
            w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if cmd.starts_with("MAIL FROM") {
            if mode.load(Ordering::SeqCst) == REJECT {
                w.write_all(b"451 4.3.0 try again later\r\n").await?;
            } else {
                to.clear();
                w.write_all(b"250 OK\r\n").await?;
            }
        } else if cmd.starts_with("RCPT TO") {
            let addr = line.trim_end()[8..]
                .trim()
                .trim_start_matches(':')
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_string();
            to.push(addr);
            w.write_all(b"250 OK\r\n").await?;
        } else if cmd == "DATA" {
            w.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Undo dot-stuffing.
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            let n = {
                let mut s = store.lock().map_err(|_| std::io::Error::other("poisoned"))?;
                s.push(Received { to: to.clone(), data });
                s.len()
            };
            w.write_all(format!("250 2.0.0 queued as {n}\r\n").as_bytes()).await?;
        } else if cmd == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            w.write_all(b"250 OK\r\n").await?;
        }
    }
}
