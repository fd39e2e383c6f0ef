//! Browser tests (wasm-bindgen-test in headless Chromium): components mount and behave,
//! and the Rust realtime client joins, sends and receives against a running localbase
//! (URL from COACH_CHAT_TEST_API at build time; scripts/test.sh starts one).

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use coach_chat::api::auth;
use coach_chat::components::composer::Composer;
use coach_chat::config::{Config, LOCAL_ANON_KEY};
use coach_chat::context::AppContext;
use coach_chat::i18n::Lang;
use coach_chat::realtime::{ChannelEvent, JoinConfig, RealtimeClient, Status};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const API: &str = match option_env!("COACH_CHAT_TEST_API") {
    Some(url) => url,
    None => "http://127.0.0.1:54321",
};
const CONVERSATION: &str = "c1000000-0000-4000-8000-000000000001";

/// The localbase the tests run against.
fn local_config() -> Config {
    Config {
        supabase_url: API.into(),
        supabase_anon_key: LOCAL_ANON_KEY.into(),
    }
}

/// Signs a demo account in (password `demo-password`).
async fn demo_session(config: &Config, email: &str) -> auth::Session {
    auth::sign_in(config, email, "demo-password")
        .await
        .unwrap_or_else(|error| panic!("{email} signs in: {error}"))
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn container() -> web_sys::HtmlElement {
    let element = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&element).unwrap();
    element.unchecked_into()
}

async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Polls `check` every 20 ms for up to `within`.
async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let rounds = within.as_millis() / 20;
    for _ in 0..rounds {
        if check() {
            return true;
        }
        sleep(20).await;
    }
    check()
}

fn type_and_press_enter(textarea: &web_sys::HtmlTextAreaElement, text: &str) {
    textarea.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let input = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    textarea.dispatch_event(&input).unwrap();
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    init.set_cancelable(true);
    let enter =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    textarea.dispatch_event(&enter).unwrap();
}

#[wasm_bindgen_test]
async fn composer_refuses_empty_and_oversized_drafts_and_sends_valid_ones() {
    let root = container();
    let sent = RwSignal::new(Vec::<String>::new());
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(AppContext::new(Config::default(), Lang::Bg));
        view! { <Composer on_send=Callback::new(move |body: String| sent.update(|all| all.push(body))) /> }
    });
    let textarea: web_sys::HtmlTextAreaElement = root
        .query_selector("textarea")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let note = || {
        root.query_selector(".composer-note")
            .unwrap()
            .map(|n| n.text_content().unwrap_or_default())
    };

    type_and_press_enter(&textarea, "  \n  ");
    sleep(10).await;
    assert_eq!(note().as_deref(), Some("Съобщението е празно."));

    type_and_press_enter(&textarea, &"ж".repeat(4001));
    sleep(10).await;
    assert!(
        note().unwrap_or_default().contains("4001"),
        "too long is explained: {:?}",
        note()
    );
    assert!(sent.get_untracked().is_empty(), "nothing invalid was sent");

    type_and_press_enter(&textarea, "Здравей!");
    sleep(10).await;
    assert_eq!(sent.get_untracked(), vec!["Здравей!".to_string()]);
    assert_eq!(
        textarea.value(),
        "",
        "the composer is cleared after sending"
    );
    assert_eq!(note(), None);
}

type Events = Rc<RefCell<Vec<ChannelEvent>>>;

fn recorder() -> (Events, impl Fn(ChannelEvent) + 'static) {
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    (events, move |event| sink.borrow_mut().push(event))
}

fn has_status(events: &Events, wanted: impl Fn(&Status) -> bool) -> bool {
    events
        .borrow()
        .iter()
        .any(|e| matches!(e, ChannelEvent::Status(s) if wanted(s)))
}

fn has_body(events: &Events, body: &str) -> bool {
    events.borrow().iter().any(|e| {
        matches!(e, ChannelEvent::Broadcast { event, payload } if event == "new_message" && payload["body"] == body)
    })
}

