//! The store's merge rules: one bubble per message, the database's word wins.

use super::*;

fn row(id: &str, at: &str, body: &str) -> MessageRow {
    MessageRow {
        id: id.into(),
        conversation_id: "c".into(),
        sender_id: "u".into(),
        body: body.into(),
        created_at: at.into(),
        read_at: None,
        ..Default::default()
    }
}

fn ids(store: &MessageStore) -> Vec<&str> {
    store.messages().iter().map(|m| m.row.id.as_str()).collect()
}

#[test]
fn the_same_message_from_every_path_is_one_bubble() {
    let mut store = MessageStore::new("c");
    let at = "2026-11-25T10:00:00.000001+00:00";
    assert_eq!(
        store.apply(row("m", at, "hi"), Source::Broadcast),
        Applied::Inserted
    );
    assert_eq!(
        store.apply(row("m", at, "hi"), Source::Database),
        Applied::Updated
    );
    assert_eq!(
        store.apply(row("m", at, "hi"), Source::Broadcast),
        Applied::Unchanged
    );
    assert_eq!(
        store.apply(row("m", at, "hi"), Source::Database),
        Applied::Unchanged
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn orders_by_created_at_then_id_whatever_the_arrival_order() {
    let mut store = MessageStore::new("c");
    store.apply(row("b", "2026-11-25T10:00:02Z", "2"), Source::Broadcast);
    store.apply(row("c", "2026-11-25T10:00:01Z", "1"), Source::Database);
    store.apply(row("a", "2026-11-25T10:00:02Z", "2"), Source::Database);
    store.apply(row("d", "2026-11-25T09:00:00Z", "0"), Source::Database);
    assert_eq!(ids(&store), ["d", "c", "a", "b"]);
}

#[test]
fn database_row_replaces_the_optimistic_copy_and_moves_it() {
    let mut store = MessageStore::new("c");
    store.apply(row("mine", "2026-11-25T10:00:05Z", "hello"), Source::Local);
    store.apply(
        row("theirs", "2026-11-25T10:00:03Z", "yo"),
        Source::Broadcast,
    );
    assert_eq!(ids(&store), ["theirs", "mine"]);
    assert_eq!(store.get("mine").unwrap().send_state, SendState::Pending);
    // The server clock says ours came first.
    store.apply(
        row("mine", "2026-11-25T10:00:01Z", "hello"),
        Source::Database,
    );
    assert_eq!(ids(&store), ["mine", "theirs"]);
    assert_eq!(store.get("mine").unwrap().send_state, SendState::Sent);
    assert_eq!(
        store.gap_fill_since(),
        None,
        "our own inserts are not a read"
    );
}

#[test]
fn a_broadcast_never_downgrades_a_database_row() {
    let mut store = MessageStore::new("c");
    let mut authoritative = row("m", "2026-11-25T10:00:00Z", "real");
    authoritative.read_at = Some("2026-11-25T10:01:00Z".into());
    store.apply(authoritative, Source::Database);
    store.apply(
        row("m", "2026-11-25T10:00:00Z", "forged"),
        Source::Broadcast,
    );
    let kept = store.get("m").unwrap();
    assert_eq!(kept.row.body, "real");
    assert!(kept.is_read(), "read receipts never go back");
}

#[test]
fn gap_fills_start_a_little_before_the_newest_row_read() {
    let mut store = MessageStore::new("c");
    store.apply_read(vec![
        row("a", "2026-11-25T10:00:00Z", "1"),
        row("b", "2026-11-25T10:00:10Z", "2"),
    ]);
    store.apply(
        row("theirs", "2026-11-25T10:05:00Z", "3"),
        Source::Broadcast,
    );
    assert_eq!(
        store.gap_fill_since().as_deref(),
        Some("2026-11-25T10:00:05.000000Z")
    );
    store.apply_read(vec![row("b", "2026-11-25T10:00:10Z", "2")]);
    assert_eq!(store.len(), 3, "the overlap is merged away");
}

#[test]
fn a_gap_fill_never_wedges_unloaded_history_into_the_page() {
    let mut store = MessageStore::new("c");
    // The newest page starts at 10:00:03; older rows of the same burst were not loaded.
    store.apply_read(vec![
        row("p3", "2026-11-25T10:00:03Z", "3"),
        row("p4", "2026-11-25T10:00:04Z", "4"),
    ]);
    // The fill reaches 5 s back: it returns the burst's older rows too, and a new one.
    store.apply_gap(vec![
        row("p1", "2026-11-25T10:00:01Z", "1"),
        row("p3", "2026-11-25T10:00:03Z", "3"),
        row("p4", "2026-11-25T10:00:04Z", "4"),
        row("p5", "2026-11-25T10:00:05Z", "5"),
    ]);
    let bodies: Vec<&str> = store
        .messages()
        .iter()
        .map(|m| m.row.body.as_str())
        .collect();
    assert_eq!(bodies, ["3", "4", "5"]);
    assert_eq!(
        store.gap_fill_since().as_deref(),
        Some("2026-11-25T10:00:00.000000Z")
    );
}

#[test]
fn rows_of_other_conversations_or_bad_timestamps_are_rejected() {
    let mut store = MessageStore::new("c");
    let mut foreign = row("x", "2026-11-25T10:00:00Z", "other");
    foreign.conversation_id = "other".into();
    assert_eq!(store.apply(foreign, Source::Database), Applied::Rejected);
    assert_eq!(
        store.apply(row("y", "soon", "?"), Source::Database),
        Applied::Rejected
    );
    assert!(store.is_empty());
}

#[test]
fn failed_messages_can_be_retried_and_receipts_apply() {
    let mut store = MessageStore::new("c");
    assert!(store.show_unsent(row("new", "2026-11-25T09:00:00Z", "hi"), false));
    assert!(store.show_unsent(row("m", "2026-11-25T10:00:00Z", "hi"), true));
    assert_eq!(store.get("m").unwrap().send_state, SendState::Failed);
    assert!(store.show_unsent(row("m", "2026-11-25T10:00:00Z", "hi"), false));
    assert!(!store.show_unsent(row("m", "2026-11-25T10:00:00Z", "hi"), false));
    assert_eq!(store.get("m").unwrap().send_state, SendState::Pending);
    store.apply(row("gone", "2026-11-25T10:00:01Z", "x"), Source::Local);
    store.remove_local("gone");
    assert!(store.get("gone").is_none());
    store.apply(row("m", "2026-11-25T10:00:00Z", "hi"), Source::Database);
    assert!(store.mark_read(&["m".into(), "unknown".into()], "2026-11-25T10:02:00Z"));
    assert!(
        !store.mark_read(&["m".into()], "2026-11-25T10:03:00Z"),
        "already read"
    );
    assert_eq!(
        store.get("m").unwrap().row.read_at.as_deref(),
        Some("2026-11-25T10:02:00Z")
    );
}

#[test]
fn an_update_changes_a_loaded_row_but_never_adds_one() {
    let mut store = MessageStore::new("c");
    store.apply_read(vec![row("new", "2026-11-25T10:00:00Z", "latest")]);
    let mut read_old = row("old", "2026-11-20T10:00:00Z", "not loaded");
    read_old.read_at = Some("2026-11-25T10:01:00Z".into());
    assert_eq!(store.apply_update(read_old), Applied::Rejected);
    assert_eq!(ids(&store), ["new"], "no hole-making insert into history");
    let mut read_new = row("new", "2026-11-25T10:00:00Z", "latest");
    read_new.read_at = Some("2026-11-25T10:01:00Z".into());
    assert_eq!(store.apply_update(read_new), Applied::Updated);
    assert!(store.get("new").unwrap().is_read());
}

#[test]
fn a_broadcast_message_is_shown_but_the_database_decides_whether_it_stays() {
    let mut store = MessageStore::new("c");
    store.apply(row("real", "2026-11-25T10:00:00Z", "hi"), Source::Broadcast);
    store.apply(
        row("phantom", "2026-11-25T10:00:01Z", "forged"),
        Source::Broadcast,
    );
    store.apply(
        row("confirmed", "2026-11-25T10:00:02Z", "x"),
        Source::Broadcast,
    );
    store.apply(
        row("confirmed", "2026-11-25T10:00:02Z", "x"),
        Source::Database,
    );
    assert_eq!(store.unconfirmed(), ["real", "phantom"]);
    let mut stored = row("real", "2026-11-25T09:59:59Z", "hi");
    stored.sender_id = "u".into();
    store.confirm(&store.unconfirmed(), vec![stored]);
    assert_eq!(ids(&store), ["real", "confirmed"], "the phantom is gone");
    assert_eq!(
        store.get("real").unwrap().sort_key.0,
        parse_micros("2026-11-25T09:59:59Z").unwrap(),
        "the database's timestamp wins"
    );
    assert!(store.unconfirmed().is_empty());
}

#[test]
fn a_broadcast_cannot_mark_anything_read_only_claim_it() {
    let mut store = MessageStore::new("c");
    let mut forged = row("m", "2026-11-25T10:00:00Z", "hi");
    forged.read_at = Some("2026-11-25T10:00:01Z".into());
    store.apply(forged, Source::Broadcast);
    assert!(!store.get("m").unwrap().is_read());

    store.apply(row("mine", "2026-11-25T10:00:02Z", "q"), Source::Database);
    assert!(store.claim_read(&["mine".into(), "unknown".into()]));
    assert!(store.get("mine").unwrap().is_read(), "✓✓ at once");
    assert_eq!(store.unconfirmed(), ["m", "mine"]);
    // The database says it is not read: the claim was false.
    store.confirm(
        &["mine".into()],
        vec![row("mine", "2026-11-25T10:00:02Z", "q")],
    );
    assert!(!store.get("mine").unwrap().is_read());
    // A pending message cannot be claimed read at all.
    store.apply(row("pending", "2026-11-25T10:00:03Z", "p"), Source::Local);
    assert!(!store.claim_read(&["pending".into()]));
}

#[test]
fn older_pages_go_before_the_shown_ones_until_the_first_message() {
    let mut store = MessageStore::new("c");
    let page = |from: usize, count: usize| -> Vec<MessageRow> {
        (from..from + count)
            .map(|i| {
                row(
                    &format!("m{i:03}"),
                    &format!("2026-11-25T10:{:02}:{:02}Z", i / 60, i % 60),
                    &i.to_string(),
                )
            })
            .collect()
    };
    // 120 messages in all; the conversation opens with the newest 50 of them.
    store.apply_history(page(70, 50), HISTORY_PAGE);
    assert!(store.has_older());
    assert_eq!(
        store.oldest_cursor(),
        Some(("2026-11-25T10:01:10Z".into(), "m070".into()))
    );
    store.apply_older(page(20, 50));
    assert!(store.has_older(), "a full page: there may be more");
    store.apply_older(page(0, 20));
    assert!(!store.has_older(), "a short page is the beginning");
    let bodies: Vec<String> = store
        .messages()
        .iter()
        .map(|m| m.row.body.clone())
        .collect();
    let expected: Vec<String> = (0..120).map(|i| i.to_string()).collect();
    assert_eq!(bodies, expected, "whole, in order, nothing twice");
    // A short first answer means there was nothing older at all.
    let mut small = MessageStore::new("c");
    small.apply_history(page(0, 3), HISTORY_PAGE);
    assert!(!small.has_older());
}

#[test]
fn the_first_unread_message_is_the_oldest_unread_one_of_the_other_person() {
    let mut store = MessageStore::new("c");
    let theirs = |id: &str, at: &str, read: bool| {
        let mut row = row(id, at, id);
        row.sender_id = "other".into();
        row.read_at = read.then(|| at.to_string());
        row
    };
    store.apply_history(
        vec![
            theirs("a", "2026-11-25T10:00:01Z", true),
            row("mine", "2026-11-25T10:00:02Z", "unread but mine"),
            theirs("b", "2026-11-25T10:00:03Z", false),
            theirs("c", "2026-11-25T10:00:04Z", false),
        ],
        HISTORY_PAGE,
    );
    assert_eq!(store.first_unread("u").as_deref(), Some("b"));
    store.mark_read(&["b".into(), "c".into()], "2026-11-25T10:01:00Z");
    assert_eq!(store.first_unread("u"), None);
}

#[test]
fn a_conversation_opens_with_enough_to_reach_its_first_unread_message() {
    assert_eq!(first_page_size(0), HISTORY_PAGE);
    assert_eq!(first_page_size(135), 145);
    assert_eq!(first_page_size(100_000), 500);
    assert_eq!(first_page_size(-1), HISTORY_PAGE);
}

#[test]
fn an_edit_or_deletion_is_not_undone_by_an_older_copy() {
    let mut store = MessageStore::new("c");
    let at = "2026-11-25T10:00:00Z";
    store.apply_history(vec![row("m", at, "в 18:00")], HISTORY_PAGE);
    let mut edited = row("m", at, "в 19:00");
    edited.edited_at = Some("2026-11-25T10:01:00Z".into());
    assert_eq!(store.apply_update(edited.clone()), Applied::Updated);
    // A gap read taken before the edit answers after it.
    store.apply_gap(vec![row("m", at, "в 18:00")]);
    assert_eq!(store.get("m").unwrap().row.body, "в 19:00");
    let mut deleted = row("m", at, "");
    deleted.deleted_at = Some("2026-11-25T10:02:00Z".into());
    store.apply_update(deleted);
    store.apply_update(edited);
    let shown = &store.get("m").unwrap().row;
    assert!(
        shown.is_deleted() && shown.body.is_empty(),
        "deleted for good: {shown:?}"
    );
}

#[test]
fn ones_own_change_shows_at_once_and_a_refusal_brings_the_stored_text_back() {
    let mut store = MessageStore::new("c");
    let at = "2026-11-25T10:00:00Z";
    store.apply_history(vec![row("m", at, "typo")], HISTORY_PAGE);
    let now = "2026-11-25T10:05:00Z";
    assert!(store.show_change("m", Some("fixed"), now));
    assert!(
        !store.show_change("m", Some("fixed"), now),
        "shown once is enough"
    );
    let shown = &store.get("m").unwrap().row;
    assert_eq!(
        (shown.body.as_str(), shown.edited_at.as_deref()),
        ("fixed", Some(now))
    );
    // A copy from before the edit does not undo it while it is on its way.
    store.apply_gap(vec![row("m", at, "typo")]);
    assert_eq!(store.get("m").unwrap().row.body, "fixed");
    // The server refused it (too late): what it has is shown again.
    store.replace(row("m", at, "typo"));
    assert_eq!(store.get("m").unwrap().row.edited_at, None);
    assert!(store.show_change("m", None, now));
    assert!(!store.show_change("m", Some("revived"), now));
    assert!(store.get("m").unwrap().row.is_deleted());
}

#[test]
fn an_unsent_message_edited_before_it_goes_shows_the_new_text_unmarked() {
    let mut store = MessageStore::new("c");
    let at = "2026-11-25T10:00:00Z";
    store.show_unsent(row("m", at, "draft"), false);
    assert!(store.show_unsent(row("m", at, "final"), false));
    let shown = &store.get("m").unwrap().row;
    assert_eq!(
        (shown.body.as_str(), shown.edited_at.as_deref()),
        ("final", None)
    );
}

#[test]
fn reactions_show_at_once_and_an_older_copy_does_not_take_them_back() {
    let mut store = MessageStore::new("c");
    let at = "2026-11-25T10:00:00Z";
    let mut stored = row("m", at, "5 × 5");
    stored.updated_at = Some(at.into());
    store.apply_history(vec![stored.clone()], HISTORY_PAGE);
    assert!(store.show_reaction("m", "me", Some("💪")));
    assert!(!store.show_reaction("m", "me", Some("💪")), "once");
    let mut reacted = stored.clone();
    reacted.reactions.insert("me".into(), "💪".into());
    reacted.reactions.insert("them".into(), "👍".into());
    reacted.updated_at = Some("2026-11-25T10:01:00Z".into());
    store.apply_update(reacted);
    store.apply_gap(vec![stored]); // read before the reactions, answered after
    let shown = &store.get("m").unwrap().row.reactions;
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(store.show_reaction("m", "me", None));
    assert_eq!(store.get("m").unwrap().row.reactions.get("me"), None);
    let before = store.get("m").unwrap().text_tag();
    store.show_reaction("m", "me", Some("😂"));
    assert_ne!(
        store.get("m").unwrap().text_tag(),
        before,
        "the bubble is drawn again"
    );
}
