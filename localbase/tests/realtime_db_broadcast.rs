//! Broadcast from the database: `realtime.broadcast_changes` in a row trigger reaches the
//! subscribers of its private topic with the row and `meta.id`.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test]
async fn a_row_trigger_broadcasts_its_changes_with_broadcast_changes() {
    let server = TestServer::start().await;
    let (client, client_id) = server.sign_in(CLIENT).await;
    let admin = server.admin().await;
    // A trigger that tells the client (on their inbox topic) about changes of their profile.
    admin
        .batch_execute(
            "create function public.announce_profile() returns trigger language plpgsql as $$
             begin
               perform realtime.broadcast_changes('user:' || coalesce(new.id, old.id)::text, tg_op, tg_op,
                 tg_table_name, tg_table_schema, new, old);
               return null;
             end $$;
             create trigger announce_profile after update on public.profiles
             for each row execute function public.announce_profile();",
        )
        .await
        .unwrap();
    let mut inbox = server.socket("1.0.0").await;
    assert_eq!(
        inbox
            .join_private(&format!("user:{client_id}"), &client)
            .await["status"],
        "ok"
    );

    admin
        .execute(
            "update public.profiles set full_name = 'Иван Г.' where id = $1::text::uuid",
            &[&client_id],
        )
        .await
        .unwrap();
    let frame = inbox
        .expect(
            &format!("realtime:user:{client_id}"),
            "broadcast",
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(frame.payload["event"], "UPDATE");
    let payload = &frame.payload["payload"];
    assert_eq!(payload["operation"], "UPDATE");
    assert_eq!(payload["table"], "profiles");
    assert_eq!(payload["schema"], "public");
    assert_eq!(payload["record"]["full_name"], "Иван Г.");
    assert_eq!(payload["old_record"]["full_name"], "Иван Георгиев");
    assert!(frame.payload["meta"]["id"].is_string());

    let statement_level = admin
        .execute(
            "select realtime.broadcast_changes('t', 'e', 'INSERT', 'x', 'public', null::record, null::record, 'STATEMENT')",
            &[],
        )
        .await;
    assert!(
        statement_level.is_err(),
        "statement-level use is refused, as on Supabase"
    );
}
