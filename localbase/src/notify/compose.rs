//! What a digest e-mail says, in the recipient's language: plain text and HTML (every
//! piece of user text escaped), a link to the conversation, and the unsubscribe link.
//! Pure code.

/// Most messages quoted in one digest; the rest are counted.
pub const MAX_QUOTED: usize = 20;
/// Longest quote of one message, in characters.
const MAX_QUOTE_CHARS: usize = 500;

/// One digest: unread messages of one conversation, for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub id: i64,
    pub to_email: String,
    pub to_name: String,
    /// `bg` or `en`.
    pub language: String,
    pub conversation_id: String,
    pub sender_name: String,
    /// The oldest first, at most [`MAX_QUOTED`].
    pub bodies: Vec<String>,
    /// All unread messages the digest covers.
    pub total: i64,
    pub unsubscribe_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub unsubscribe_url: String,
}

/// `app_url` is where the app lives (`https://coach.example/`); `unsubscribe_base` is
/// the notifier's unsubscribe endpoint.
pub fn compose(digest: &Digest, app_url: &str, unsubscribe_base: &str) -> Email {
    let english = digest.language == "en";
    let open_url = format!(
        "{}/?conversation={}",
        app_url.trim_end_matches('/'),
        digest.conversation_id
    );
    let unsubscribe_url = format!("{unsubscribe_base}?token={}", digest.unsubscribe_token);
    let sender = one_line(&digest.sender_name, 100);
    let subject = match (english, digest.total) {
        (false, 1) => format!("{sender}: ново съобщение в Coach Chat"),
        (false, n) => format!("{sender}: {n} непрочетени съобщения в Coach Chat"),
        (true, 1) => format!("{sender}: a new message in Coach Chat"),
        (true, n) => format!("{sender}: {n} unread messages in Coach Chat"),
    };
    let greeting = match (english, digest.to_name.trim()) {
        (false, "") => "Здравейте,".to_string(),
        (false, name) => format!("Здравейте, {},", one_line(name, 100)),
        (true, "") => "Hello,".to_string(),
        (true, name) => format!("Hello {},", one_line(name, 100)),
    };
    let intro = if english {
        format!("{sender} wrote to you and you have not read it yet:")
    } else {
        format!("{sender} ви писа и още не сте прочели:")
    };
    let more = (digest.total > digest.bodies.len() as i64).then(|| {
        let n = digest.total - digest.bodies.len() as i64;
        if english {
            format!("…and {n} more.")
        } else {
            format!("…и още {n}.")
        }
    });
    let (open, why, unsubscribe) = if english {
        (
            "Open the conversation",
            "You get this e-mail because you have e-mail notifications on in Coach Chat.",
            "Unsubscribe from these e-mails",
        )
    } else {
        (
            "Отворете разговора",
            "Получавате това писмо, защото известията по имейл в Coach Chat са включени.",
            "Отписване от тези писма",
        )
    };
    let quotes: Vec<String> = digest.bodies.iter().map(|b| quote(b)).collect();

    let mut text = format!("{greeting}\n\n{intro}\n\n");
    for body in &quotes {
        for line in body.lines() {
            text.push_str(&format!("> {line}\n"));
        }
        text.push('\n');
    }
    if let Some(more) = &more {
        text.push_str(&format!("{more}\n\n"));
    }
    text.push_str(&format!(
        "{open}: {open_url}\n\n--\n{why}\n{unsubscribe}: {unsubscribe_url}\n"
    ));

    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>{}</p><p>{}</p>",
        if english { "en" } else { "bg" },
        escape(&greeting),
        escape(&intro)
    );
    for body in &quotes {
        html.push_str(&format!(
            "<blockquote style=\"margin:0 0 .8em;padding:.4em .8em;border-left:3px solid #0f766e;white-space:pre-wrap\">{}</blockquote>",
            escape(body)
        ));
    }
    if let Some(more) = &more {
        html.push_str(&format!("<p>{}</p>", escape(more)));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p><hr><p style=\"color:#6b7280;font-size:.85em\">{}<br>\
         <a href=\"{}\">{}</a></p></body></html>",
        escape(&open_url),
        escape(open),
        escape(why),
        escape(&unsubscribe_url),
        escape(unsubscribe)
    ));
    Email {
        subject,
        text,
        html,
        unsubscribe_url,
    }
}

/// A name for a header or a sentence: one line, bounded.
fn one_line(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

fn quote(body: &str) -> String {
    if body.chars().count() <= MAX_QUOTE_CHARS {
        return body.to_string();
    }
    let cut: String = body.chars().take(MAX_QUOTE_CHARS).collect();
    format!("{cut}…")
}

/// HTML text and attribute escaping: message text is never markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(language: &str, bodies: &[&str], total: i64) -> Digest {
        Digest {
            id: 1,
            to_email: "client@example.com".into(),
            to_name: "Иван Георгиев".into(),
            language: language.into(),
            conversation_id: "c1".into(),
            sender_name: "Мария Петрова".into(),
            bodies: bodies.iter().map(|b| b.to_string()).collect(),
            total,
            unsubscribe_token: "tok".into(),
        }
    }

    #[test]
    fn bulgarian_digest_names_sender_count_link_and_unsubscribe() {
        let email = compose(
            &digest("bg", &["Здрасти", "Утре в 8"], 2),
            "https://coach.example/",
            "https://api.example/notify/v1/unsubscribe",
        );
        assert_eq!(
            email.subject,
            "Мария Петрова: 2 непрочетени съобщения в Coach Chat"
        );
        assert!(email.text.starts_with("Здравейте, Иван Георгиев,"));
        assert!(email.text.contains("> Здрасти\n"));
        assert!(email
            .text
            .contains("https://coach.example/?conversation=c1"));
        assert_eq!(
            email.unsubscribe_url,
            "https://api.example/notify/v1/unsubscribe?token=tok"
        );
        assert!(email
            .html
            .contains("href=\"https://api.example/notify/v1/unsubscribe?token=tok\""));
    }

    #[test]
    fn english_single_message_and_overflow_counted() {
        let email = compose(&digest("en", &["Hi"], 1), "http://a", "http://b");
        assert_eq!(email.subject, "Мария Петрова: a new message in Coach Chat");
        let many = compose(&digest("en", &["a", "b"], 25), "http://a", "http://b");
        assert!(many.text.contains("…and 23 more."), "{}", many.text);
    }

    #[test]
    fn message_text_is_never_markup() {
        let email = compose(
            &digest("bg", &["<script>alert('x')</script> & <a href=x>"], 1),
            "http://a",
            "http://b",
        );
        assert!(!email.html.contains("<script>"));
        assert!(email
            .html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;a href=x&gt;"));
    }

    #[test]
    fn a_name_cannot_break_the_subject_line() {
        let mut hostile = digest("bg", &["x"], 1);
        hostile.sender_name = "Eve\r\nBcc: victim@example.com".into();
        let email = compose(&hostile, "http://a", "http://b");
        assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    }
}
