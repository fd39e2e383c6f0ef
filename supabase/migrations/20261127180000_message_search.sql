-- Search (issue 12): the messages of one's own conversations, by any part of a word, in
-- any script and case ("клек" finds "Клекове"), newest first, through a trigram index.
-- Security invoker: row-level security decides what is searchable; deleted text is gone.
create extension if not exists pg_trgm with schema extensions;

create index messages_body_trigrams on public.messages
  using gin (body extensions.gin_trgm_ops) where deleted_at is null;

create function public.search_messages(query text)
returns table (id uuid, conversation_id uuid, sender_id uuid, body text, created_at timestamptz)
language sql stable security invoker set search_path = '' as $$
  select m.id, m.conversation_id, m.sender_id, m.body, m.created_at
  from public.messages m
  where char_length(btrim(query)) between 2 and 100
    and m.deleted_at is null
    and m.body ilike '%' || replace(replace(replace(btrim(query), '\', '\\'), '%', '\%'), '_', '\_') || '%'
  order by m.created_at desc, m.id desc
  limit 50;
$$;

revoke execute on function public.search_messages(text) from anon, public;
grant execute on function public.search_messages(text) to authenticated;
