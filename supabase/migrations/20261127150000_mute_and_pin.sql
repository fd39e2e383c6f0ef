-- Mute and pin (issue 12): per person and conversation, kept in the database so every
-- device of the person agrees. A muted conversation raises no browser notification, no
-- e-mail and no count in the tab title (its unread badge stays); pinned ones lead the list.
-- Each person's settings are theirs alone: the other participant never sees them.

create table public.conversation_settings (
  user_id uuid not null default auth.uid() references public.profiles on delete cascade,
  conversation_id uuid not null references public.conversations on delete cascade,
  muted boolean not null default false,
  pinned_at timestamptz,
  primary key (user_id, conversation_id)
);

alter table public.conversation_settings enable row level security;
create policy "own settings of own conversations" on public.conversation_settings
for all to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()) and public.is_participant(conversation_id));

revoke all on public.conversation_settings from anon, authenticated;
grant select, delete on public.conversation_settings to authenticated;
grant insert (user_id, conversation_id, muted, pinned_at), update (muted, pinned_at)
  on public.conversation_settings to authenticated;

-- Sets what is given (`null`: leave as it is); answers the settings as they now are.
create function public.set_conversation_settings(
  conversation uuid, mute boolean default null, pin boolean default null
)
returns table (muted boolean, pinned boolean)
language plpgsql volatile security invoker set search_path = '' as $$
#variable_conflict use_column
begin
  if not public.is_participant(conversation) then
    raise exception 'conversation_not_found' using errcode = '42501';
  end if;
  insert into public.conversation_settings as s (user_id, conversation_id, muted, pinned_at)
  values (auth.uid(), conversation, coalesce(mute, false), case when pin then now() end)
  on conflict (user_id, conversation_id) do update set
    muted = coalesce(mute, s.muted),
    pinned_at = case when pin is null then s.pinned_at when pin then coalesce(s.pinned_at, now()) end;
  return query
    select s.muted, s.pinned_at is not null from public.conversation_settings s
    where s.user_id = auth.uid() and s.conversation_id = conversation;
end;
$$;

revoke execute on function public.set_conversation_settings(uuid, boolean, boolean) from anon, public;
grant execute on function public.set_conversation_settings(uuid, boolean, boolean) to authenticated;

-- The person's other devices hear of it on their inbox topic (their lists re-read).
create function public.announce_conversation_settings() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform realtime.send(
    jsonb_build_object('conversation_id', new.conversation_id),
    'conversation_settings', 'user:' || new.user_id::text, true);
  return null;
end;
$$;

create trigger conversation_settings_announce
after insert or update on public.conversation_settings
for each row execute function public.announce_conversation_settings();

-- The list: as before, plus the caller's own settings; pinned conversations first, each
-- group newest first.
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
  other_last_seen_at timestamptz,
  muted boolean,
  pinned boolean
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
    p.last_seen_at,
    coalesce(s.muted, false),
    s.pinned_at is not null
  from me
  join public.conversations c on me.id in (c.trainer_id, c.client_id)
  join public.profiles p
    on p.id = case when c.trainer_id = me.id then c.client_id else c.trainer_id end
  left join public.conversation_settings s
    on s.user_id = me.id and s.conversation_id = c.id
  left join lateral (
    select m.body, m.sender_id, m.created_at from public.messages m
    where m.conversation_id = c.id
    order by m.created_at desc, m.id desc
    limit 1
  ) last on true
  order by s.pinned_at is not null desc, coalesce(last.created_at, c.created_at) desc;
$$;

revoke execute on function public.conversation_summaries() from anon, public;
grant execute on function public.conversation_summaries() to authenticated;
