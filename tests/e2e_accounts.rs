//! A trainer's practice without the seed (issue 12): a trainer signs up, invites a client
//! with a link, the client signs up from it and they chat; a used or revoked link says
//! why it does not work; the header shows the person's name, which they can change.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Fills the sign-up form (switching to it when it shows sign-in) and submits it.
async fn sign_up(browser: &Client, name: &str, email: &str) {
    let form = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form.card"))
        .await
        .expect("the sign-in form");
    if !shows(browser, "input[name=name]").await {
        click(browser, "button.switch-mode").await;
    }
    for (field, value) in [("name", name), ("email", email), ("password", PASSWORD)] {
        form.find(Locator::Css(&format!("input[name={field}]")))
            .await
            .unwrap_or_else(|_| panic!("a {field} field"))
            .send_keys(value)
            .await
            .unwrap();
    }
    click(browser, "form.card button[type=submit]").await;
}

async fn wait_text(browser: &Client, selector: &str, wanted: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = text_of(browser, selector).await;
        match text {
            Some(text) if text.contains(wanted) => return text,
            _ if std::time::Instant::now() > deadline => panic!(
                "{selector} never said {wanted:?}; it says {text:?}; the page: {}",
                page_text(browser).await
            ),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The trainer creates an invitation (for `email`, if any) from the list: its link.
async fn invite(trainer: &Client, email: &str) -> String {
    if !shows(trainer, "section.invitations").await {
        click(trainer, "button.invite-toggle").await;
    }
    let field = trainer
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input.invite-email"))
        .await
        .expect("the invitation form");
    field.send_keys(email).await.unwrap();
    let before = link_shown(trainer).await;
    click(trainer, "button.create-invitation").await;
    eventually(WAIT, "a new invitation link", || async {
        link_shown(trainer)
            .await
            .filter(|link| Some(link) != before.as_ref())
    })
    .await
}

async fn link_shown(browser: &Client) -> Option<String> {
    browser
        .execute(
            "const e = document.querySelector('input.invitation-link'); return e ? e.value : null",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

async fn pending_count(trainer: &Client) -> usize {
    trainer
        .execute(
            "return document.querySelectorAll('.pending-invitations li').length",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as usize
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trainer_signs_up_invites_a_client_and_they_chat() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let app = localbase.app_url();

    // A trainer signs up: the header greets them by name, not by e-mail.
    let trainer = driver.browser().await;
    trainer.goto(&app).await.unwrap();
    record_errors(&trainer).await;
    sign_up(&trainer, "Петър Тренев", "petar.coach@example.com").await;
    wait_text(&trainer, ".topbar .me", "Петър Тренев").await;
    wait_text(&trainer, ".conversations", "Все още нямате разговори").await;

    // An invitation for a client, shown as pending.
    let link = invite(&trainer, "georgi@example.com").await;
    assert!(
        link.starts_with(&app) && link.contains("#invite="),
        "a link on the app's own address: {link}"
    );
    eventually(WAIT, "one pending invitation", || async {
        (pending_count(&trainer).await == 1).then_some(())
    })
    .await;
    wait_text(&trainer, ".pending-invitations", "georgi@example.com").await;

    // The client opens it, is told they were invited, signs up: the conversation opens.
    let client = driver.browser().await;
    client.goto(&link).await.unwrap();
    record_errors(&client).await;
    wait_text(&client, ".invited", "Поканени сте").await;
    let address: String = client
        .execute("return location.href", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !address.contains("invite="),
        "the token left the address bar: {address}"
    );
    sign_up(&client, "Георги Клиентов", "georgi@example.com").await;
    wait_text(&client, ".chat header", "Петър Тренев").await;
    assert!(
        !shows(&client, "button.invite-toggle").await,
        "an invited client is a client: no invitations of their own"
    );
    wait_subscribed(&client).await;
    send(&client, "Здравейте! Кога е първата тренировка?").await;

    // The trainer's list shows the new client at once, with the message; the invitation
    // is no longer pending.
    let row = "button.conversation";
    wait_text(&trainer, row, "Георги Клиентов").await;
    click(&trainer, row).await;
    wait_subscribed(&trainer).await;
    wait_for_all(&trainer, "trainer", "Здравейте! Кога", 1, WAIT).await;
    send(&trainer, "Утре в 18:00.").await;
    wait_for_all(&client, "client", "Утре в 18:00.", 1, WAIT).await;
    eventually(WAIT, "no pending invitation", || async {
        (pending_count(&trainer).await == 0).then_some(())
    })
    .await;

    // Someone else opening the used link, in English, is told why it does not work.
    let latecomer = driver.browser().await;
    latecomer.goto(&link).await.unwrap();
    click(&latecomer, "button.lang").await;
    wait_text(&latecomer, ".invited", "invited").await;
    sign_up(&latecomer, "Late Comer", "late@example.com").await;
    wait_text(&latecomer, ".joining", "already been used").await;
    wait_text(&latecomer, ".conversations", "No conversations yet").await;

    // A revoked link: gone from the pending list, refused with its own sentence.
    let revoked = invite(&trainer, "").await;
    eventually(WAIT, "the new invitation pending", || async {
        (pending_count(&trainer).await == 1).then_some(())
    })
    .await;
    click(&trainer, ".pending-invitations button.revoke").await;
    eventually(WAIT, "the revoked invitation gone", || async {
        (pending_count(&trainer).await == 0).then_some(())
    })
    .await;
    let refused = driver.browser().await;
    refused.goto(&revoked).await.unwrap();
    sign_up(&refused, "Мария Отказана", "refused@example.com").await;
    wait_text(&refused, ".joining", "оттеглил").await;

    // The trainer renames themselves: the header, and the client's view of them, follow.
    click(&trainer, ".topbar .me").await;
    let name = trainer
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input.account-name"))
        .await
        .expect("the account form");
    name.clear().await.unwrap();
    name.send_keys("Петър Треньора").await.unwrap();
    click(&trainer, "form.account button[type=submit]").await;
    wait_text(&trainer, "form.account", "Запазено").await;
    wait_text(&trainer, ".topbar .me", "Петър Треньора").await;
    client.refresh().await.unwrap();
    wait_text(&client, ".conversations", "Петър Треньора").await;

    for browser in [&trainer, &client] {
        assert_eq!(recorded_errors(browser).await, Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_password_works_and_a_short_one_is_refused_in_the_form() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let browser = driver.browser().await;
    browser.goto(&localbase.app_url()).await.unwrap();
    // A password too short and a missing name are said before anything is sent.
    click(&browser, "button.switch-mode").await;
    let form = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form.card"))
        .await
        .unwrap();
    form.find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("Ана")
        .await
        .unwrap();
    form.find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys("ana@example.com")
        .await
        .unwrap();
    form.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("12345")
        .await
        .unwrap();
    click(&browser, "form.card button[type=submit]").await;
    wait_text(&browser, "form.card .error", "поне 6 знака").await;
    // The demo trainer's e-mail is taken.
    browser.refresh().await.unwrap();
    sign_up(&browser, "Друга Мария", TRAINER).await;
    wait_text(&browser, "form.card .error", "Вече има профил").await;

    // The demo trainer changes their password; the new one signs in, the old one not.
    sign_in(&browser, &localbase.app_url(), TRAINER, PASSWORD).await;
    click(&browser, ".topbar .me").await;
    let field = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input.account-password"))
        .await
        .unwrap();
    // The form shows the person's name before they save.
    eventually(WAIT, "the name in the account form", || async {
        browser
            .execute(
                "return document.querySelector('input.account-name').value",
                vec![],
            )
            .await
            .ok()
            .filter(|v| v.as_str() == Some("Мария Петрова"))
    })
    .await;
    field.send_keys("a-new-password").await.unwrap();
    click(&browser, "form.account button[type=submit]").await;
    wait_text(&browser, "form.account", "Запазено").await;
    assert!(
        api_password_works(&localbase, TRAINER, "a-new-password"),
        "the new password signs in"
    );
    assert!(
        !api_password_works(&localbase, TRAINER, PASSWORD),
        "the old one no longer does"
    );
}

fn api_password_works(localbase: &Localbase, email: &str, password: &str) -> bool {
    let (status, _) = http(
        localbase,
        "POST",
        "/auth/v1/token?grant_type=password",
        &[("apikey", ANON_KEY)],
        Some(&json!({ "email": email, "password": password })),
    );
    status == 200
}

/// A captured message's text, its base64 and quoted-printable parts undone.
fn decoded(raw: &str) -> String {
    use base64::Engine;
    let mut text = String::new();
    let mut block: Option<String> = None;
    for line in raw.lines() {
        if line.eq_ignore_ascii_case("Content-Transfer-Encoding: base64") {
            block = Some(String::new());
            continue;
        }
        match &mut block {
            Some(part) if !line.is_empty() && !line.starts_with("--") && !line.contains(':') => {
                part.push_str(line.trim());
                continue;
            }
            Some(part) if line.starts_with("--") => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(part.as_bytes())
                    .unwrap_or_default();
                text.push_str(&String::from_utf8_lossy(&bytes));
                block = None;
            }
            _ => {}
        }
        text.push_str(line.strip_suffix('=').unwrap_or(line)); // a soft line break
        if !line.ends_with('=') {
            text.push('\n');
        }
    }
    text.replace("=3D", "=")
}

/// The Auth link of `kind` (`recovery`, `signup`) in the newest mail to `to`, once there.
async fn mailed_link(localbase: &Localbase, to: &str, kind: &str) -> String {
    let dir = localbase.mail_dir();
    eventually(WAIT, &format!("a {kind} mail to {to}"), || {
        let dir = dir.clone();
        async move {
            let mut found = None;
            for entry in std::fs::read_dir(&dir).ok()?.flatten() {
                let text = decoded(&std::fs::read_to_string(entry.path()).ok()?);
                if !text.lines().any(|l| l.starts_with("To:") && l.contains(to)) {
                    continue;
                }
                let Some(start) = text.find("http://127.0.0.1") else {
                    continue;
                };
                let link: String = text[start..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !"\"<>".contains(*c))
                    .collect();
                let modified = entry.metadata().ok()?.modified().ok()?;
                let newer = found.as_ref().is_none_or(|(at, _)| modified > *at);
                if link.contains(&format!("type={kind}")) && newer {
                    found = Some((modified, link.replace("&amp;", "&")));
                }
            }
            found.map(|(_, link)| link)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_password_is_set_again_from_the_mailed_link_once() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let browser = driver.browser().await;
    browser.goto(&localbase.app_url()).await.unwrap();
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("button.forgot"))
        .await
        .expect("a way in for whoever forgot their password");
    click(&browser, "button.forgot").await;
    assert!(
        !shows(&browser, "input[name=password]").await,
        "only the e-mail is asked"
    );
    browser
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(CLIENT2)
        .await
        .unwrap();
    click(&browser, "form.card button[type=submit]").await;
    wait_text(&browser, "form.card .notice", "изпратихме му писмо").await;

    // The mail's link signs them in with the account form open, asking for a password.
    let link = mailed_link(&localbase, CLIENT2, "recovery").await;
    assert!(
        link.contains("/auth/v1/verify?"),
        "a verification link: {link}"
    );
    browser.goto(&link).await.unwrap();
    wait_text(&browser, "form.account", "Въведете нова парола").await;
    let address = browser.current_url().await.unwrap();
    assert!(
        !address.as_str().contains("access_token"),
        "the tokens are taken out of the address: {address}"
    );
    browser
        .find(Locator::Css("input.account-password"))
        .await
        .unwrap()
        .send_keys("a-new-password")
        .await
        .unwrap();
    click(&browser, "form.account button[type=submit]").await;
    wait_text(&browser, "form.account", "Запазено").await;
    let sign_in = |password: &str| {
        http(
            &localbase,
            "POST",
            "/auth/v1/token?grant_type=password",
            &[("apikey", ANON_KEY)],
            Some(&json!({ "email": CLIENT2, "password": password })),
        )
        .0
    };
    assert_eq!(sign_in("a-new-password"), 200, "the new password works");
    assert_eq!(sign_in(PASSWORD), 400, "the old one does not");

    // The same link again, on another device: refused, and said so.
    let other = driver.browser().await;
    other.goto(&link).await.unwrap();
    wait_text(&other, "form.card .error", "използвана или е изтекла").await;
    other.close().await.unwrap();
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn with_confirmation_on_a_new_trainer_confirms_the_address_from_the_mail() {
    let localbase = Localbase::start_with(&["--confirm-email"]);
    let driver = Driver::start();
    let browser = driver.browser().await;
    browser.goto(&localbase.app_url()).await.unwrap();
    let email = format!("{}@example.com", unique("confirm").replace(' ', "-"));
    sign_up(&browser, "Мария Петрова", &email).await;
    wait_text(&browser, "form.card .notice", "Потвърдете адреса си").await;

    let link = mailed_link(&localbase, &email, "signup").await;
    browser.goto(&link).await.unwrap();
    wait_text(&browser, "button.me", "Мария Петрова").await;
    browser.close().await.unwrap();
}
