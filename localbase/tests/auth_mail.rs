//! Auth's mail against a real PostgreSQL, delivered to a mail folder: with `--confirm-email`
//! (here set on the state as `serve` sets it) a sign-up gets no session and cannot sign in
//! until its mailed link is opened; the link works once and for an hour, and the database
//! keeps only its token's SHA-256. Without mail settings, recovery answers and sends nothing.

mod common;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::*;
use localbase::auth::AuthMail;
use localbase::notify::mailer::Mailer;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SITE: &str = "http://127.0.0.1:8080";

/// A mail folder of this test's own, removed when dropped.
struct MailDir(PathBuf);

impl MailDir {
    fn new() -> MailDir {
        MailDir(std::env::temp_dir().join(format!("localbase-auth-mail-{}", uuid::Uuid::new_v4())))
    }

    /// The decoded text parts of the messages to `address`.
    fn texts_to(&self, address: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.0) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
            .filter(|raw| raw.contains(&format!("To: {address}\r\n")))
            .map(|raw| text_part(&raw))
            .collect()
    }

    /// Waits for the one message to `address` and returns its verify link.
    async fn link_to(&self, address: &str) -> String {
        for _ in 0..100 {
            if let [text] = self.texts_to(address).as_slice() {
                let start = text.find("http://").expect("a link");
                let link = text[start..].split_whitespace().next().unwrap();
                assert!(link.contains("/auth/v1/verify?"), "{link}");
                return link.to_string();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no single mail to {address} in {}", self.0.display());
    }
}

impl Drop for MailDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The text/plain part of a message, decoded (lettre picks base64 or quoted-printable).
fn text_part(raw: &str) -> String {
    let part = raw
        .split("Content-Type: text/plain")
        .nth(1)
        .expect("a text part");
    let (headers, body) = part.split_once("\r\n\r\n").expect("part headers");
    let body = body.split("\r\n--").next().unwrap();
    if headers.contains("Content-Transfer-Encoding: base64") {
        let bytes = STANDARD.decode(body.replace("\r\n", "")).expect("base64");
        String::from_utf8(bytes).expect("utf-8")
    } else {
        quoted_printable(body)
    }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        match (first, tail.get(..2).map(std::str::from_utf8)) {
            (b'=', Some(Ok(hex))) if u8::from_str_radix(hex, 16).is_ok() => {
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                rest = &tail[2..];
            }
            _ => {
                bytes.push(first);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).expect("utf-8")
}

/// A server whose Auth mails to `dir`, sign-ups waiting for confirmation.
async fn confirming_server(dir: &Path) -> TestServer {
    let server = TestServer::start().await;
    let mail = AuthMail {
        mailer: Mailer::folder(dir.to_path_buf()),
        from: "Coach Chat <no-reply@coach-chat.localhost>"
            .parse()
            .unwrap(),
        site_url: SITE.parse().unwrap(),
        confirm_email: true,
    };
    assert!(server.state.auth_mail.set(mail).is_ok(), "set once");
    server
}

async fn post(server: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    let response = server
        .http
        .post(format!("{}/auth/v1/{path}", server.base))
        .header("apikey", &server.anon_key)
        .header("X-Supabase-Api-Version", "2024-01-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn sign_in(server: &TestServer, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        server,
        "token?grant_type=password",
        json!({"email": email, "password": password}),
    )
    .await
}

/// Opens `link` as a browser from a mail does (no API key), not following the redirect:
/// the `Location` and its fragment's parameters.
async fn open(link: &str) -> (String, Vec<(String, String)>) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{link}");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (_, fragment) = location.split_once('#').expect("a fragment");
    let params = url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    (location, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn with_confirm_email_a_sign_up_waits_for_its_mailed_link_which_works_once() {
    let mail = MailDir::new();
    let server = confirming_server(&mail.0).await;
    let email = "confirm-me@example.com";
    let (status, user) = post(
        &server,
        &format!("signup?redirect_to={SITE}/welcome"),
        json!({"email": email, "password": "secret1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], email, "the user at top level");
    assert!(user.get("access_token").is_none(), "no session: {user}");
    assert!(user["email_confirmed_at"].is_null());
    assert!(user["confirmation_sent_at"].is_string());

    let (status, refused) = sign_in(&server, email, "secret1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused,
        json!({"code": "email_not_confirmed", "message": "Email not confirmed"})
    );
    let (status, wrong) = sign_in(&server, email, "wrong-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong["code"], "invalid_credentials",
        "no hint without the password"
    );

    let link = mail.link_to(email).await;
    let token = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "token")
        .unwrap()
        .1
        .into_owned();
    let stored: String = server
        .admin()
        .await
        .query_one(
            "select confirmation_token from auth.users where email = $1",
            &[&email],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, token, "the token itself is not stored");
    let hashed: String = server
        .admin()
        .await
        .query_one(
            "select encode(extensions.digest($1::text, 'sha256'), 'hex')",
            &[&token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, hashed, "only its SHA-256");

    let (location, fragment) = open(&link).await;
    assert!(
        location.starts_with(&format!("{SITE}/welcome#")),
        "{location}"
    );
    assert_eq!(param(&fragment, "type"), Some("signup"));
    assert_eq!(param(&fragment, "token_type"), Some("bearer"));
    assert!(param(&fragment, "refresh_token").is_some());
    let access = param(&fragment, "access_token").expect("a session");
    let me: Value = server
        .http
        .get(format!("{}/auth/v1/user", server.base))
        .header("apikey", &server.anon_key)
        .bearer_auth(access)
        .send_json()
        .await;
    assert_eq!(me["email"], email);
    assert!(me["email_confirmed_at"].is_string(), "confirmed: {me}");

    let (status, session) = sign_in(&server, email, "secret1").await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert!(session["access_token"].is_string());

    let (location, again) = open(&link).await;
    assert!(location.starts_with(&format!("{SITE}/welcome#")));
    assert_eq!(param(&again, "error"), Some("access_denied"));
    assert_eq!(param(&again, "error_code"), Some("otp_expired"));
    assert_eq!(
        param(&again, "error_description"),
        Some("Email link is invalid or has expired")
    );
    assert_eq!(param(&again, "access_token"), None);
}

#[tokio::test]
async fn a_confirmation_link_older_than_an_hour_is_expired_and_a_foreign_redirect_ignored() {
    let mail = MailDir::new();
    let server = confirming_server(&mail.0).await;
    let email = "late@example.com";
    let (status, _) = post(
        &server,
        "signup?redirect_to=https://evil.example/",
        json!({"email": email, "password": "secret1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let link = mail.link_to(email).await;
    server
        .admin()
        .await
        .execute(
            "update auth.users set confirmation_sent_at = now() - interval '61 minutes' where email = $1",
            &[&email],
        )
        .await
        .unwrap();
    let (location, fragment) = open(&link).await;
    assert!(location.starts_with(&format!("{SITE}/#")), "{location}");
    assert_eq!(param(&fragment, "error_code"), Some("otp_expired"));
    let (status, refused) = sign_in(&server, email, "secret1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["code"], "email_not_confirmed");
}

#[tokio::test]
async fn without_mail_settings_recovery_answers_and_sends_nothing() {
    let server = TestServer::start().await;
    let (status, body) = post(&server, "recover", json!({"email": TRAINER})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({}));
    let token: String = server
        .admin()
        .await
        .query_one(
            "select coalesce(recovery_token, '') from auth.users where email = $1",
            &[&TRAINER],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(token, "", "no link was made");
    let (status, error) = post(&server, "recover", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "validation_failed");
    let (status, _) = post(&server, "recover", json!({"email": "not-an-email"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn signing_up_again_unconfirmed_mails_a_new_link_and_leaves_the_account_as_it_was() {
    let mail = MailDir::new();
    let server = confirming_server(&mail.0).await;
    let email = "lost-my-mail@example.com";
    let signup = |password: &'static str| {
        post(
            &server,
            "signup",
            json!({"email": email, "password": password}),
        )
    };
    assert_eq!(signup("secret1").await.0, StatusCode::OK);
    let first = mail.link_to(email).await;

    // At once again: too soon, as for any mail.
    let (status, refused) = signup("secret1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["code"], "over_email_send_rate_limit");

    // A few minutes later (the first mail lost): a new link, and no session.
    server
        .admin()
        .await
        .execute(
            "update auth.users set confirmation_sent_at = now() - interval '2 minutes' where email = $1",
            &[&email],
        )
        .await
        .unwrap();
    let (status, user) = signup("another-password").await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], email);
    assert!(user.get("access_token").is_none(), "no session: {user}");
    let texts = mail.texts_to(email);
    assert_eq!(texts.len(), 2, "a second mail");
    let second = texts
        .iter()
        .filter_map(|text| {
            let start = text.find("http://")?;
            text[start..].split_whitespace().next().map(str::to_string)
        })
        .find(|link| *link != first)
        .expect("a new link");

    let (_, stale) = open(&first).await;
    assert_eq!(
        param(&stale, "error_code"),
        Some("otp_expired"),
        "the old link is replaced"
    );
    let (_, fragment) = open(&second).await;
    assert_eq!(param(&fragment, "type"), Some("signup"));
    assert!(param(&fragment, "access_token").is_some());
    assert_eq!(sign_in(&server, email, "secret1").await.0, StatusCode::OK);
    assert_eq!(
        sign_in(&server, email, "another-password").await.0,
        StatusCode::BAD_REQUEST,
        "whoever signed up again did not change the password"
    );
}
