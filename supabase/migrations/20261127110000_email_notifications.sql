-- E-mail notifications: one digest per recipient and conversation for messages still
-- unread after a delay, sent by a notifier (`localbase notify`, or `localbase serve`) that
-- connects with DATABASE_URL as a privileged role. Clients can read and change only their
-- own choices; the bookkeeping below is invisible to them.

alter table public.profiles
  add column email_notifications boolean not null default true,
  -- The language of the e-mails (the app sets it when the person picks one).
  add column language text not null default 'bg' check (language in ('bg', 'en'));

grant update (email_notifications, language) on public.profiles to authenticated;
-- The people one talks to see who one is and when one was last seen, not one's e-mail
-- choices: reading is granted column by column.
revoke select on public.profiles from authenticated;
grant select (id, full_name, role, last_seen_at) on public.profiles to authenticated;

-- How far each recipient's conversation has been covered by digests: a message is in at
-- most one digest (created_at <= covered_up_to means already handled). The notifier locks
-- a row (FOR UPDATE SKIP LOCKED) while it claims, so two notifiers never claim the same
-- messages.
create table public.email_digest_progress (
  recipient_id uuid not null references public.profiles on delete cascade,
  conversation_id uuid not null references public.conversations on delete cascade,
  covered_up_to timestamptz not null default '-infinity',
  primary key (recipient_id, conversation_id)
);

-- Every digest claimed: 'sending' from the claim until the SMTP server accepted it
-- ('sent'). A 'sending' row whose notifier died is never sent again (at most once): see
-- the README.
create table public.email_digests (
  id bigint generated always as identity primary key,
  recipient_id uuid not null references public.profiles on delete cascade,
  conversation_id uuid not null references public.conversations on delete cascade,
  covered_from timestamptz not null,
  covered_up_to timestamptz not null,
  message_count integer not null,
  status text not null default 'sending' check (status in ('sending', 'sent', 'abandoned')),
  claimed_at timestamptz not null default now(),
  sent_at timestamptz
);
create index email_digests_sending on public.email_digests (claimed_at) where status = 'sending';

-- One secret token per person for the one-click unsubscribe link.
create table public.email_unsubscribe_tokens (
  user_id uuid primary key references public.profiles on delete cascade,
  token text not null unique
    default replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')
);

alter table public.email_digest_progress enable row level security;
alter table public.email_digests enable row level security;
alter table public.email_unsubscribe_tokens enable row level security;
revoke all on public.email_digest_progress, public.email_digests, public.email_unsubscribe_tokens
  from anon, authenticated;

-- Unread messages waiting for a digest: from the other participant, unread, older than
-- the delay, not yet covered, to a recipient who wants e-mail and has not been online
-- since the delay began.
create index messages_unread_created on public.messages (created_at) where read_at is null;
