-- Replies (issue 12): a message may answer an earlier one of the same conversation. The
-- foreign key over (reply_to, conversation_id) keeps a reply inside its conversation; the
-- original's text is never copied (its edits and deletion show in the quote).
alter table public.messages
  add constraint messages_id_conversation unique (id, conversation_id);

alter table public.messages add column reply_to uuid;

alter table public.messages
  add constraint messages_reply_in_conversation
  foreign key (reply_to, conversation_id) references public.messages (id, conversation_id)
  on delete set null (reply_to);

grant insert (reply_to) on public.messages to authenticated;
