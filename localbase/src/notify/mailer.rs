//! Where digests go: an SMTP server (`SMTP_URL`, e.g. `smtps://user:pass@smtp.example.com`
//! or `smtp://127.0.0.1:2525`), or a folder of `.eml` files (localbase's demo mailbox).

use std::path::PathBuf;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::compose::Email;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// Why a digest did not go out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Certainly not delivered (bad address, server unreachable, refused): retry later.
    #[error("not sent: {0}")]
    NotSent(String),
    /// The connection broke while the server may have accepted it: never retried.
    #[error("unknown whether sent: {0}")]
    Unknown(String),
}

impl Mailer {
    pub fn smtp(url: &str) -> Result<Mailer, String> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|builder| Mailer::Smtp(builder.build()))
            .map_err(|error| format!("SMTP_URL: {error}"))
    }

    pub fn folder(dir: PathBuf) -> Mailer {
        Mailer::Folder(dir)
    }

    pub async fn send(&self, from: &Mailbox, to: &str, email: &Email) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|error| SendError::NotSent(format!("address {to:?}: {error}")))?;
        let message = build(from, to, email)?;
        match self {
            Mailer::Smtp(transport) => {
                // Reaching the server first tells "not sent" from "maybe sent" apart.
                match transport.test_connection().await {
                    Ok(true) => {}
                    Ok(false) => return Err(SendError::NotSent("SMTP server not ready".into())),
                    Err(error) => return Err(SendError::NotSent(error.to_string())),
                }
                transport.send(message).await.map(drop).map_err(|error| {
                    if error.is_permanent() || error.is_transient() {
                        SendError::NotSent(error.to_string()) // the server said no
                    } else {
                        SendError::Unknown(error.to_string())
                    }
                })
            }
            Mailer::Folder(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|error| SendError::NotSent(error.to_string()))?;
                AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|error| SendError::NotSent(error.to_string()))
            }
        }
    }
}

fn build(from: &Mailbox, to: Mailbox, email: &Email) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone());
    // RFC 8058 one-click unsubscribe: mail clients show an "Unsubscribe" button. Only a
    // list has one: Auth's mail (recovery, confirmation) is not a list, its URL is empty.
    if !email.unsubscribe_url.is_empty() {
        for (name, value) in [
            ("List-Unsubscribe", format!("<{}>", email.unsubscribe_url)),
            (
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_string(),
            ),
        ] {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(name),
                value,
            ));
        }
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(email.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(email.html.clone()),
                ),
        )
        .map_err(|error| SendError::NotSent(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(unsubscribe_url: &str) -> String {
        let email = Email {
            subject: "s".into(),
            text: "t".into(),
            html: "<p>h</p>".into(),
            unsubscribe_url: unsubscribe_url.into(),
        };
        let from: Mailbox = "Coach Chat <no-reply@example.com>".parse().unwrap();
        let to: Mailbox = "a@example.com".parse().unwrap();
        let message = build(&from, to, &email).unwrap();
        String::from_utf8_lossy(&message.formatted()).into_owned()
    }

    #[test]
    fn only_mail_with_an_unsubscribe_url_is_a_list() {
        let digest = headers("https://api.example/notify/v1/unsubscribe?token=t");
        assert!(digest
            .contains("List-Unsubscribe: <https://api.example/notify/v1/unsubscribe?token=t>"));
        assert!(digest.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(!headers("").contains("List-Unsubscribe"));
    }
}
