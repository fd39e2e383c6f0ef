-- The conversation list without a row-level-security check per message: 202 conversations
-- took 15 ms (two `is_participant` calls per conversation), now 3 ms. The function runs as
-- its owner and keeps to the caller's own conversations itself: those where auth.uid() is
-- trainer or client, the other person's profile, and messages of exactly those. Without a
-- user (auth.uid() is null) nothing matches; anon may not call it at all.
create or replace function public.conversation_summaries()
returns table (
  conversation_id uuid,
  other_id uuid,
  other_name text,
  other_role text,
  last_body text,
  last_sender_id uuid,
  last_at timestamptz,
  unread_count bigint,
  other_last_seen_at timestamptz
)
language sql stable security definer set search_path = '' as $$
  with me as (select auth.uid() as id)
  select
    c.id,
    p.id,
    p.full_name,
    p.role,
    last.body,
    last.sender_id,
    coalesce(last.created_at, c.created_at),
    (select count(*) from public.messages u
      where u.conversation_id = c.id and u.read_at is null and u.sender_id <> me.id),
    p.last_seen_at
  from me
  join public.conversations c on me.id in (c.trainer_id, c.client_id)
  join public.profiles p
    on p.id = case when c.trainer_id = me.id then c.client_id else c.trainer_id end
  left join lateral (
    select m.body, m.sender_id, m.created_at from public.messages m
    where m.conversation_id = c.id
    order by m.created_at desc, m.id desc
    limit 1
  ) last on true
  order by coalesce(last.created_at, c.created_at) desc;
$$;

revoke execute on function public.conversation_summaries() from anon, public;
grant execute on function public.conversation_summaries() to authenticated;
