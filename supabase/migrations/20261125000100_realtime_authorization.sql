-- Realtime authorisation: private topics `conversation:{id}` (participants receive and
-- send, broadcast and presence) and `user:{id}` (the owner receives).

-- True when the current user takes part in the conversation named by a
-- `conversation:{uuid}` topic. Anything that is not such a topic is false, never an error.
create function public.is_conversation_topic_participant(topic text) returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  conversation uuid;
begin
  if topic is null or topic !~ '^conversation:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
    return false;
  end if;
  conversation := substr(topic, length('conversation:') + 1)::uuid;
  return public.is_participant(conversation);
end;
$$;

create policy "participants and inbox owners receive" on realtime.messages
for select to authenticated using (
  realtime.messages.extension in ('broadcast', 'presence')
  and (
    public.is_conversation_topic_participant((select realtime.topic()))
    or (select realtime.topic()) = 'user:' || (select auth.uid())::text
  )
);

create policy "participants send" on realtime.messages
for insert to authenticated with check (
  realtime.messages.extension in ('broadcast', 'presence')
  and public.is_conversation_topic_participant((select realtime.topic()))
);

-- Every new message is announced on the recipient's inbox topic, so lists, unread counts
-- and notifications stay live for conversations that are not open.
create function public.announce_message_to_recipient() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  recipient uuid;
begin
  select case when c.trainer_id = new.sender_id then c.client_id else c.trainer_id end
    into recipient
    from public.conversations c where c.id = new.conversation_id;
  perform realtime.send(to_jsonb(new), 'new_message', 'user:' || recipient::text, true);
  return null;
end;
$$;

create trigger messages_announce_to_recipient
after insert on public.messages
for each row execute function public.announce_message_to_recipient();

-- Postgres Changes backup path.
alter publication supabase_realtime add table public.messages;
