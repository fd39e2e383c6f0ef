//! The outbox rules, including what happens when two tabs share one outbox.

use super::*;

fn row(id: &str, conversation: &str) -> MessageRow {
    row_at(id, conversation, "2026-11-25T10:00:00Z")
}

fn row_at(id: &str, conversation: &str, at: &str) -> MessageRow {
    MessageRow {
        id: id.into(),
        conversation_id: conversation.into(),
        sender_id: "me".into(),
        body: format!("body {id}"),
        created_at: at.into(),
        read_at: None,
    }
}

fn ids(rows: &[MessageRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

fn item_ids(outbox: &Outbox) -> Vec<&str> {
    outbox.items().iter().map(|i| i.row.id.as_str()).collect()
}

/// What storage holds after a tab writes its copy (the last write wins).
fn through_storage(outbox: &Outbox) -> Outbox {
    serde_json::from_str(&serde_json::to_string(outbox).unwrap()).unwrap()
}

#[test]
fn one_message_per_conversation_is_in_flight_in_order() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("a1", "a"), 0.0);
    outbox.enqueue(row("a2", "a"), 0.0);
    outbox.enqueue(row("b1", "b"), 0.0);
    assert_eq!(ids(&outbox.take_due(0.0)), ["a1", "b1"]);
    assert!(
        outbox.take_due(0.0).is_empty(),
        "in flight ones are not sent twice"
    );
    outbox.delivered(row("a1", "a"), 1.0);
    assert_eq!(ids(&outbox.take_due(0.0)), ["a2"]);
}

#[test]
fn network_errors_back_off_with_jitter_and_never_give_up() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("m", "c"), 0.0);
    let mut now = 0.0;
    for _ in 0..50 {
        assert_eq!(outbox.take_due(now).len(), 1);
        assert_eq!(
            outbox.attempt_failed("m", Failure::Network, now, 0.999),
            Verdict::Retry
        );
        let wait = outbox.items()[0].next_attempt_at - now;
        assert!(wait <= 30_000.0, "capped: {wait}");
        assert!(
            outbox.take_due(now + wait - 1.0).is_empty(),
            "not before its time"
        );
        now += wait;
    }
    assert_eq!(retry_delay_ms(1, 0.0), 500.0);
    assert_eq!(retry_delay_ms(3, 0.999_999).round(), 4_000.0);
}

#[test]
fn repeated_server_errors_ask_the_database_before_failing() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("s", "c"), 0.0);
    for attempt in 1..MAX_SERVER_ERRORS {
        outbox.take_due(f64::MAX);
        assert_eq!(
            outbox.attempt_failed("s", Failure::Server, 0.0, 0.5),
            Verdict::Retry,
            "attempt {attempt}"
        );
    }
    outbox.take_due(f64::MAX);
    assert_eq!(
        outbox.attempt_failed("s", Failure::Server, 0.0, 0.5),
        Verdict::Check
    );
    assert!(
        outbox.take_due(f64::MAX).is_empty(),
        "nothing is sent while the database is asked"
    );
    // The 5xx came after the commit: the database has it, so it is delivered, not failed.
    outbox.delivered(row("s", "c"), 1.0);
    assert!(outbox.is_empty());
    assert_eq!(outbox.done()[0].stored.as_ref().unwrap().id, "s");
}

#[test]
fn a_message_the_database_lacks_fails_and_waits_for_the_person() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("s", "c"), 0.0);
    outbox.enqueue(row("r", "d"), 0.0);
    for _ in 0..MAX_SERVER_ERRORS {
        outbox.take_due(f64::MAX);
        outbox.attempt_failed("s", Failure::Server, 0.0, 0.5);
    }
    outbox.give_up("s");
    assert_eq!(
        outbox.attempt_failed("r", Failure::Refused, 0.0, 0.5),
        Verdict::Failed
    );
    assert!(
        outbox.take_due(f64::MAX).is_empty(),
        "failed messages wait for the person"
    );
    outbox.retry("s", 10.0);
    assert_eq!(ids(&outbox.take_due(10.0)), ["s"]);
    outbox.remove("r", 11.0);
    assert!(!outbox.contains("r"));
}

#[test]
fn an_unanswered_check_retries_later() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("s", "c"), 0.0);
    for _ in 0..MAX_SERVER_ERRORS {
        outbox.take_due(f64::MAX);
        outbox.attempt_failed("s", Failure::Server, 0.0, 0.5);
    }
    outbox.check_unanswered("s");
    assert!(!outbox.items()[0].failed);
    assert_eq!(ids(&outbox.take_due(f64::MAX)), ["s"]);
}

#[test]
fn a_failed_message_does_not_block_later_ones() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("first", "c"), 0.0);
    outbox.enqueue(row("second", "c"), 0.0);
    outbox.take_due(0.0);
    outbox.attempt_failed("first", Failure::Refused, 0.0, 0.0);
    assert_eq!(ids(&outbox.take_due(0.0)), ["second"]);
}

