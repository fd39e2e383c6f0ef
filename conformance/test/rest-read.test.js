// PostgREST reads as postgrest-js sends them: column lists, every filter operator, `not`,
// `or`, ordering, paging, counts, single objects, embedding and RPC.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { signedIn, rawFetch, TRAINER, CLIENT, TRAINER_ID, CLIENT_ID, CONVERSATION, CONVERSATION2 } from '../lib/env.js'

let trainer
before(async () => {
  ;({ supabase: trainer } = await signedIn(TRAINER))
})

// Seed: conversation 1 has 3 messages (trainer, client, trainer; the last unread),
// conversation 2 has 2 (client2, trainer; the last unread). Reads below stay on the seed.
const seeded = () => trainer.from('messages').select('id, body, sender_id, created_at, read_at')

test('select returns only the named columns', async () => {
  const { data, error, status } = await trainer.from('profiles').select('id, full_name').order('full_name')
  assert.equal(error, null)
  assert.equal(status, 200)
  assert.equal(data.length, 3)
  assert.deepEqual(Object.keys(data[0]).sort(), ['full_name', 'id'])
})

test('eq, neq, gt, gte, lt, lte', async () => {
  const { data: all } = await seeded().eq('conversation_id', CONVERSATION).order('created_at')
  assert.equal(all.length, 3)
  const middle = all[1].created_at
  const count = async (query) => {
    const { data, error } = await query
    assert.equal(error, null)
    return data.length
  }
  const inConversation = () => seeded().eq('conversation_id', CONVERSATION)
  assert.equal(await count(inConversation().gt('created_at', middle)), 1)
  assert.equal(await count(inConversation().gte('created_at', middle)), 2)
  assert.equal(await count(inConversation().lt('created_at', middle)), 1)
  assert.equal(await count(inConversation().lte('created_at', middle)), 2)
  assert.equal(await count(inConversation().neq('sender_id', TRAINER_ID)), 1)
  assert.equal(await count(seeded().eq('sender_id', TRAINER_ID)), 3)
})

test('like, ilike (with * and %), is, in', async () => {
  const like = await seeded().like('body', '%18:00%')
  assert.equal(like.data.length, 2)
  const ilike = await seeded().ilike('body', '*ЗДРАВЕЙ*')
  assert.equal(ilike.data.length, 1)
  const unread = await seeded().is('read_at', null)
  assert.equal(unread.data.length, 2)
  const within = await seeded().in('conversation_id', [CONVERSATION, CONVERSATION2])
  assert.equal(within.data.length, 5)
  const quoted = await trainer.from('profiles').select('full_name').in('full_name', ['Иван Георгиев', 'a,b (c)'])
  assert.deepEqual(quoted.data, [{ full_name: 'Иван Георгиев' }])
})

test('not and or, including not inside or', async () => {
  const read = await seeded().not('read_at', 'is', null)
  assert.equal(read.data.length, 3)
  const notIn = await seeded().not('conversation_id', 'in', `(${CONVERSATION})`)
  assert.equal(notIn.data.length, 2)
  const either = await seeded().or(`sender_id.eq.${CLIENT_ID},body.ilike.*18:00*`)
  assert.equal(either.data.length, 3)
  const nested = await seeded().or(`read_at.not.is.null,and(conversation_id.eq.${CONVERSATION2},sender_id.eq.${TRAINER_ID})`)
  assert.equal(nested.data.length, 4)
  const combined = await seeded().eq('conversation_id', CONVERSATION).or('read_at.is.null,body.like.*клековете*')
  assert.equal(combined.data.length, 2)
})

test('order over several columns, nullsFirst, limit and range', async () => {
  const ordered = await seeded()
    .order('read_at', { ascending: false, nullsFirst: true })
    .order('created_at', { ascending: true })
  assert.equal(ordered.error, null)
  assert.equal(ordered.data[0].read_at, null)
  assert.equal(ordered.data[1].read_at, null)
  assert.ok(ordered.data[0].created_at < ordered.data[1].created_at)
  assert.notEqual(ordered.data[2].read_at, null)

  const newest = await seeded().order('created_at', { ascending: false }).limit(2)
  assert.equal(newest.data.length, 2)
  const page = await seeded().order('created_at', { ascending: false }).range(1, 3)
  assert.equal(page.data.length, 3)
  assert.equal(page.data[0].id, newest.data[1].id, 'range(1, 3) starts at the second row')
})

test("count: 'exact' reads the total from Content-Range, also with head", async () => {
  const { data, count, error, status } = await trainer
    .from('messages')
    .select('id', { count: 'exact' })
    .order('created_at')
    .range(0, 1)
  assert.equal(error, null)
  assert.equal(data.length, 2)
  assert.equal(count, 5)
  assert.equal(status, 206, 'a page of a larger result is partial content')

  const head = await trainer.from('messages').select('*', { count: 'exact', head: true }).eq('conversation_id', CONVERSATION)
  assert.equal(head.error, null)
  assert.equal(head.data, null)
  assert.equal(head.count, 3)

  const none = await trainer.from('profiles').select('id', { count: 'exact' }).eq('full_name', 'nobody')
  assert.deepEqual(none.data, [])
  assert.equal(none.count, 0)
})