#[wasm_bindgen_test]
async fn realtime_client_joins_private_channel_sends_and_receives() {
    let config = local_config();
    let trainer = demo_session(&config, "trainer@example.com").await;
    let client = demo_session(&config, "client@example.com").await;
    let stranger = demo_session(&config, "client2@example.com").await;
    assert_eq!(
        auth::sign_in(&config, "client@example.com", "wrong")
            .await
            .unwrap_err(),
        coach_chat::api::ApiError::InvalidCredentials
    );

    let topic = format!("conversation:{CONVERSATION}");
    let private = JoinConfig {
        private: true,
        ..Default::default()
    };
    let sender = RealtimeClient::new(config.realtime_url(), Some(trainer.access_token));
    let receiver = RealtimeClient::new(config.realtime_url(), Some(client.access_token));
    let outsider = RealtimeClient::new(config.realtime_url(), Some(stranger.access_token));
    let (sent_events, on_sent) = recorder();
    let (received, on_received) = recorder();
    let (outsider_events, on_outsider) = recorder();
    let sending = sender.channel(&topic, private.clone(), on_sent);
    let receiving = receiver.channel(&topic, private.clone(), on_received);
    let _denied = outsider.channel(&topic, private, on_outsider);

    assert!(
        eventually(Duration::from_secs(5), || has_status(&sent_events, |s| *s
            == Status::Subscribed))
        .await
    );
    assert!(
        eventually(Duration::from_secs(5), || has_status(&received, |s| *s
            == Status::Subscribed))
        .await
    );
    sending.broadcast(
        "new_message",
        serde_json::json!({ "body": "Здравей от Rust" }),
    );
    assert!(
        eventually(Duration::from_secs(5), || has_body(
            &received,
            "Здравей от Rust"
        ))
        .await,
        "the other participant receives the broadcast: {:?}",
        received.borrow()
    );
    assert!(
        eventually(Duration::from_secs(5), || has_status(
            &outsider_events,
            Status::is_auth_error
        ))
        .await,
        "a non-participant is refused: {:?}",
        outsider_events.borrow()
    );
    assert!(
        !has_body(&outsider_events, "Здравей от Rust"),
        "and hears nothing"
    );

    receiving.leave();
    sending.broadcast("new_message", serde_json::json!({ "body": "after leave" }));
    sleep(300).await;
    assert!(
        !has_body(&received, "after leave"),
        "nothing arrives after leaving"
    );
    for client in [sender, receiver, outsider] {
        client.disconnect();
    }
}

#[wasm_bindgen_test]
async fn realtime_client_receives_its_conversations_database_changes() {
    use coach_chat::api::rest;
    use coach_chat::chat::model::MessageRow;
    use coach_chat::realtime::ChangesFilter;

    let config = local_config();
    let client = demo_session(&config, "client@example.com").await;
    let trainer = demo_session(&config, "trainer@example.com").await;
    let changes = vec![ChangesFilter {
        event: "INSERT".into(),
        schema: "public".into(),
        table: "messages".into(),
        filter: Some(format!("conversation_id=eq.{CONVERSATION}")),
    }];
    let realtime = RealtimeClient::new(config.realtime_url(), Some(client.access_token.clone()));
    let (events, on_event) = recorder();
    let _channel = realtime.channel(
        &format!("conversation:{CONVERSATION}"),
        JoinConfig {
            private: true,
            postgres_changes: changes,
            ..Default::default()
        },
        on_event,
    );
    let ready = eventually(Duration::from_secs(10), || {
        events.borrow().iter().any(
            |e| matches!(e, ChannelEvent::System(p) if p["message"] == "Subscribed to PostgreSQL"),
        )
    })
    .await;
    assert!(ready, "the change stream is live: {:?}", events.borrow());

    let row = MessageRow {
        id: coach_chat::browser::new_uuid(),
        conversation_id: CONVERSATION.into(),
        sender_id: trainer.user.id.clone(),
        body: "от базата".into(),
        created_at: String::new(),
        read_at: None,
        ..Default::default()
    };
    let stored = rest::insert_message(&config, &trainer.access_token, &row, Default::default())
        .await
        .expect("trainer sends");
    let arrived = eventually(Duration::from_secs(5), || {
        events.borrow().iter().any(|e| matches!(e,
            ChannelEvent::PostgresChange { kind, record, .. } if kind == "INSERT" && record["id"] == stored.id.as_str()
                && record["body"] == "от базата" && record["created_at"] == stored.created_at.as_str()))
    })
    .await;
    assert!(
        arrived,
        "the row arrives as PostgREST would return it: {:?}",
        events.borrow()
    );
    realtime.disconnect();
}

#[wasm_bindgen_test]
async fn a_refused_token_asks_for_a_fresh_one_once_and_rejoins_with_it_instead_of_looping() {
    let config = local_config();
    let client = demo_session(&config, "client@example.com").await;
    let realtime = RealtimeClient::new(config.realtime_url(), Some("not-a-jwt".into()));
    let asked = Rc::new(std::cell::Cell::new(0));
    let counter = asked.clone();
    realtime.on_auth_error(move || counter.set(counter.get() + 1));
    let (events, on_event) = recorder();
    let _channel = realtime.channel(
        &format!("conversation:{CONVERSATION}"),
        JoinConfig {
            private: true,
            ..Default::default()
        },
        on_event,
    );
    let refused = eventually(Duration::from_secs(5), || {
        has_status(&events, Status::is_auth_error)
    })
    .await;
    assert!(refused, "the bad token is refused: {:?}", events.borrow());
    sleep(1500).await;
    let errors = events
        .borrow()
        .iter()
        .filter(|e| matches!(e, ChannelEvent::Status(Status::ChannelError(_))))
        .count();
    assert_eq!(
        errors,
        1,
        "no retry loop with the same token: {:?}",
        events.borrow()
    );
    assert_eq!(asked.get(), 1, "the app was asked for a fresh token once");

    realtime.set_auth(&client.access_token);
    assert!(
        eventually(Duration::from_secs(5), || has_status(&events, |s| *s
            == Status::Subscribed))
        .await,
        "the fresh token rejoins: {:?}",
        events.borrow()
    );
    realtime.disconnect();
}

