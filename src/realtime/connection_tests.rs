//! The connection policy, event by event, without a browser.

use serde_json::json;

use super::*;

const URL: &str = "ws://h/realtime/v1/websocket?apikey=k";
const TOPIC: &str = "realtime:conversation:1";

fn private() -> JoinConfig {
    JoinConfig {
        private: true,
        ..Default::default()
    }
}

fn sent(commands: &[Command]) -> Vec<&Frame> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(frame) => Some(frame),
            _ => None,
        })
        .collect()
}

fn sent_events<'a>(commands: &'a [Command], event: &str) -> Vec<&'a Frame> {
    sent(commands)
        .into_iter()
        .filter(|f| f.event == event)
        .collect()
}

fn statuses(commands: &[Command]) -> Vec<Status> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Emit(_, ChannelEvent::Status(status)) => Some(status.clone()),
            _ => None,
        })
        .collect()
}

fn timer_set(commands: &[Command], wanted: &Timer) -> Option<u32> {
    commands.iter().find_map(|c| match c {
        Command::SetTimer(timer, ms) if timer == wanted => Some(*ms),
        _ => None,
    })
}

fn opened_url(commands: &[Command]) -> Option<&str> {
    commands.iter().find_map(|c| match c {
        Command::Open(url) => Some(url.as_str()),
        _ => None,
    })
}

fn reply(join: &Frame, status: &str, response: serde_json::Value) -> Frame {
    Frame::new(
        join.join_ref.clone(),
        join.join_ref.clone(),
        &join.topic,
        "phx_reply",
        json!({ "status": status, "response": response }),
    )
}

/// A connection with one channel joined over an open socket.
fn joined() -> Connection {
    let mut connection = Connection::new(URL.into(), Some("jwt".into()));
    connection.join("conversation:1", private());
    let opened = connection.socket_opened();
    let join = sent_events(&opened, "phx_join")[0].clone();
    let commands = connection.frame(reply(&join, "ok", json!({})));
    assert_eq!(statuses(&commands), [Status::Subscribed]);
    connection
}

fn the_join(commands: &[Command]) -> Frame {
    sent_events(commands, "phx_join")
        .first()
        .map(|f| (*f).clone())
        .expect("a phx_join was sent")
}

#[test]
fn the_first_channel_opens_a_v2_socket_and_joins_once_it_is_open() {
    let mut connection = Connection::new(URL.into(), Some("jwt".into()));
    let (topic, commands) = connection.join("conversation:1", private());
    assert_eq!(topic, TOPIC);
    assert_eq!(opened_url(&commands), Some(&*format!("{URL}&vsn=2.0.0")));
    assert_eq!(statuses(&commands), [Status::Subscribing]);
    assert!(
        sent(&commands).is_empty(),
        "nothing is sent before the open"
    );

    let commands = connection.socket_opened();
    let join = the_join(&commands);
    assert_eq!(join.payload["access_token"], "jwt");
    assert_eq!(join.payload["config"]["private"], true);
    assert_eq!(timer_set(&commands, &Timer::Heartbeat), Some(HEARTBEAT_MS));
    assert_eq!(
        timer_set(&commands, &Timer::Join(TOPIC.into())),
        Some(JOIN_TIMEOUT_MS)
    );
    assert_eq!(connection.state(), ConnectionState::Open);
}

#[test]
fn an_unanswered_heartbeat_means_the_socket_is_dead_and_it_reconnects() {
    let mut connection = joined();
    let commands = connection.timer_fired(Timer::Heartbeat);
    assert_eq!(sent_events(&commands, "heartbeat").len(), 1);
    // No reply within the next 25 s.
    let commands = connection.timer_fired(Timer::Heartbeat);
    assert!(commands.contains(&Command::Close));
    assert_eq!(
        statuses(&commands),
        [Status::ChannelError("connection lost".into())]
    );
    assert_eq!(timer_set(&commands, &Timer::Reconnect), Some(1_000));
    assert_eq!(connection.state(), ConnectionState::Reconnecting);
    let commands = connection.timer_fired(Timer::Reconnect);
    assert!(opened_url(&commands).is_some());
}

#[test]
fn an_answered_heartbeat_keeps_the_socket() {
    let mut connection = joined();
    let commands = connection.timer_fired(Timer::Heartbeat);
    let beat = sent_events(&commands, "heartbeat")[0].clone();
    connection.frame(Frame::new(
        None,
        beat.reference.clone(),
        PHOENIX_TOPIC,
        "phx_reply",
        json!({"status": "ok", "response": {}}),
    ));
    let commands = connection.timer_fired(Timer::Heartbeat);
    assert!(!commands.contains(&Command::Close));
    assert_eq!(sent_events(&commands, "heartbeat").len(), 1);
}