#[test]
fn hurry_sends_waiting_messages_now_and_survives_a_round_trip_through_json() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("m", "c"), 0.0);
    outbox.take_due(0.0);
    outbox.attempt_failed("m", Failure::Network, 0.0, 0.5);
    assert!(outbox.take_due(100.0).is_empty());
    outbox.hurry(100.0);
    let mut restored = through_storage(&outbox);
    assert_eq!(
        ids(&restored.take_due(100.0)),
        ["m"],
        "a reload keeps and resends it"
    );
}

#[test]
fn a_released_request_is_sent_again() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("m", "c"), 0.0);
    outbox.take_due(0.0);
    outbox.release("m");
    assert_eq!(ids(&outbox.take_due(0.0)), ["m"]);
}

#[test]
fn messages_are_kept_in_the_order_they_were_written_whichever_tab_wrote_them() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row_at("later", "c", "2026-11-25T10:00:02Z"), 0.0);
    outbox.enqueue(row_at("earlier", "c", "2026-11-25T10:00:01Z"), 0.0);
    assert_eq!(item_ids(&outbox), ["earlier", "later"]);
}

#[test]
fn two_tabs_writing_at_once_lose_nothing() {
    // Both tabs start from the same stored outbox.
    let mut tab_a = Outbox::default();
    tab_a.enqueue(row_at("a", "c", "2026-11-25T10:00:01Z"), 0.0);
    let mut tab_b = through_storage(&tab_a);
    // Each queues a message before seeing the other's write; B writes last.
    tab_a.enqueue(row_at("from-a", "c", "2026-11-25T10:00:02Z"), 0.0);
    tab_b.enqueue(row_at("from-b", "c", "2026-11-25T10:00:03Z"), 0.0);
    let stored = through_storage(&tab_b); // A's write was overwritten
                                          // A hears of B's write: it merges, and writes back what B's copy lacked.
    assert!(tab_a.merge(&stored), "A must write back its message");
    let stored = through_storage(&tab_a);
    assert!(!tab_b.merge(&stored), "B now knows everything A knows");
    assert_eq!(item_ids(&tab_a), ["a", "from-a", "from-b"]);
    assert_eq!(item_ids(&tab_b), item_ids(&tab_a));
}

#[test]
fn a_delivered_or_deleted_message_is_not_brought_back_by_a_stale_copy() {
    let mut sender = Outbox::default();
    sender.enqueue(row("sent", "c"), 0.0);
    sender.enqueue(row("deleted", "d"), 0.0);
    let stale = through_storage(&sender);
    sender.take_due(0.0);
    sender.delivered(row("sent", "c"), 5.0);
    sender.remove("deleted", 6.0);
    assert!(
        sender.merge(&stale),
        "the stale copy must learn what was done"
    );
    assert!(
        sender.is_empty(),
        "nothing resurrected: {:?}",
        sender.items()
    );
    let mut other_tab = stale;
    assert!(!other_tab.merge(&through_storage(&sender)));
    assert!(other_tab.is_empty());
    let delivered = other_tab.done().iter().find(|d| d.id == "sent").unwrap();
    assert_eq!(
        delivered.stored.as_ref().map(|r| r.id.as_str()),
        Some("sent"),
        "the other tab learns the stored row, to show it as sent"
    );
}

#[test]
fn the_newest_state_of_an_item_wins_a_merge_and_in_flight_stays_local() {
    let mut sender = Outbox::default();
    sender.enqueue(row("m", "c"), 0.0);
    let mut viewer = through_storage(&sender);
    sender.take_due(0.0);
    sender.attempt_failed("m", Failure::Refused, 0.0, 0.0);
    assert!(!viewer.merge(&through_storage(&sender)));
    assert!(
        viewer.items()[0].failed,
        "the other tab shows it failed too"
    );
    // The person presses Retry in the other tab; the sending tab takes it.
    viewer.retry("m", 10.0);
    sender.merge(&through_storage(&viewer));
    assert!(!sender.items()[0].failed);
    assert_eq!(ids(&sender.take_due(10.0)), ["m"]);
    assert!(
        !through_storage(&sender).items()[0].in_flight,
        "in flight is this tab's business"
    );
}

#[test]
fn concurrent_changes_of_the_same_revision_settle_on_one_state() {
    let mut base = Outbox::default();
    base.enqueue(row("m", "c"), 0.0);
    base.take_due(0.0);
    base.attempt_failed("m", Failure::Refused, 0.0, 0.0);
    let mut tab_a = through_storage(&base);
    let mut tab_b = through_storage(&base);
    tab_a.retry("m", 10.0);
    tab_b.attempt_failed("m", Failure::Refused, 20.0, 0.0);
    let (a, b) = (through_storage(&tab_a), through_storage(&tab_b));
    tab_a.merge(&b);
    tab_b.merge(&a);
    assert_eq!(tab_a.items(), tab_b.items());
}

#[test]
fn only_the_newest_done_ids_are_remembered() {
    let mut outbox = Outbox::default();
    for n in 0..(DONE_KEPT + 10) {
        outbox.remove(&format!("m{n}"), n as f64);
    }
    assert_eq!(outbox.done().len(), DONE_KEPT);
    assert_eq!(outbox.done()[0].id, "m10");
}
