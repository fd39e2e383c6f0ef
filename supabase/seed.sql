-- Demo data: one trainer, two clients, two conversations. Password for all: demo-password.
-- Works with `supabase db reset` (hosted layout of auth.users) and with localbase.

insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  confirmation_token, recovery_token, email_change_token_new, email_change
) values
  ('00000000-0000-0000-0000-000000000000', 'a1000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated',
   'trainer@example.com', extensions.crypt('demo-password', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"]}', '{"full_name":"Мария Петрова","role":"trainer"}', now(), now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', 'a1000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated',
   'client@example.com', extensions.crypt('demo-password', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"]}', '{"full_name":"Иван Георгиев","role":"client"}', now(), now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', 'a1000000-0000-4000-8000-000000000003', 'authenticated', 'authenticated',
   'client2@example.com', extensions.crypt('demo-password', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"]}', '{"full_name":"Елена Димитрова","role":"client"}', now(), now(), '', '', '', '');

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email), 'email', now(), now(), now()
from auth.users u
where u.id in ('a1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000002', 'a1000000-0000-4000-8000-000000000003');

-- Sign-ups are trainer accounts; these two are clients (in the app: by invitation).
update public.profiles set role = 'client'
where id in ('a1000000-0000-4000-8000-000000000002', 'a1000000-0000-4000-8000-000000000003');

insert into public.conversations (id, trainer_id, client_id) values
  ('c1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000002'),
  ('c1000000-0000-4000-8000-000000000002', 'a1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000003');

insert into public.messages (conversation_id, sender_id, body, created_at, read_at) values
  ('c1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000001',
   'Здравей, Иване! Как мина тренировката вчера?', now() - interval '2 hours', now() - interval '110 minutes'),
  ('c1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000002',
   'Добре, но клековете бяха тежки.', now() - interval '100 minutes', now() - interval '90 minutes'),
  ('c1000000-0000-4000-8000-000000000001', 'a1000000-0000-4000-8000-000000000001',
   'Нормално е. Утре намаляваме тежестта с 10%.', now() - interval '80 minutes', null),
  ('c1000000-0000-4000-8000-000000000002', 'a1000000-0000-4000-8000-000000000003',
   'Може ли да преместим четвъртък за 18:00?', now() - interval '1 day', now() - interval '23 hours'),
  ('c1000000-0000-4000-8000-000000000002', 'a1000000-0000-4000-8000-000000000001',
   'Да, ще те чакам в 18:00.', now() - interval '22 hours', null);
