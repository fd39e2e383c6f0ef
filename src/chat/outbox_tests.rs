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
        ..Default::default()
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

fn change_bodies(outbox: &Outbox) -> Vec<(&str, Option<&str>)> {
    outbox
        .changes()
        .iter()
        .map(|c| (c.id.as_str(), c.body.as_deref()))
        .collect()
}

#[test]
fn an_edit_of_a_message_not_yet_sent_goes_with_it_and_a_deletion_stops_it() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("m", "c"), 0.0);
    outbox.change("m", "c", Some("fixed typo".into()), 1.0);
    assert!(outbox.changes().is_empty(), "no separate edit is needed");
    assert_eq!(outbox.take_due(1.0)[0].body, "fixed typo");

    outbox.enqueue(row("n", "d"), 0.0);
    outbox.change("n", "d", None, 2.0);
    assert!(!outbox.contains("n") && outbox.changes().is_empty());
    assert!(outbox.take_due(3.0).iter().all(|r| r.id != "n"));
}

#[test]
fn an_edit_of_a_message_on_its_way_waits_until_it_is_stored() {
    let mut outbox = Outbox::default();
    outbox.enqueue(row("m", "c"), 0.0);
    assert_eq!(ids(&outbox.take_due(0.0)), ["m"]);
    outbox.change("m", "c", Some("second thoughts".into()), 1.0);
    assert!(
        outbox.take_due_changes(1.0).is_empty(),
        "the insert is in flight"
    );
    outbox.delivered(row("m", "c"), 2.0);
    let due = outbox.take_due_changes(2.0);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].body.as_deref(), Some("second thoughts"));
    outbox.change_done("m", due[0].revision, 3.0);
    assert!(outbox.changes().is_empty() && !outbox.is_blank());
}

#[test]
fn changes_retry_and_the_latest_wins_but_a_deletion_is_final() {
    let mut outbox = Outbox::default();
    outbox.change("m", "c", Some("one".into()), 0.0);
    let first = outbox.take_due_changes(0.0);
    outbox.change("m", "c", Some("two".into()), 1.0);
    // The first answer comes back: the newer text still has to go.
    outbox.change_done("m", first[0].revision, 2.0);
    assert_eq!(change_bodies(&outbox), [("m", Some("two"))]);
    let second = outbox.take_due_changes(2.0);
    outbox.change_failed("m", 3.0, 0.0);
    assert!(outbox.take_due_changes(3.0).is_empty(), "backs off");
    assert_eq!(outbox.take_due_changes(3.0 + 1_000.0).len(), 1);
    assert_eq!(second[0].body.as_deref(), Some("two"));
    outbox.change("m", "c", None, 5_000.0);
    outbox.change("m", "c", Some("three".into()), 5_001.0);
    assert_eq!(
        change_bodies(&outbox),
        [("m", None)],
        "nothing edits a deletion"
    );
}

#[test]
fn tabs_share_changes_and_a_finished_one_is_not_sent_again() {
    let mut first = Outbox::default();
    first.change("m", "c", Some("edited in tab one".into()), 0.0);
    let mut second = Outbox::default();
    assert!(
        !second.merge(&through_storage(&first)),
        "it learnt all, and has nothing new"
    );
    assert_eq!(change_bodies(&second), [("m", Some("edited in tab one"))]);
    // Tab one sends it; tab two's stale copy must not bring it back.
    let due = first.take_due_changes(0.0);
    first.change_done("m", due[0].revision, 1.0);
    first.merge(&through_storage(&second));
    assert!(
        first.changes().is_empty(),
        "resurrected: {:?}",
        first.changes()
    );
    second.merge(&through_storage(&first));
    assert!(second.changes().is_empty());
    // A later edit of the same message is new, and goes.
    second.change("m", "c", Some("again".into()), 2.0);
    first.merge(&through_storage(&second));
    assert_eq!(change_bodies(&first), [("m", Some("again"))]);
    assert!(
        !first.merge(&through_storage(&second)),
        "both know the same"
    );
}
