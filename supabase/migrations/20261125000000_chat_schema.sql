-- Coach Chat schema: profiles, one conversation per trainer–client pair, messages.
-- Valid for hosted Supabase (`supabase db push`) and for localbase.

create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  full_name text not null default '' check (length(full_name) <= 200),
  role text not null check (role in ('trainer', 'client')),
  last_seen_at timestamptz
);

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  trainer_id uuid not null references public.profiles on delete cascade,
  client_id uuid not null references public.profiles on delete cascade,
  created_at timestamptz not null default now(),
  unique (trainer_id, client_id),
  check (trainer_id <> client_id)
);

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations on delete cascade,
  sender_id uuid not null default auth.uid() references public.profiles,
  -- 1–4000 characters and not only whitespace (btrim alone would let "\n" through).
  body text not null check (length(body) between 1 and 4000 and body ~ '\S'),
  created_at timestamptz not null default now(),
  read_at timestamptz
);

-- "latest N of a conversation" and "newer than X" both walk this index.
create index messages_conversation_created on public.messages (conversation_id, created_at desc, id desc);
create index messages_unread on public.messages (conversation_id, sender_id) where read_at is null;
create index conversations_client on public.conversations (client_id);

-- Profiles are created from the sign-up metadata ({"full_name": .., "role": ..}).
create function public.handle_new_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, full_name, role)
  values (
    new.id,
    coalesce(new.raw_user_meta_data ->> 'full_name', ''),
    case when new.raw_user_meta_data ->> 'role' = 'trainer' then 'trainer' else 'client' end
  );
  return new;
end;
$$;

create trigger on_auth_user_created
after insert on auth.users
for each row execute function public.handle_new_user();

-- Security definer so policies can ask it without recursing into conversations' own RLS.
create function public.is_participant(conversation uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (
    select 1 from public.conversations c
    where c.id = conversation and (select auth.uid()) in (c.trainer_id, c.client_id)
  );
$$;

-- Privileges: nothing for anon; authenticated may only touch the columns the app writes.
revoke all on public.profiles, public.conversations, public.messages from anon;
revoke insert, update, delete on public.profiles, public.conversations, public.messages from authenticated;
grant select on public.profiles, public.conversations, public.messages to authenticated;
grant update (full_name, last_seen_at) on public.profiles to authenticated;
grant insert (id, conversation_id, body) on public.messages to authenticated;
grant update (read_at) on public.messages to authenticated;

alter table public.profiles enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;

create policy "see own profile and conversation partners" on public.profiles
for select to authenticated using (
  id = (select auth.uid())
  or exists (
    select 1 from public.conversations c
    where (c.trainer_id = (select auth.uid()) and c.client_id = profiles.id)
       or (c.client_id = (select auth.uid()) and c.trainer_id = profiles.id)
  )
);

create policy "update own profile" on public.profiles
for update to authenticated
using (id = (select auth.uid())) with check (id = (select auth.uid()));

create policy "participants see their conversations" on public.conversations
for select to authenticated using ((select auth.uid()) in (trainer_id, client_id));

create policy "participants read messages" on public.messages
for select to authenticated using (public.is_participant(conversation_id));

create policy "participants send as themselves" on public.messages
for insert to authenticated with check (
  sender_id = (select auth.uid()) and read_at is null and public.is_participant(conversation_id)
);

create policy "recipients mark messages read" on public.messages
for update to authenticated
using (public.is_participant(conversation_id) and sender_id <> (select auth.uid()))
with check (public.is_participant(conversation_id) and sender_id <> (select auth.uid()));

-- The conversation list in one round trip; unread counts come from the database.
create function public.conversation_summaries()
returns table (
  conversation_id uuid,
  other_id uuid,
  other_name text,
  other_role text,
  last_body text,
  last_sender_id uuid,
  last_at timestamptz,
  unread_count bigint
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
      where u.conversation_id = c.id and u.read_at is null and u.sender_id <> (select auth.uid()))
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

-- Marks everything the other person sent in a conversation as read; returns the ids it marked.
create function public.mark_conversation_read(conversation uuid)
returns setof uuid
language sql volatile security invoker set search_path = '' as $$
  update public.messages set read_at = now()
  where conversation_id = conversation and read_at is null and sender_id <> (select auth.uid())
  returning id;
$$;

revoke execute on function public.conversation_summaries() from anon, public;
revoke execute on function public.mark_conversation_read(uuid) from anon, public;
grant execute on function public.conversation_summaries() to authenticated;
grant execute on function public.mark_conversation_read(uuid) to authenticated;
