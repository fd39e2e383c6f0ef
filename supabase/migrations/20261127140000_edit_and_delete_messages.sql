-- Editing and deleting one's own messages (issue 12). A sender may change the text of a
-- message for 15 minutes after sending it, and delete it at any time; a deleted message
-- keeps its place in the conversation (a "message deleted" placeholder for both people)
-- but not its text. Only the sender may do either, and only these columns change; the
-- other participant may still only mark it read. The server's clock decides everything.

alter table public.messages
  add column edited_at timestamptz,
  add column deleted_at timestamptz;

-- A deleted message has no text left; any other has 1–4000 characters, not only spaces.
alter table public.messages drop constraint messages_body_check;
alter table public.messages add constraint messages_body_check check (
  case when deleted_at is null
    then length(body) between 1 and 4000 and body ~ '\S'
    else body = ''
  end
);

grant update (body, deleted_at) on public.messages to authenticated;

create policy "senders change their own messages" on public.messages
for update to authenticated
using (sender_id = (select auth.uid()) and public.is_participant(conversation_id))
with check (sender_id = (select auth.uid()) and public.is_participant(conversation_id));

-- Column grants are per role, not per policy: this says who may change which column.
-- The sender: the text (within 15 minutes; marked edited) and deletion (for good; the text
-- goes). The recipient: the read receipt only. Sending the same text again changes nothing,
-- so a retried edit is harmless even after the 15 minutes; so is a repeated delete.
create function public.guard_message_change() returns trigger
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

create trigger messages_guard_change
before update on public.messages
for each row execute function public.guard_message_change();

-- The recipient's inbox hears of an edit or a deletion too (their list's preview, and the
-- open conversation, follow it); the row carries no deleted text.
create function public.announce_message_change() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  recipient uuid;
begin
  select case when c.trainer_id = new.sender_id then c.client_id else c.trainer_id end
    into recipient
    from public.conversations c where c.id = new.conversation_id;
  perform realtime.send(to_jsonb(new), 'message_changed', 'user:' || recipient::text, true);
  return null;
end;
$$;

create trigger messages_announce_change
after update of body, deleted_at on public.messages
for each row
when (old.body is distinct from new.body or old.deleted_at is distinct from new.deleted_at)
execute function public.announce_message_change();
