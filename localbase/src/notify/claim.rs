//! Claiming digests in the database, so that each unread message is mailed at most once,
//! whatever the number of notifiers and however they crash. A claim is one transaction:
//! the (recipient, conversation) progress rows it works on are locked `FOR UPDATE SKIP
//! LOCKED` (a second notifier skips them), their coverage moves past the claimed messages,
//! and a `sending` digest is recorded. After the SMTP server accepts the mail it becomes
//! `sent`; if the server refused it (nothing sent), the claim is released and retried.

use std::time::Duration;

use deadpool_postgres::Pool;

use super::compose::{Digest, MAX_QUOTED};
use crate::error::Result;

/// Most digests one round claims.
const MAX_PER_ROUND: i64 = 100;

fn interval(delay: Duration) -> String {
    format!("{} seconds", delay.as_secs())
}

/// Claims every digest that is due: messages from the other participant, unread and
/// older than `delay`, not in an earlier digest, to a recipient who wants e-mail and has
/// not been online for `delay`.
pub async fn claim(pool: &Pool, delay: Duration) -> Result<Vec<Digest>> {
    let delay = interval(delay);
    let mut client = pool.get().await?;
    // Progress rows for pairs that may be due (no lock needed: inserting is idempotent).
    client
        .execute(
            "insert into public.email_digest_progress (recipient_id, conversation_id)
             select distinct
               case when c.trainer_id = m.sender_id then c.client_id else c.trainer_id end,
               m.conversation_id
             from public.messages m
             join public.conversations c on c.id = m.conversation_id
             where m.read_at is null and m.deleted_at is null and m.created_at <= now() - $1::text::interval
             on conflict do nothing",
            &[&delay],
        )
        .await?;
    let tx = client.transaction().await?;
    let due = tx
        .query(
            "select p.recipient_id::text, p.conversation_id::text, p.covered_up_to::text
             from public.email_digest_progress p
             join public.profiles r on r.id = p.recipient_id
             where r.email_notifications
               and (r.last_seen_at is null or r.last_seen_at < now() - $1::text::interval)
               and not exists (
                 select 1 from public.conversation_settings s
                 where s.user_id = p.recipient_id and s.conversation_id = p.conversation_id
                   and s.muted)
               and exists (
                 select 1 from public.messages m
                 where m.conversation_id = p.conversation_id and m.sender_id <> p.recipient_id
                   and m.read_at is null and m.deleted_at is null and m.created_at > p.covered_up_to
                   and m.created_at <= now() - $1::text::interval)
             for update of p skip locked
             limit $2",
            &[&delay, &MAX_PER_ROUND],
        )
        .await?;
    let mut digests = Vec::new();
    for row in due {
        let (recipient, conversation): (String, String) = (row.get(0), row.get(1));
        let covered_from: String = row.get(2);
        let messages = tx
            .query(
                "select m.body, count(*) over (), (max(m.created_at) over ())::text, s.full_name
                 from public.messages m join public.profiles s on s.id = m.sender_id
                 where m.conversation_id = $1::text::uuid and m.sender_id <> $2::text::uuid
                   and m.read_at is null and m.deleted_at is null and m.created_at > $3::text::timestamptz
                   and m.created_at <= now() - $4::text::interval
                 order by m.created_at, m.id
                 limit $5",
                &[
                    &conversation,
                    &recipient,
                    &covered_from,
                    &delay,
                    &(MAX_QUOTED as i64),
                ],
            )
            .await?;
        let Some(first) = messages.first() else {
            continue;
        };
        let total: i64 = first.get(1);
        let newest: String = first.get(2);
        let sender_name: String = first.get(3);
        tx.execute(
            "insert into public.email_unsubscribe_tokens (user_id) values ($1::text::uuid)
             on conflict do nothing",
            &[&recipient],
        )
        .await?;
        let who = tx
            .query_opt(
                "select u.email::text, r.full_name, r.language, t.token
                 from auth.users u
                 join public.profiles r on r.id = u.id
                 join public.email_unsubscribe_tokens t on t.user_id = u.id
                 where u.id = $1::text::uuid and u.email is not null",
                &[&recipient],
            )
            .await?;
        let Some(who) = who else {
            continue; // no address to write to
        };
        tx.execute(
            "update public.email_digest_progress set covered_up_to = $3::text::timestamptz
             where recipient_id = $1::text::uuid and conversation_id = $2::text::uuid",
            &[&recipient, &conversation, &newest],
        )
        .await?;
        let id: i64 = tx
            .query_one(
                "insert into public.email_digests
                   (recipient_id, conversation_id, covered_from, covered_up_to, message_count)
                 values ($1::text::uuid, $2::text::uuid, $3::text::timestamptz, $4::text::timestamptz, $5)
                 returning id",
                &[
                    &recipient,
                    &conversation,
                    &covered_from,
                    &newest,
                    &(total as i32),
                ],
            )
            .await?
            .get(0);
        digests.push(Digest {
            id,
            to_email: who.get(0),
            to_name: who.get(1),
            language: who.get(2),
            conversation_id: conversation,
            sender_name,
            bodies: messages.iter().map(|m| m.get(0)).collect(),
            total,
            unsubscribe_token: who.get(3),
        });
    }
    tx.commit().await?;
    Ok(digests)
}

/// The SMTP server accepted the digest.
pub async fn confirm(pool: &Pool, id: i64) -> Result<()> {
    pool.get()
        .await?
        .execute(
            "update public.email_digests set status = 'sent', sent_at = now() where id = $1",
            &[&id],
        )
        .await?;
    Ok(())
}

/// The digest certainly was not sent (the server refused it, or could not be reached):
/// its messages become due again, unless a newer claim covered them meanwhile.
pub async fn release(pool: &Pool, id: i64) -> Result<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "update public.email_digest_progress p set covered_up_to = d.covered_from
         from public.email_digests d
         where d.id = $1 and p.recipient_id = d.recipient_id
           and p.conversation_id = d.conversation_id and p.covered_up_to = d.covered_up_to",
        &[&id],
    )
    .await?;
    tx.execute("delete from public.email_digests where id = $1", &[&id])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Digests still `sending` after `after`: their notifier died between handing the mail
/// to the SMTP server and recording it. Whether it went out is unknown, so they are never
/// sent again (at most once) — marked `abandoned` and counted for the log.
pub async fn abandon_stale(pool: &Pool, after: Duration) -> Result<u64> {
    Ok(pool
        .get()
        .await?
        .execute(
            "update public.email_digests set status = 'abandoned'
             where status = 'sending' and claimed_at < now() - $1::text::interval",
            &[&interval(after)],
        )
        .await?)
}