#[test]
fn reconnects_follow_one_two_five_then_ten_seconds_and_reset_after_an_open() {
    let mut connection = Connection::new(URL.into(), None);
    connection.join("room", JoinConfig::default());
    let mut delays = Vec::new();
    for _ in 0..5 {
        let commands = connection.socket_closed();
        delays.push(timer_set(&commands, &Timer::Reconnect).unwrap());
        assert!(opened_url(&connection.timer_fired(Timer::Reconnect)).is_some());
    }
    assert_eq!(delays, [1_000, 2_000, 5_000, 10_000, 10_000]);
    connection.socket_opened();
    let commands = connection.socket_closed();
    assert_eq!(timer_set(&commands, &Timer::Reconnect), Some(1_000));
}

#[test]
fn three_sockets_that_never_open_fall_back_to_serializer_1() {
    let mut connection = Connection::new(URL.into(), None);
    connection.join("room", JoinConfig::default());
    for _ in 0..2 {
        connection.socket_closed();
        let commands = connection.timer_fired(Timer::Reconnect);
        assert!(opened_url(&commands).unwrap().ends_with("vsn=2.0.0"));
    }
    connection.socket_closed();
    let commands = connection.timer_fired(Timer::Reconnect);
    assert!(opened_url(&commands).unwrap().ends_with("vsn=1.0.0"));
    assert_eq!(connection.vsn(), Vsn::V1);
}

#[test]
fn a_probe_wants_a_reply_within_three_seconds_and_many_probes_send_one_heartbeat() {
    let mut connection = joined();
    let first = connection.probe();
    assert_eq!(sent_events(&first, "heartbeat").len(), 1);
    assert_eq!(timer_set(&first, &Timer::Probe), Some(PROBE_TIMEOUT_MS));
    for _ in 0..3 {
        assert!(connection.probe().is_empty(), "one check, not a storm");
    }
    let commands = connection.timer_fired(Timer::Probe);
    assert!(commands.contains(&Command::Close), "silent socket replaced");
    assert_eq!(connection.state(), ConnectionState::Reconnecting);
}

#[test]
fn a_probe_answered_in_time_keeps_the_socket_and_a_probe_while_down_connects_now() {
    let mut connection = joined();
    let commands = connection.probe();
    let beat = sent_events(&commands, "heartbeat")[0].clone();
    let commands = connection.frame(Frame::new(
        None,
        beat.reference,
        PHOENIX_TOPIC,
        "phx_reply",
        json!({"status": "ok"}),
    ));
    assert!(commands.contains(&Command::CancelTimer(Timer::Probe)));
    assert!(connection.timer_fired(Timer::Probe).is_empty());

    connection.socket_closed();
    let commands = connection.probe();
    assert!(commands.contains(&Command::CancelTimer(Timer::Reconnect)));
    assert!(
        opened_url(&commands).is_some(),
        "no waiting for the backoff after a wake-up"
    );
}

#[test]
fn an_auth_refusal_asks_for_a_token_once_and_the_new_token_rejoins() {
    let mut connection = Connection::new(URL.into(), Some("old".into()));
    connection.join("conversation:1", private());
    let join = the_join(&connection.socket_opened());
    let refused = json!({"reason": "Token has expired 3 seconds ago"});
    let commands = connection.frame(reply(&join, "error", refused.clone()));
    assert!(commands.contains(&Command::AskForToken));
    assert!(
        timer_set(&commands, &Timer::Rejoin(TOPIC.into())).is_none(),
        "no retry with the same token"
    );

    // The token the app found is refused too: that stays on screen, no second ask.
    let again = the_join(&connection.set_auth("also-refused"));
    let commands = connection.frame(reply(&again, "error", refused.clone()));
    assert!(!commands.contains(&Command::AskForToken));
    assert!(timer_set(&commands, &Timer::Rejoin(TOPIC.into())).is_none());

    // Pressing Reconnect is a new streak: one more ask.
    let pressed = the_join(&connection.rejoin(TOPIC));
    let commands = connection.frame(reply(&pressed, "error", refused));
    assert!(commands.contains(&Command::AskForToken));

    let commands = connection.set_auth("fresh");
    let join = the_join(&commands);
    assert_eq!(join.payload["access_token"], "fresh");
    let commands = connection.frame(reply(&join, "ok", json!({})));
    assert_eq!(statuses(&commands), [Status::Subscribed]);
}

#[test]
fn a_new_token_reaches_joined_channels_in_band() {
    let mut connection = joined();
    let commands = connection.set_auth("fresh");
    let pushes = sent_events(&commands, "access_token");
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].payload["access_token"], "fresh");
    assert!(sent_events(&commands, "phx_join").is_empty());
}

