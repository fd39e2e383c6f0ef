-- Accounts and invitations (issue 12). Anyone may sign up, and a sign-up is a trainer
-- account: the role never comes from the sign-up metadata any more (anyone could write
-- "trainer" there). A client's role comes from the invitation they accept.

create or replace function public.handle_new_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, full_name, role)
  values (new.id, left(btrim(coalesce(new.raw_user_meta_data ->> 'full_name', '')), 80), 'trainer');
  return new;
end;
$$;

-- A name of 1..80 characters, whoever writes it (sign-up metadata, the account screen).
alter table public.profiles
  add constraint profiles_full_name_length check (char_length(full_name) <= 80) not valid;

-- An invitation: a link with a random token (only its SHA-256 is stored), used once,
-- valid for 7 days, revocable while unused.
create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  trainer_id uuid not null references public.profiles (id) on delete cascade,
  token_hash text not null unique,
  email text check (email is null or char_length(email) <= 254),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  used_at timestamptz,
  used_by uuid references public.profiles (id) on delete set null,
  conversation_id uuid references public.conversations (id) on delete set null,
  revoked_at timestamptz
);
create index invitations_trainer on public.invitations (trainer_id, created_at desc);

alter table public.invitations enable row level security;
create policy "trainers see their own invitations" on public.invitations
for select to authenticated using (trainer_id = (select auth.uid()));

-- Reading only, and never the token's hash; everything else goes through the functions.
revoke all on public.invitations from anon, authenticated;
grant select (id, trainer_id, email, created_at, expires_at, used_at, used_by, revoked_at)
  on public.invitations to authenticated;

-- The token of an invitation, as stored.
create function public.invitation_token_hash(token text) returns text
language sql immutable set search_path = '' as $$
  select encode(sha256(convert_to(token, 'UTF8')), 'hex');
$$;

-- A trainer invites a client: the answer holds the token, shown once (only its hash stays).
create function public.create_invitation(client_email text default null)
returns table (invitation_id uuid, token text, expires_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me uuid := auth.uid();
  raw text := encode(extensions.gen_random_bytes(24), 'hex');
  address text := nullif(btrim(client_email), '');
begin
  if me is null or not exists (select 1 from public.profiles p where p.id = me and p.role = 'trainer') then
    raise exception 'only_trainers_invite' using errcode = '42501';
  end if;
  if address is not null and (char_length(address) > 254 or address !~ '^[^@\s]+@[^@\s]+$') then
    raise exception 'invitation_bad_email' using errcode = '22023';
  end if;
  if (select count(*) from public.invitations i
      where i.trainer_id = me and i.used_at is null and i.revoked_at is null and i.expires_at > now()) >= 100 then
    raise exception 'invitation_too_many' using errcode = 'P0001';
  end if;
  return query
    insert into public.invitations (trainer_id, token_hash, email)
    values (me, public.invitation_token_hash(raw), address)
    returning id, raw, expires_at;
end;
$$;

-- A trainer takes back an invitation nobody has used yet.
create function public.revoke_invitation(invitation uuid) returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  update public.invitations set revoked_at = now()
  where id = invitation and trainer_id = (select auth.uid()) and used_at is null and revoked_at is null;
  if not found then
    raise exception 'invitation_not_found' using errcode = 'P0001';
  end if;
end;
$$;

-- The invited person (signed in) accepts: in one transaction the invitation is used and the
-- conversation with the trainer exists. Accepting again by the same person answers the same
-- conversation (a retry after a lost answer); anything else names what is wrong.
create function public.accept_invitation(token text) returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  invitation public.invitations;
  conversation uuid;
begin
  if me is null then
    raise exception 'not_signed_in' using errcode = '42501';
  end if;
  select * into invitation from public.invitations i
  where i.token_hash = public.invitation_token_hash(left(coalesce(token, ''), 200))
  for update;
  if not found then
    raise exception 'invitation_not_found' using errcode = 'P0001';
  end if;
  if invitation.used_by = me then
    return invitation.conversation_id;
  elsif invitation.used_at is not null then
    raise exception 'invitation_used' using errcode = 'P0001';
  elsif invitation.revoked_at is not null then
    raise exception 'invitation_revoked' using errcode = 'P0001';
  elsif invitation.expires_at <= now() then
    raise exception 'invitation_expired' using errcode = 'P0001';
  elsif invitation.trainer_id = me then
    raise exception 'invitation_own' using errcode = 'P0001';
  end if;
  insert into public.conversations (trainer_id, client_id) values (invitation.trainer_id, me)
  on conflict (trainer_id, client_id) do update set trainer_id = excluded.trainer_id
  returning id into conversation;
  -- A new account (nobody to train, nobody invited) becomes the client it was invited as.
  update public.profiles set role = 'client'
  where id = me and role = 'trainer'
    and not exists (select 1 from public.conversations c where c.trainer_id = me)
    and not exists (select 1 from public.invitations i where i.trainer_id = me);
  update public.invitations set used_at = now(), used_by = me, conversation_id = conversation
  where id = invitation.id;
  return conversation;
end;
$$;

revoke execute on function public.create_invitation(text), public.revoke_invitation(uuid),
  public.accept_invitation(text) from anon, public;
grant execute on function public.create_invitation(text), public.revoke_invitation(uuid),
  public.accept_invitation(text) to authenticated;

-- A new conversation shows in both people's lists at once (their inbox topics).
create function public.announce_conversation() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform realtime.send(jsonb_build_object('conversation_id', new.id), 'new_conversation',
    'user:' || new.trainer_id::text, true);
  perform realtime.send(jsonb_build_object('conversation_id', new.id), 'new_conversation',
    'user:' || new.client_id::text, true);
  return null;
end;
$$;

create trigger conversations_announce
after insert on public.conversations
for each row execute function public.announce_conversation();