/// The presence keys in the latest `Presence` event.
fn present(events: &Events) -> Option<Vec<String>> {
    events.borrow().iter().rev().find_map(|e| match e {
        ChannelEvent::Presence(keys) => Some(keys.clone()),
        _ => None,
    })
}

#[wasm_bindgen_test]
async fn presence_reaches_only_participants_and_ends_with_the_socket() {
    use coach_chat::realtime::PresenceConfig;

    let config = local_config();
    let topic = format!("conversation:{CONVERSATION}");
    let mut sockets = Vec::new();
    let mut recorders = Vec::new();
    let mut ids = Vec::new();
    for email in [
        "trainer@example.com",
        "client@example.com",
        "client2@example.com",
    ] {
        let session = demo_session(&config, email).await;
        let realtime =
            RealtimeClient::new(config.realtime_url(), Some(session.access_token.clone()));
        let (events, on_event) = recorder();
        let join = JoinConfig {
            private: true,
            presence: Some(PresenceConfig {
                key: session.user.id.clone(),
                track: serde_json::json!({ "online_at": "now" }),
            }),
            ..Default::default()
        };
        let _channel = realtime.channel(&topic, join, on_event);
        sockets.push(realtime);
        recorders.push(events);
        ids.push(session.user.id);
    }
    let (trainer, client, stranger) = (&recorders[0], &recorders[1], &recorders[2]);
    let both = {
        let mut both = vec![ids[0].clone(), ids[1].clone()];
        both.sort();
        both
    };
    assert!(
        eventually(Duration::from_secs(5), || present(trainer).as_ref()
            == Some(&both))
        .await,
        "the trainer sees both participants, not the stranger: {:?}",
        trainer.borrow()
    );
    assert!(
        eventually(Duration::from_secs(5), || present(client).as_ref()
            == Some(&both))
        .await,
        "so does the client: {:?}",
        client.borrow()
    );
    assert!(
        eventually(Duration::from_secs(5), || has_status(
            stranger,
            Status::is_auth_error
        ))
        .await
            && present(stranger).is_none_or(|k| k.is_empty()),
        "the stranger is refused and learns nobody's presence: {:?}",
        stranger.borrow()
    );
    // The client's socket goes away (a closed tab): the trainer sees them leave.
    sockets[1].disconnect();
    assert!(
        eventually(Duration::from_secs(5), || present(trainer)
            == Some(vec![ids[0].clone()]))
        .await,
        "the client's presence ends with their socket: {:?}",
        trainer.borrow()
    );
    for socket in &sockets {
        socket.disconnect();
    }
}

/// A task of an owner that is cleaned up (the person switched conversation) never runs past
/// its next `await`: the code after it would read disposed signals and panic. A task of a
/// living owner runs to its end, and nothing new starts once the owner is gone.
#[wasm_bindgen_test]
async fn an_owners_tasks_end_with_it_and_only_with_it() {
    use coach_chat::task::Tasks;
    // Mounting starts Leptos' task executor (as the app's own mount does).
    let _mounted = leptos::mount::mount_to(container(), || ());
    let reached: Rc<RefCell<Vec<&str>>> = Rc::default();
    let (kept, gone) = (Owner::new(), Owner::new());
    let kept_tasks = kept.with(Tasks::of_current_owner);
    let gone_tasks = gone.with(Tasks::of_current_owner);
    for (tasks, name) in [(&kept_tasks, "kept"), (&gone_tasks, "gone")] {
        let reached = reached.clone();
        tasks.spawn(async move {
            sleep(50).await;
            reached.borrow_mut().push(name);
        });
    }
    sleep(10).await; // both are waiting on their timer
    gone.cleanup();
    assert!(!gone_tasks.alive() && kept_tasks.alive());
    let late = reached.clone();
    gone_tasks.spawn(async move { late.borrow_mut().push("late") });
    sleep(120).await;
    assert_eq!(*reached.borrow(), vec!["kept"]);
}
