//! The e-mail notifier on a real PostgreSQL, delivering over real SMTP to a capturing
//! server in this test: one digest per conversation, never two; nothing for read messages,
//! opted-out or present recipients; two notifiers at once send once; a refused delivery is
//! retried, an interrupted one never; the unsubscribe link works.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::*;
use localbase::notify::mailer::Mailer;
use localbase::notify::{round, NotifierSettings, Round};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const TRAINER_ID: &str = "a1000000-0000-4000-8000-000000000001";

/// A minimal SMTP server: accepts every message and keeps its raw text; `refusing` makes
/// it answer DATA with a 451 (temporary failure: nothing accepted).
#[derive(Clone, Default)]
struct Smtp {
    received: Arc<Mutex<Vec<String>>>,
    refusing: Arc<Mutex<bool>>,
}

impl Smtp {
    async fn start(&self) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.session(socket).await });
            }
        });
        port
    }

    async fn session(&self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 capture ESMTP\r\n").await;
        while let Ok(Some(line)) = lines.next_line().await {
            let command = line.to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-capture\r\n250 8BITMIME\r\n"
            } else if command.starts_with("DATA") {
                if *self.refusing.lock().unwrap() {
                    b"451 try again later\r\n"
                } else {
                    let _ = write.write_all(b"354 go ahead\r\n").await;
                    let mut message = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        message.push_str(&line);
                        message.push('\n');
                    }
                    self.received.lock().unwrap().push(message);
                    b"250 queued\r\n"
                }
            } else if command.starts_with("QUIT") {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 ok\r\n" // HELO, MAIL, RCPT, RSET, NOOP
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

fn settings(server: &TestServer) -> NotifierSettings {
    NotifierSettings {
        delay: Duration::from_secs(600),
        interval: Duration::from_secs(1),
        app_url: "https://coach.example".into(),
        public_url: server.base.clone(),
        from: "Coach Chat <no-reply@coach.example>".parse().unwrap(),
        abandon_after: Duration::from_secs(600),
    }
}

/// A message from the trainer to the client, `minutes_ago` old.
async fn message_to_client(server: &TestServer, body: &str, minutes_ago: i64) {
    server
        .admin()
        .await
        .execute(
            "insert into public.messages (conversation_id, sender_id, body, created_at)
             values ($1::text::uuid, $2::text::uuid, $3, now() - make_interval(mins => $4::int))",
            &[&CONVERSATION, &TRAINER_ID, &body, &(minutes_ago as i32)],
        )
        .await
        .unwrap();
}

/// The seeded unread messages are not part of these scenarios.
async fn fresh(server: &TestServer) {
    server
        .admin()
        .await
        .batch_execute("update public.messages set read_at = now() where read_at is null")
        .await
        .unwrap();
}

/// The decoded text of a captured message (quoted-printable or base64 parts undone).
fn decoded(raw: &str) -> String {
    let mut text = String::new();
    let mut base64 = false;
    let mut block = String::new();
    for line in raw.lines() {
        if line.eq_ignore_ascii_case("Content-Transfer-Encoding: base64") {
            base64 = true;
            continue;
        }
        if base64 && !line.is_empty() && !line.starts_with("--") && !line.contains(':') {
            block.push_str(line.trim());
            continue;
        }
        if base64 && line.starts_with("--") {
            text.push_str(&String::from_utf8_lossy(
                &STANDARD.decode(block.as_bytes()).unwrap_or_default(),
            ));
            block.clear();
            base64 = false;
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// A fresh database with the seeded unread messages read, a capturing SMTP server and a
/// notifier's settings and mailer pointed at it.
struct Scenario {
    server: TestServer,
    smtp: Smtp,
    port: u16,
    mailer: Mailer,
    settings: NotifierSettings,
}

impl Scenario {
    async fn start() -> Scenario {
        let server = TestServer::start().await;
        fresh(&server).await;
        let smtp = Smtp::default();
        let port = smtp.start().await;
        let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let settings = settings(&server);
        Scenario {
            server,
            smtp,
            port,
            mailer,
            settings,
        }
    }

    /// One notifier round on the server's pool.
    async fn round(&self) -> Round {
        round(&self.server.state.pool, &self.settings, &self.mailer)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn one_digest_per_conversation_only_for_unread_messages_of_absent_people() {
    let scenario = Scenario::start().await;
    let (server, smtp) = (&scenario.server, &scenario.smtp);

    // Too recent: nothing yet.
    message_to_client(server, "Скоро", 2).await;
    assert_eq!(scenario.round().await, Round::default());

    // Two old unread messages: one digest naming both; a second round sends nothing.
    message_to_client(server, "Как мина тренировката?", 30).await;
    message_to_client(server, "Пиши ми <b>утре</b> & не забравяй", 20).await;
    let done = scenario.round().await;
    assert_eq!(done.sent, 1, "{done:?}");
    assert_eq!(scenario.round().await.sent, 0, "never twice");
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1);
    let text = decoded(&mail[0]);
    assert!(text.contains("To: client@example.com"), "{text}");
    assert!(text.contains("List-Unsubscribe: <"), "{text}");
    assert!(text.contains("Как мина тренировката?"), "{text}");
    assert!(
        text.contains("&lt;b&gt;утре&lt;/b&gt; &amp;"),
        "HTML escaped: {text}"
    );
    assert!(
        text.contains("https://coach.example/?conversation=c1000000-0000-4000-8000-000000000001")
    );
    assert!(!text.contains("Скоро"), "the recent one is not due yet");

    // A later unread message: a new digest with it alone.
    message_to_client(server, "Още едно", 15).await;
    assert_eq!(scenario.round().await.sent, 1);
    let second = decoded(&smtp.messages()[1]);
    assert!(
        second.contains("Още едно") && !second.contains("Как мина"),
        "{second}"
    );

    // Read in time: nothing.
    message_to_client(server, "Прочетено навреме", 15).await;
    fresh(server).await;
    assert_eq!(scenario.round().await.sent, 0);

    // The recipient was online within the delay: nothing while they are around.
    let admin = server.admin().await;
    admin
        .execute(
            "update public.profiles set last_seen_at = now() where id = $1::text::uuid",
            &[&CLIENT_ID],
        )
        .await
        .unwrap();
    message_to_client(server, "Докато е на линия", 15).await;
    assert_eq!(scenario.round().await.sent, 0);

    // Opted out: nothing.
    admin
        .execute(
            "update public.profiles set last_seen_at = null, email_notifications = false where id = $1::text::uuid",
            &[&CLIENT_ID],
        )
        .await
        .unwrap();
    assert_eq!(scenario.round().await.sent, 0);
    assert_eq!(smtp.messages().len(), 2);

    // In English for someone who chose English.
    admin
        .execute(
            "update public.profiles set email_notifications = true, language = 'en' where id = $1::text::uuid",
            &[&CLIENT_ID],
        )
        .await
        .unwrap();
    assert_eq!(scenario.round().await.sent, 1);
    let english = decoded(&smtp.messages()[2]);
    assert!(
        english.contains("wrote to you and you have not read it yet"),
        "{english}"
    );
}

#[tokio::test]
async fn two_notifiers_at_once_send_each_digest_once() {
    let scenario = Scenario::start().await;
    let (server, smtp, settings, port) = (
        &scenario.server,
        &scenario.smtp,
        &scenario.settings,
        scenario.port,
    );
    for n in 0..5 {
        message_to_client(server, &format!("Съобщение {n}"), 30 + n).await;
    }
    // Elena's conversation too, so there is more than one digest to fight over.
    server
        .admin()
        .await
        .execute(
            "insert into public.messages (conversation_id, sender_id, body, created_at)
             values ($1::text::uuid, $2::text::uuid, 'За Елена', now() - interval '1 hour')",
            &[&CLIENT2_CONVERSATION, &TRAINER_ID],
        )
        .await
        .unwrap();
    let other_pool = localbase::db::pool(&server.database_url, 4).unwrap();
    for _ in 0..5 {
        let first = Mailer::smtp(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let second = Mailer::smtp(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let (a, b) = tokio::join!(
            round(&server.state.pool, settings, &first),
            round(&other_pool, settings, &second)
        );
        a.unwrap();
        b.unwrap();
    }
    let mail = smtp.messages();
    assert_eq!(mail.len(), 2, "one digest per recipient and conversation");
    let to: Vec<bool> = ["client@example.com", "client2@example.com"]
        .iter()
        .map(|who| {
            mail.iter()
                .filter(|m| m.contains(&format!("To: {who}")))
                .count()
                == 1
        })
        .collect();
    assert_eq!(to, vec![true, true]);
}

#[tokio::test]
async fn a_refused_delivery_is_retried_an_interrupted_one_never_and_unsubscribe_works() {
    let scenario = Scenario::start().await;
    let (server, smtp, settings) = (&scenario.server, &scenario.smtp, &scenario.settings);

    // The server says "try later": released, and sent once it accepts.
    message_to_client(server, "Отказано веднъж", 30).await;
    *smtp.refusing.lock().unwrap() = true;
    let done = scenario.round().await;
    assert_eq!((done.sent, done.retry), (0, 1));
    // Unreachable (nothing listens): released too.
    let nowhere = Mailer::smtp("smtp://127.0.0.1:9").unwrap();
    assert_eq!(
        round(&server.state.pool, settings, &nowhere)
            .await
            .unwrap()
            .retry,
        1
    );
    *smtp.refusing.lock().unwrap() = false;
    assert_eq!(scenario.round().await.sent, 1);
    assert_eq!(smtp.messages().len(), 1);

    // A notifier that claimed and died before recording the outcome: at most once — the
    // claim is abandoned, its messages are not mailed again.
    message_to_client(server, "Изгубено при срив", 30).await;
    let claimed = localbase::notify::claim::claim(&server.state.pool, settings.delay)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let impatient = NotifierSettings {
        abandon_after: Duration::ZERO,
        ..settings.clone()
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        round(&server.state.pool, &impatient, &scenario.mailer)
            .await
            .unwrap()
            .sent,
        0
    );
    let status: String = server
        .admin()
        .await
        .query_one(
            "select status from public.email_digests where id = $1",
            &[&claimed[0].id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "abandoned");
    assert_eq!(smtp.messages().len(), 1);

    // The unsubscribe link of the e-mail: a bad token is refused, the right one works.
    let text = decoded(&smtp.messages()[0]);
    let link = text
        .split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|word| word.contains("/notify/v1/unsubscribe?token="))
        .expect("unsubscribe link")
        .to_string();
    let bad = server
        .http
        .get(format!("{}/notify/v1/unsubscribe?token=nope", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
    let page = server.http.post(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Отписахте се"));
    message_to_client(server, "След отписване", 30).await;
    assert_eq!(scenario.round().await.sent, 0);
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn a_muted_conversation_and_a_deleted_message_are_never_mailed() {
    let scenario = Scenario::start().await;
    let (server, smtp) = (&scenario.server, &scenario.smtp);
    let admin = server.admin().await;

    // Deleted before the digest: its text is not quoted (it has none), nor counted.
    message_to_client(server, "Изтрито по-късно", 30).await;
    admin
        .execute(
            "update public.messages set deleted_at = now(), body = '' where body = 'Изтрито по-късно'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(scenario.round().await.sent, 0, "nothing left to tell");

    // Muted by the client: nothing, however long it waits; unmuted: the digest goes.
    admin
        .execute(
            "insert into public.conversation_settings (user_id, conversation_id, muted)
             values ($1::text::uuid, $2::text::uuid, true)",
            &[&CLIENT_ID, &CONVERSATION],
        )
        .await
        .unwrap();
    message_to_client(server, "Тихо, заглушено", 30).await;
    assert_eq!(scenario.round().await.sent, 0, "muted");
    admin
        .execute("update public.conversation_settings set muted = false", &[])
        .await
        .unwrap();
    assert_eq!(scenario.round().await.sent, 1);
    let text = decoded(&smtp.messages()[0]);
    assert!(text.contains("Тихо, заглушено"), "{text}");
    assert!(!text.contains("Изтрито"), "{text}");
}
