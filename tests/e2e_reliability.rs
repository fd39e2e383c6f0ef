//! End-to-end reliability: nothing lost, nothing doubled, through a server restart.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_server_restart_mid_conversation_loses_and_doubles_nothing() {
    let mut localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    let run = unique("R").replace(' ', "");
    for i in 0..50 {
        send(trainer, &format!("{run} T{i:02}")).await;
        send(client, &format!("{run} C{i:02}")).await;
        if i == 20 {
            tokio::task::block_in_place(|| localbase.restart());
        }
    }

    wait_for_all(trainer, "trainer", &run, 100, Duration::from_secs(90)).await;
    wait_for_all(client, "client", &run, 100, Duration::from_secs(90)).await;
    let at_trainer = texts_with(trainer, &run).await;
    let at_client = texts_with(client, &run).await;
    assert_eq!(at_trainer.len(), 100, "exactly once: {at_trainer:?}");
    assert_eq!(
        at_trainer, at_client,
        "both sides show the same conversation in the same order"
    );
    for sender in ["T", "C"] {
        let own: Vec<&String> = at_trainer
            .iter()
            .filter(|t| t.contains(&format!(" {sender}")))
            .collect();
        let expected: Vec<String> = (0..50).map(|i| format!("{run} {sender}{i:02}")).collect();
        assert_eq!(
            own,
            expected.iter().collect::<Vec<_>>(),
            "{sender}'s messages keep their order"
        );
    }
    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_written_while_the_server_is_unreachable_survive_a_reload_and_arrive_once() {
    let mut localbase = Localbase::start();
    let site = StaticApp::serve(&localbase.api_url());
    let chat = Chat::open(&site.url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    tokio::task::block_in_place(|| localbase.stop());
    let run = unique("O").replace(' ', "");
    for i in 0..10 {
        send(client, &format!("{run} {i:02}")).await;
    }
    assert_eq!(pending_bubbles(client).await, 10, "all ten wait, visibly");
    client.refresh().await.unwrap();
    let after_reload = eventually(
        Duration::from_secs(20),
        "the queued messages after the reload",
        || async {
            let texts = texts_with(client, &run).await;
            (texts.len() == 10).then_some(texts)
        },
    )
    .await;
    let expected: Vec<String> = (0..10).map(|i| format!("{run} {i:02}")).collect();
    assert_eq!(after_reload, expected, "kept on the device, in order");
    assert_eq!(
        pending_bubbles(client).await,
        10,
        "still pending while the server is away"
    );
    // Said, not only shown: the top bar counts what waits, and the open conversation says
    // it is reconnecting once the trouble has lasted.
    eventually(Duration::from_secs(20), "the offline notice", || async {
        text_of(client, ".topbar .live")
            .await
            .filter(|t| t.ends_with("(10 съобщения чакат изпращане)"))
    })
    .await;
    eventually(
        Duration::from_secs(20),
        "the conversation says so",
        || async {
            let said = text_of(client, ".chat .channel-status").await?;
            (!said.is_empty() && said != "Свързано").then_some(())
        },
    )
    .await;

    tokio::task::block_in_place(|| localbase.resume());
    let at_trainer = wait_for_all(trainer, "trainer", &run, 10, Duration::from_secs(60)).await;
    assert_eq!(at_trainer, expected, "each arrives exactly once, in order");
    let at_client = wait_for_all(client, "client", &run, 10, Duration::from_secs(60)).await;
    assert_eq!(at_client, expected);
    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_minutes_of_chatting_with_20_second_tokens_loses_nothing_and_never_errors() {
    let localbase = Localbase::start_with(&["--jwt-expiry", "20"]);
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);
    record_statuses(trainer).await;
    record_statuses(client).await;

    let run = unique("J").replace(' ', "");
    let started = std::time::Instant::now();
    let mut sent = Vec::new();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(120) {
        let (who, browser) = if i % 2 == 0 {
            ("T", trainer)
        } else {
            ("C", client)
        };
        let text = format!("{run} {who}{i:03}");
        send(browser, &text).await;
        sent.push(text);
        i += 1;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let at_trainer = wait_for_all(
        trainer,
        "trainer",
        &run,
        sent.len(),
        Duration::from_secs(30),
    )
    .await;
    let at_client = wait_for_all(client, "client", &run, sent.len(), Duration::from_secs(30)).await;
    assert_eq!(
        at_trainer, sent,
        "every message once, in order, at the trainer"
    );
    assert_eq!(at_client, sent, "and at the client");
    for (who, browser) in [("trainer", trainer), ("client", client)] {
        let statuses = recorded_statuses(browser).await;
        assert!(
            !statuses
                .iter()
                .any(|s| s == "CHANNEL_ERROR" || s == "CLOSED" || s == "TIMED_OUT"),
            "{who} never lost the channel: {statuses:?}"
        );
    }
    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_conversations_leaves_the_old_channel_and_never_mixes_messages() {
    let localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    let topic = format!("conversation:{TRAINER_CLIENT_CONVERSATION}");
    // A join replaced while the page settled (a token refresh, the lone conversation
    // opened at start) may take a moment to leave; what counts is that it does.
    eventually(
        Duration::from_secs(5),
        "both have joined, once each",
        || async { (subscribers(&localbase, &topic) == 2).then_some(()) },
    )
    .await;
    let other = ELENA_CONVERSATION;
    open_conversation(trainer, other).await;
    eventually(
        Duration::from_secs(5),
        "the server sees the trainer leave",
        || async { (subscribers(&localbase, &topic) == 1).then_some(()) },
    )
    .await;
    let run = unique("S").replace(' ', "");
    send(client, &format!("{run} for the trainer")).await;
    wait_for_all(client, "client", &run, 1, Duration::from_secs(10)).await;
    // The list learns about it (inbox channel) while Elena's conversation stays clean.
    let badge =
        format!("button.conversation[data-conversation='{TRAINER_CLIENT_CONVERSATION}'] .unread");
    trainer
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(&badge))
        .await
        .expect("unread badge on Ivan's conversation");
    assert!(
        texts_with(trainer, &run).await.is_empty(),
        "no message of another conversation is shown"
    );
    let shown = trainer
        .find(fantoccini::Locator::Css("section.chat"))
        .await
        .unwrap();
    assert_eq!(
        shown.attr("data-conversation").await.unwrap().as_deref(),
        Some(other)
    );

    open_conversation(trainer, TRAINER_CLIENT_CONVERSATION).await;
    let texts = wait_for_all(trainer, "trainer", &run, 1, Duration::from_secs(10)).await;
    assert_eq!(texts, vec![format!("{run} for the trainer")]);
    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_broadcast_messages_still_arrive_through_postgres_changes_within_a_second() {
    let localbase = Localbase::start_with(&["--drop-client-broadcasts"]);
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    let run = unique("P").replace(' ', "");
    for (i, (from, to)) in [(trainer, client), (client, trainer), (trainer, client)]
        .into_iter()
        .enumerate()
    {
        let text = format!("{run} {i}");
        send(from, &text).await;
        // From the moment the database has it (the sender's ✓) …
        wait_for_all(from, "sender", &text, 1, Duration::from_secs(10)).await;
        // … the other side shows it within a second, with no broadcast at all.
        eventually(
            Duration::from_secs(1),
            "the message via Postgres Changes",
            || async { texts_with(to, &text).await.len().eq(&1).then_some(()) },
        )
        .await;
    }
    let at_trainer = texts_with(trainer, &run).await;
    assert_eq!(at_trainer, texts_with(client, &run).await);
    assert_eq!(at_trainer.len(), 3, "once each: {at_trainer:?}");
    chat.close().await;
}

/// The bodies of every stored message starting with `prefix`, in any conversation (read
/// with the service role: what the database has, whoever may see it).
fn stored_bodies(localbase: &Localbase, prefix: &str) -> Vec<String> {
    let bearer = format!("Bearer {SERVICE_ROLE_KEY}");
    let path = format!("/rest/v1/messages?body=like.{prefix}*&select=body&order=created_at");
    let (status, body) = http(
        localbase,
        "GET",
        &path,
        &[("apikey", SERVICE_ROLE_KEY), ("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200, "messages: {body}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    rows.iter()
        .filter_map(|row| row["body"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_the_server_ends_keeps_the_unsent_messages_for_the_same_person_only() {
    let mut localbase = Localbase::start_with(&["--jwt-expiry", "20"]);
    let site = StaticApp::serve(&localbase.api_url());
    let chat = Chat::open(&site.url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    // Every session of the client is revoked elsewhere (e.g. "sign out everywhere").
    let (token, _) = api_sign_in(&localbase, CLIENT);
    let bearer = format!("Bearer {token}");
    let (status, _) = http(
        &localbase,
        "POST",
        "/auth/v1/logout?scope=global",
        &[("apikey", ANON_KEY), ("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 204);
    // Before the client notices, the server goes away; the client writes on.
    tokio::task::block_in_place(|| localbase.stop());
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(
            ".topbar .live[data-status=CHANNEL_ERROR]",
        ))
        .await
        .expect("the top bar says the list is not live");
    let run = unique("Ended").replace(' ', "");
    let expected: Vec<String> = (0..2).map(|i| format!("{run} {i}")).collect();
    for text in &expected {
        send(client, text).await;
    }
    // Back after the access token expired: the refresh is refused.
    tokio::time::sleep(Duration::from_secs(21)).await;
    tokio::task::block_in_place(|| localbase.resume());
    let notice = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css("form.card .notice"))
        .await
        .expect("asked to sign in again")
        .text()
        .await
        .unwrap();
    assert!(
        notice.contains("2 неизпратени съобщения"),
        "the waiting messages are named: {notice}"
    );
    let email = client
        .find(fantoccini::Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(email.as_deref(), Some(CLIENT), "the form knows who it was");

    // Someone else signs in on this device first (the page opened afresh): the waiting
    // messages are not theirs, and are neither sent as them nor shown to them.
    sign_in(client, &site.url(), CLIENT2, PASSWORD).await;
    open_conversation(client, ELENA_CONVERSATION).await;
    let hers = format!("{run} from Elena");
    send(client, &hers).await;
    eventually(
        Duration::from_secs(15),
        "Elena's own message stored",
        || async {
            let stored = stored_bodies(&localbase, &run);
            stored.contains(&hers).then_some(())
        },
    )
    .await;
    assert_eq!(
        stored_bodies(&localbase, &run),
        vec![hers.clone()],
        "her outbox sent her message, and nothing of the client's"
    );
    assert_eq!(texts_with(client, &run).await, vec![hers.clone()]);
    // Nothing of the client's waits in her outbox either: signing out asks nothing (it asks
    // before throwing unsent messages away).
    click(client, ".topbar button.sign-out").await;
    let asked = eventually(Duration::from_secs(10), "signed out", || async {
        if shows(client, ".confirm").await {
            return Some(true);
        }
        shows(client, "input[name=email]").await.then_some(false)
    })
    .await;
    assert!(
        !asked,
        "Elena was asked about unsent messages that are not hers"
    );
    client
        .find(fantoccini::Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(CLIENT)
        .await
        .unwrap();
    client
        .find(fantoccini::Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(fantoccini::Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let at_trainer = wait_for_all(trainer, "trainer", &run, 2, Duration::from_secs(60)).await;
    assert_eq!(
        at_trainer, expected,
        "sent once the same person is back, once each"
    );
    let at_client = wait_for_all(client, "client", &run, 2, Duration::from_secs(30)).await;
    assert_eq!(at_client, expected);
    chat.close().await;
}
