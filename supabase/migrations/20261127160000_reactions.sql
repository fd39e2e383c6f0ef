-- Reactions (issue 12): a small fixed set, one per person per message, set or taken back
-- by `set_reaction`, which says what it should be (not "toggle"), so a retry changes
-- nothing. They live on the message row (`reactions`: user id → emoji), so history, gap
-- fills and Postgres Changes carry them with the message; the other participant's inbox
-- hears of each change at once (`message_changed`). `updated_at` orders copies of a row
-- and lets a gap fill find what changed while a client was away (edits, deletions,
-- receipts, reactions), not only what was new.

alter table public.messages
  add column reactions jsonb not null default '{}'::jsonb check (jsonb_typeof(reactions) = 'object'),
  add column updated_at timestamptz not null default now();

create index messages_conversation_updated on public.messages (conversation_id, updated_at);

create function public.touch_message() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := clock_timestamp();
  return new;
end;
$$;

create trigger messages_touch
before update on public.messages
for each row execute function public.touch_message();

-- A deleted message keeps no reactions either (otherwise as before).
create or replace function public.guard_message_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if current_user <> 'authenticated' then
    return new; -- the service role and the database's own functions
  end if;
  if new.sender_id is distinct from (select auth.uid()) then
    if new.body is distinct from old.body or new.deleted_at is distinct from old.deleted_at then
      raise exception 'message_not_yours' using errcode = '42501';
    end if;
    return new;
  end if;
  if new.read_at is distinct from old.read_at then
    raise exception 'message_not_yours' using errcode = '42501',
      hint = 'only the recipient marks a message read';
  end if;
  if old.deleted_at is not null then
    new.deleted_at := old.deleted_at;
    new.body := old.body;
    return new;
  end if;
  if new.deleted_at is not null then
    new.deleted_at := now();
    new.body := '';
    new.reactions := '{}'::jsonb;
    return new;
  end if;
  if new.body is distinct from old.body then
    if old.created_at < now() - interval '15 minutes' then
      raise exception 'message_edit_too_late' using hint = 'a message can be edited for 15 minutes';
    end if;
    new.edited_at := now();
  end if;
  return new;
end;
$$;

-- The caller's reaction to a message of one of their conversations: `emoji`, or none
-- (null). Answers the message's reactions as they now are.
create function public.set_reaction(message uuid, emoji text default null)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  me text := auth.uid()::text;
  msg public.messages;
  wanted jsonb;
  other uuid;
begin
  select * into msg from public.messages m where m.id = message for update;
  if me is null or msg.id is null or not public.is_participant(msg.conversation_id) then
    raise exception 'message_not_found' using errcode = '42501';
  end if;
  if msg.deleted_at is not null then
    raise exception 'message_deleted';
  end if;
  if emoji is not null and emoji not in ('👍', '❤️', '💪', '😂', '😮', '🙏') then
    raise exception 'reaction_not_allowed';
  end if;
  wanted := case when emoji is null then msg.reactions - me
                 else msg.reactions || jsonb_build_object(me, emoji) end;
  if wanted is distinct from msg.reactions then
    update public.messages m set reactions = wanted where m.id = message returning * into msg;
    select case when c.trainer_id::text = me then c.client_id else c.trainer_id end
      into other
      from public.conversations c where c.id = msg.conversation_id;
    perform realtime.send(to_jsonb(msg), 'message_changed', 'user:' || other::text, true);
  end if;
  return msg.reactions;
end;
$$;

revoke execute on function public.set_reaction(uuid, text) from anon, public;
grant execute on function public.set_reaction(uuid, text) to authenticated;