test('single() and maybeSingle(), with PGRST116 when not exactly one row', async () => {
  const one = await trainer.from('profiles').select('full_name').eq('id', CLIENT_ID).single()
  assert.deepEqual(one.data, { full_name: 'Иван Георгиев' })

  const none = await trainer.from('profiles').select('full_name').eq('full_name', 'nobody').single()
  assert.equal(none.data, null)
  assert.equal(none.status, 406)
  assert.equal(none.error.code, 'PGRST116')
  assert.equal(none.error.message, 'JSON object requested, multiple (or no) rows returned')
  assert.equal(none.error.details, 'The result contains 0 rows')

  const many = await trainer.from('profiles').select('full_name').single()
  assert.equal(many.error.code, 'PGRST116')
  assert.equal(many.error.details, 'The result contains 3 rows')

  const maybe = await trainer.from('profiles').select('full_name').eq('full_name', 'nobody').maybeSingle()
  assert.equal(maybe.error, null)
  assert.equal(maybe.data, null)
  const maybeOne = await trainer.from('profiles').select('full_name').eq('id', TRAINER_ID).maybeSingle()
  assert.deepEqual(maybeOne.data, { full_name: 'Мария Петрова' })
})

test('embedding a to-one relation through a foreign key', async () => {
  const { data, error } = await trainer
    .from('messages')
    .select('body, sender:profiles(full_name)')
    .eq('conversation_id', CONVERSATION)
    .order('created_at')
  assert.equal(error, null)
  assert.deepEqual(data[1], { body: 'Добре, но клековете бяха тежки.', sender: { full_name: 'Иван Георгиев' } })

  // Two foreign keys to profiles: the column name disambiguates.
  const conversation = await trainer
    .from('conversations')
    .select('id, client:profiles!client_id(full_name), trainer:profiles!trainer_id(full_name)')
    .eq('id', CONVERSATION)
    .single()
  assert.equal(conversation.error, null)
  assert.deepEqual(conversation.data.client, { full_name: 'Иван Георгиев' })
  assert.deepEqual(conversation.data.trainer, { full_name: 'Мария Петрова' })

  const ambiguous = await trainer.from('conversations').select('id, profiles(full_name)')
  assert.equal(ambiguous.error.code, 'PGRST201')
  const unrelated = await trainer.from('profiles').select('id, nothing(id)')
  assert.equal(unrelated.error.code, 'PGRST200')
})

test('rpc: conversation_summaries by POST and by GET', async () => {
  const { data, error } = await trainer.rpc('conversation_summaries')
  assert.equal(error, null)
  assert.equal(data.length, 2)
  const withIvan = data.find((row) => row.conversation_id === CONVERSATION)
  assert.equal(withIvan.other_name, 'Иван Георгиев')

  const byGet = await trainer.rpc('conversation_summaries', {}, { get: true })
  assert.equal(byGet.error, null)
  assert.equal(byGet.data.length, 2)

  const filtered = await trainer.rpc('conversation_summaries').eq('other_id', CLIENT_ID).select('other_name')
  assert.deepEqual(filtered.data, [{ other_name: 'Иван Георгиев' }])
})

test('rpc errors: unknown function PGRST202, volatile function by GET refused', async () => {
  const missing = await trainer.rpc('no_such_function')
  assert.equal(missing.error.code, 'PGRST202')
  assert.equal(missing.status, 404)

  const volatile = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION }, { get: true })
  assert.equal(volatile.status, 405)
  assert.equal(volatile.error.code, '25006')
})

test('PostgREST errors: unknown table PGRST205, unknown column 42703, bad filter PGRST100', async () => {
  const table = await trainer.from('nope').select()
  assert.equal(table.error.code, 'PGRST205')
  assert.equal(table.status, 404)
  const column = await trainer.from('messages').select('nope')
  assert.equal(column.error.code, '42703')
  assert.equal(column.status, 400)
  const raw = await rawFetch('/rest/v1/messages?id=wat.1')
  assert.equal(raw.status, 400)
  assert.equal((await raw.json()).code, 'PGRST100')
})

test('anon is refused tables it has no grant on (42501 → 401)', async () => {
  const raw = await rawFetch('/rest/v1/messages?select=id')
  assert.equal(raw.status, 401)
  assert.equal((await raw.json()).code, '42501')
  const { supabase } = await signedIn(CLIENT)
  const forbidden = await supabase.from('messages').delete().eq('conversation_id', CONVERSATION)
  assert.equal(forbidden.status, 403)
  assert.equal(forbidden.error.code, '42501')
})