#[test]
fn other_channel_errors_rejoin_with_backoff() {
    let mut connection = Connection::new(URL.into(), None);
    connection.join("room", JoinConfig::default());
    let mut join = the_join(&connection.socket_opened());
    let mut delays = Vec::new();
    for _ in 0..3 {
        let commands = connection.frame(reply(&join, "error", json!({"reason": "boom"})));
        delays.push(timer_set(&commands, &Timer::Rejoin("realtime:room".into())).unwrap());
        join = the_join(&connection.timer_fired(Timer::Rejoin("realtime:room".into())));
    }
    assert_eq!(delays, [1_000, 2_000, 5_000]);
}

#[test]
fn a_timed_out_join_is_left_on_the_server_and_tried_again() {
    let mut connection = Connection::new(URL.into(), None);
    connection.join("room", JoinConfig::default());
    let join = the_join(&connection.socket_opened());
    let commands = connection.timer_fired(Timer::Join("realtime:room".into()));
    assert_eq!(statuses(&commands), [Status::TimedOut]);
    let leaves = sent_events(&commands, "phx_leave");
    assert_eq!(leaves.len(), 1, "the slow join may still succeed there");
    assert_eq!(leaves[0].join_ref, join.join_ref);
    assert_eq!(
        timer_set(&commands, &Timer::Rejoin("realtime:room".into())),
        Some(1_000)
    );
    let rejoin = the_join(&connection.timer_fired(Timer::Rejoin("realtime:room".into())));
    assert_ne!(rejoin.join_ref, join.join_ref);

    // The first join's late success is left, and changes nothing here.
    let commands = connection.frame(reply(&join, "ok", json!({})));
    assert!(statuses(&commands).is_empty());
    assert_eq!(
        sent_events(&commands, "phx_leave")[0].join_ref,
        join.join_ref
    );
}

#[test]
fn leaving_an_errored_channel_still_tells_the_server_but_not_over_a_dead_socket() {
    let mut connection = Connection::new(URL.into(), None);
    connection.join("room", JoinConfig::default());
    let join = the_join(&connection.socket_opened());
    connection.frame(reply(&join, "error", json!({"reason": "boom"})));
    let commands = connection.leave("realtime:room");
    assert_eq!(sent_events(&commands, "phx_leave").len(), 1);
    assert!(commands.contains(&Command::CancelTimer(Timer::Rejoin("realtime:room".into()))));

    let mut connection = joined();
    connection.socket_closed();
    let commands = connection.leave(TOPIC);
    assert!(
        sent(&commands).is_empty(),
        "the server lost it with the socket"
    );
    connection.timer_fired(Timer::Reconnect);
    let commands = connection.socket_opened();
    assert!(
        sent_events(&commands, "phx_join").is_empty(),
        "a channel left is not rejoined"
    );
}

#[test]
fn a_left_topic_reports_nothing_more() {
    let mut connection = joined();
    connection.leave(TOPIC);
    let broadcast = Frame::new(
        None,
        None,
        TOPIC,
        "broadcast",
        json!({"type": "broadcast", "event": "new_message", "payload": {}}),
    );
    assert!(connection.frame(broadcast).is_empty());
}

#[test]
fn a_server_close_is_rejoined_and_broadcasts_wait_for_the_join() {
    let mut connection = joined();
    let close = Frame::new(None, None, TOPIC, "phx_close", json!({}));
    let commands = connection.frame(close);
    assert_eq!(statuses(&commands), [Status::Closed]);
    assert!(timer_set(&commands, &Timer::Rejoin(TOPIC.into())).is_some());
    let commands = connection.broadcast(TOPIC, "new_message", json!({"id": "m"}));
    assert!(sent(&commands).is_empty(), "kept until joined");
    let join = the_join(&connection.timer_fired(Timer::Rejoin(TOPIC.into())));
    let commands = connection.frame(reply(&join, "ok", json!({})));
    let broadcasts = sent_events(&commands, "broadcast");
    assert_eq!(broadcasts.len(), 1);
    assert_eq!(broadcasts[0].payload["payload"]["id"], "m");
}

#[test]
fn disconnect_is_final() {
    let mut connection = joined();
    let commands = connection.disconnect();
    assert_eq!(sent_events(&commands, "phx_leave").len(), 1);
    assert!(commands.contains(&Command::Close));
    assert_eq!(connection.state(), ConnectionState::Stopped);
    assert!(connection.probe().is_empty());
    assert!(connection.socket_closed().is_empty());
    assert!(connection.timer_fired(Timer::Reconnect).is_empty());
}

#[test]
fn the_description_names_the_socket_and_each_channel() {
    let connection = joined();
    let text = connection.describe();
    assert!(text.starts_with("socket: Open (protocol 2.0.0)"), "{text}");
    assert!(text.contains(&format!("{TOPIC}: Joined")), "{text}");
}
