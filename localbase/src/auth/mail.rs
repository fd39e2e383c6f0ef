//! Auth's mail: password-recovery and sign-up-confirmation links, in Bulgarian and then
//! English (the address alone does not tell the language), through the notifier's
//! `Mailer` (SMTP or the mail folder). Not a list: no unsubscribe link.

use lettre::message::Mailbox;
use url::Url;

use super::*;
use crate::notify::compose::{escape, Email};
use crate::notify::mailer::{Mailer, SendError};

/// How Auth mails, set once by `serve` (see `AppState::auth_mail`).
pub struct AuthMail {
    pub mailer: Mailer,
    /// The sender (`NOTIFY_FROM`).
    pub from: Mailbox,
    /// The app's URL: links lead there, or to another page of the same origin.
    pub site_url: Url,
    /// Sign-ups wait for their mailed link before they can sign in (`--confirm-email`).
    pub confirm_email: bool,
}

/// One language's sentences of a mail.
struct Wording {
    greeting: &'static str,
    intro: &'static str,
    action: &'static str,
    ignore: &'static str,
}

pub(super) fn recovery_email(link: &str) -> Email {
    bilingual(
        "Coach Chat: нова парола / new password",
        Wording {
            greeting: "Здравейте,",
            intro: "Поискана е нова парола за профила ви в Coach Chat. Връзката по-долу важи един час и само веднъж.",
            action: "Изберете нова парола",
            ignore: "Ако не сте я поискали вие, не правете нищо: паролата ви остава същата.",
        },
        Wording {
            greeting: "Hello,",
            intro: "A new password was requested for your Coach Chat account. The link below works for one hour, once.",
            action: "Choose a new password",
            ignore: "If you did not ask for it, do nothing: your password stays the same.",
        },
        link,
    )
}

pub(super) fn confirmation_email(link: &str) -> Email {
    bilingual(
        "Coach Chat: потвърдете имейла си / confirm your e-mail",
        Wording {
            greeting: "Здравейте,",
            intro: "Създаден е профил в Coach Chat с този имейл. Потвърдете, че е ваш, за да влезете; връзката важи един час и само веднъж.",
            action: "Потвърдете имейла си",
            ignore: "Ако не сте създавали профил, не правете нищо.",
        },
        Wording {
            greeting: "Hello,",
            intro: "A Coach Chat account was created with this address. Confirm it is yours to sign in; the link works for one hour, once.",
            action: "Confirm your e-mail",
            ignore: "If you did not create an account, do nothing.",
        },
        link,
    )
}

fn bilingual(subject: &str, bg: Wording, en: Wording, link: &str) -> Email {
    let text = [&bg, &en]
        .iter()
        .map(|w| {
            format!(
                "{}\n\n{}\n\n{}: {link}\n\n{}\n",
                w.greeting, w.intro, w.action, w.ignore
            )
        })
        .collect::<Vec<_>>()
        .join("\n--\n\n");
    let section = |w: &Wording, lang: &str| {
        format!(
            "<div lang=\"{lang}\"><p>{}</p><p>{}</p><p><a href=\"{}\">{}</a></p><p style=\"color:#6b7280\">{}</p></div>",
            escape(w.greeting),
            escape(w.intro),
            escape(link),
            escape(w.action),
            escape(w.ignore)
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"bg\"><body style=\"font-family:sans-serif;line-height:1.5\">{}<hr>{}</body></html>",
        section(&bg, "bg"),
        section(&en, "en")
    );
    Email {
        subject: subject.to_string(),
        text,
        html,
        unsubscribe_url: String::new(),
    }
}

/// Sends through the configured mailer; without one (tests building `AppState`
/// themselves) nothing is sent.
pub(super) async fn send(state: &AppState, to: &str, email: &Email) -> Result<(), SendError> {
    match state.auth_mail.get() {
        Some(mail) => mail.mailer.send(&mail.from, to, email).await,
        None => Ok(()),
    }
}

/// Sends in the background: the answer must not wait for (or time) the delivery.
pub(super) fn send_later(state: Arc<AppState>, to: String, email: Email) {
    tokio::spawn(async move {
        if let Err(error) = send(&state, &to, &email).await {
            tracing::warn!(%error, subject = %email.subject, "auth mail not sent");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulgarian_comes_first_then_english_and_the_link_is_escaped_in_html() {
        let link = "http://127.0.0.1:54321/auth/v1/verify?token=ab&type=recovery&redirect_to=x";
        let email = recovery_email(link);
        assert_eq!(email.subject, "Coach Chat: нова парола / new password");
        let bg = email.text.find("Изберете нова парола").unwrap();
        let en = email.text.find("Choose a new password").unwrap();
        assert!(bg < en);
        assert!(email
            .text
            .contains(&format!("Choose a new password: {link}\n")));
        assert!(email
            .html
            .contains("href=\"http://127.0.0.1:54321/auth/v1/verify?token=ab&amp;type=recovery&amp;redirect_to=x\""));
        assert!(email.unsubscribe_url.is_empty(), "not a list");
        let confirm = confirmation_email("http://x/\"><script>");
        assert_eq!(
            confirm.subject,
            "Coach Chat: потвърдете имейла си / confirm your e-mail"
        );
        assert!(!confirm.html.contains("<script>"));
    }
}
