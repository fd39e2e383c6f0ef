-- Last seen: kept fresh by the app while it is open (`touch_last_seen`, at most about
-- once a minute), stamped by the server's clock, written only for the caller, and read
-- only by people who share a conversation with them (the profiles policy).

-- Nobody may date their own last_seen_at at will (e.g. "online forever"); only the
-- function below writes it, with now().
revoke update (last_seen_at) on public.profiles from authenticated;

create function public.touch_last_seen() returns timestamptz
language sql volatile security definer set search_path = '' as $$
  update public.profiles set last_seen_at = now()
  where id = (select auth.uid())
    -- a second tab (or a quick reload) within 20 s costs a read, not a write
    and (last_seen_at is null or last_seen_at < now() - interval '20 seconds')
  returning last_seen_at;
$$;

revoke execute on function public.touch_last_seen() from anon, public;
grant execute on function public.touch_last_seen() to authenticated;

-- The list also says when the other person was last seen.
drop function public.conversation_summaries();
create function public.conversation_summaries()
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
language sql stable security invoker set search_path = '' as $$
  select
    c.id,
    p.id,
    p.full_name,
    p.role,
    last.body,
    last.sender_id,
    coalesce(last.created_at, c.created_at),
    (select count(*) from public.messages u
      where u.conversation_id = c.id and u.read_at is null and u.sender_id <> (select auth.uid())),
    p.last_seen_at
  from public.conversations c
  join public.profiles p
    on p.id = case when c.trainer_id = (select auth.uid()) then c.client_id else c.trainer_id end
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
