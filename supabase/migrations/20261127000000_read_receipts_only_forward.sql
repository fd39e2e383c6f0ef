-- A read receipt is the database's word: it goes from NULL to the moment of reading, once.
-- The recipient may not clear it (making the sender's ✓✓ a ✓ again) or date it at will;
-- whatever time they send, the stored one is the server's.
create function public.guard_read_receipt() returns trigger
language plpgsql set search_path = '' as $$
begin
  if old.read_at is not null and new.read_at is distinct from old.read_at then
    raise exception 'a read receipt cannot be changed'
      using errcode = '42501', hint = 'read_at is set once, by marking the message read';
  end if;
  if old.read_at is null and new.read_at is not null then
    new.read_at := now();
  end if;
  return new;
end;
$$;

create trigger messages_read_receipt_forward_only
before update of read_at on public.messages
for each row execute function public.guard_read_receipt();
