-- Marking read is about what the reader has seen: the other person's messages up to and
-- including `up_to` (in the conversation's (created_at, id) order), not whatever reached
-- the database while the request travelled — a message stored a moment before the request
-- runs was never on the reader's screen, and must keep its unread badge and its sender's ✓.
-- Without `up_to` (older clients) everything is marked, as before.
drop function public.mark_conversation_read(uuid);

create function public.mark_conversation_read(conversation uuid, up_to uuid default null)
returns setof uuid
language sql volatile security invoker set search_path = '' as $$
  update public.messages set read_at = now()
  where conversation_id = conversation and read_at is null and sender_id <> (select auth.uid())
    and (up_to is null or (created_at, id) <= (
      select seen.created_at, seen.id from public.messages seen
      where seen.id = up_to and seen.conversation_id = conversation))
  returning id;
$$;

revoke execute on function public.mark_conversation_read(uuid, uuid) from anon, public;
grant execute on function public.mark_conversation_read(uuid, uuid) to authenticated;
