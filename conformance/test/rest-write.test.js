// PostgREST writes as postgrest-js sends them: insert with select, bulk insert, upsert
// (merge and ignore), update, delete, returning preferences and RPC that writes.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { admin, signedIn, rawFetch, serviceKey, TRAINER, CLIENT, CLIENT_ID, TRAINER_ID, CONVERSATION } from '../lib/env.js'

let client
let service
const created = []
before(async () => {
  ;({ supabase: client } = await signedIn(CLIENT))
  service = admin()
})
after(async () => {
  if (created.length) await service.from('messages').delete().in('id', created)
})

const message = (body, extra = {}) => {
  const id = randomUUID()
  created.push(id)
  return { id, conversation_id: CONVERSATION, body, ...extra }
}

test('insert().select() returns the stored row with database defaults', async () => {
  const row = message('from the conformance suite')
  const { data, error, status } = await client.from('messages').insert(row).select().single()
  assert.equal(error, null)
  assert.equal(status, 201)
  assert.equal(data.id, row.id)
  assert.equal(data.sender_id, CLIENT_ID, 'sender_id defaults to auth.uid()')
  assert.equal(data.read_at, null)
  assert.ok(data.created_at)
})

test('insert without select returns nothing (return=minimal)', async () => {
  const { data, error, status } = await client.from('messages').insert(message('minimal'))
  assert.equal(error, null)
  assert.equal(status, 201)
  assert.equal(data, null)
})

test('bulk insert with columns, and missing=default for absent keys', async () => {
  const rows = [message('bulk one'), message('bulk two')]
  const { data, error } = await client.from('messages').insert(rows).select('id, body')
  assert.equal(error, null)
  assert.deepEqual(data.map((r) => r.body).sort(), ['bulk one', 'bulk two'])

  // created_at is absent in the second row: with defaultToNull false it takes its default.
  const past = '2020-01-01T00:00:00+00:00'
  const mixed = [
    message('explicit time', { sender_id: TRAINER_ID, created_at: past }),
    message('default time', { sender_id: TRAINER_ID }),
  ]
  const inserted = await service.from('messages').insert(mixed, { defaultToNull: false }).select('body, created_at')
  assert.equal(inserted.error, null, JSON.stringify(inserted.error))
  const byBody = Object.fromEntries(inserted.data.map((r) => [r.body, r.created_at]))
  assert.equal(new Date(byBody['explicit time']).getTime(), new Date(past).getTime())
  assert.ok(new Date(byBody['default time']).getTime() > Date.now() - 60_000, 'default now()')
  const nulls = await service
    .from('messages')
    .insert([message('given time', { sender_id: TRAINER_ID, created_at: past }), message('null time', { sender_id: TRAINER_ID })])
  assert.equal(nulls.error.code, '23502', 'without missing=default an absent key is null')
})

test('a duplicate id is 23505 → 409', async () => {
  const row = message('twice')
  await client.from('messages').insert(row)
  const { error, status } = await client.from('messages').insert(row)
  assert.equal(status, 409)
  assert.equal(error.code, '23505')
  assert.match(error.message, /duplicate key value violates unique constraint "messages_pkey"/)
  // PostgreSQL hides key values from roles subject to RLS; the service role sees them.
  assert.equal(error.details, null)
  const asService = await service.from('messages').insert({ ...row, sender_id: TRAINER_ID })
  assert.equal(asService.error.details, `Key (id)=(${row.id}) already exists.`)
})

test('upsert merges on conflict, or ignores duplicates', async () => {
  const row = message('original', { sender_id: TRAINER_ID })
  const first = await service.from('messages').upsert(row, { onConflict: 'id' }).select('body')
  assert.deepEqual(first.data, [{ body: 'original' }])
  const merged = await service.from('messages').upsert({ ...row, body: 'merged' }, { onConflict: 'id' }).select('body')
  assert.deepEqual(merged.data, [{ body: 'merged' }])
  const ignored = await service
    .from('messages')
    .upsert({ ...row, body: 'ignored' }, { onConflict: 'id', ignoreDuplicates: true })
    .select('body')
  assert.deepEqual(ignored.data, [], 'an ignored duplicate returns no row')
  const stored = await service.from('messages').select('body').eq('id', row.id).single()
  assert.equal(stored.data.body, 'merged')

  // Without onConflict the primary key is the conflict target.
  const byKey = await service.from('messages').upsert({ ...row, body: 'by primary key' }).select('body')
  assert.deepEqual(byKey.data, [{ body: 'by primary key' }])
})

test('update with filters, returning rows; RLS limits which rows change', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const row = message('to be read')
  await client.from('messages').insert(row)
  const readAt = new Date().toISOString()
  const { data, error } = await trainer.from('messages').update({ read_at: readAt }).eq('id', row.id).select('id, read_at')
  assert.equal(error, null)
  assert.equal(data.length, 1)
  // The database stamps a receipt with its own time (read receipts only go forward).
  assert.ok(Math.abs(new Date(data[0].read_at) - new Date(readAt)) < 5000, data[0].read_at)

  // The sender cannot mark their own message read (they may edit it, not read it).
  const mine = message('my own')
  await client.from('messages').insert(mine)
  const own = await client.from('messages').update({ read_at: readAt }).eq('id', mine.id).select()
  assert.equal(own.error?.code, '42501')

  const noColumn = await trainer.from('messages').update({ nope: 1 }).eq('id', row.id)
  assert.equal(noColumn.error.code, 'PGRST204')
  assert.equal(noColumn.status, 400)
})

test('delete with filters and count', async () => {
  const rows = [message('delete me 1', { sender_id: TRAINER_ID }), message('delete me 2', { sender_id: TRAINER_ID })]
  await service.from('messages').insert(rows)
  const { count, error, status } = await service
    .from('messages')
    .delete({ count: 'exact' })
    .in('id', rows.map((r) => r.id))
  assert.equal(error, null)
  assert.equal(status, 204)
  assert.equal(count, 2)
  const gone = await service.from('messages').select('id').in('id', rows.map((r) => r.id))
  assert.deepEqual(gone.data, [])
})

test('Prefer: return=headers-only answers 201 with a Location and no body', async () => {
  const row = message('headers only', { sender_id: TRAINER_ID })
  const response = await rawFetch('/rest/v1/messages', {
    method: 'POST',
    headers: { Authorization: `Bearer ${serviceKey}`, 'Content-Type': 'application/json', Prefer: 'return=headers-only' },
    body: JSON.stringify(row),
  })
  assert.equal(response.status, 201)
  assert.equal(await response.text(), '')
  assert.equal(response.headers.get('location'), `/messages?id=eq.${row.id}`)
})

test('rpc mark_conversation_read marks the other side’s messages', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const row = message('please read me')
  await client.from('messages').insert(row)
  const { data, error } = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION })
  assert.equal(error, null)
  assert.ok(data.includes(row.id))
  const again = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION })
  assert.deepEqual(again.data, [])
  const wrongArgs = await trainer.rpc('mark_conversation_read', { nope: 1 })
  assert.equal(wrongArgs.error.code, 'PGRST202')
})

test('rpc mark_conversation_read with up_to marks only what the reader has seen', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const seen = message('seen on screen')
  await client.from('messages').insert(seen)
  const later = message('stored while the request travelled')
  await client.from('messages').insert(later)
  const { data, error } = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION, up_to: seen.id })
  assert.equal(error, null)
  assert.ok(data.includes(seen.id))
  assert.ok(!data.includes(later.id), 'the later message stays unread')
  const rest = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION, up_to: later.id })
  assert.deepEqual(rest.data, [later.id])
  const stranger = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION, up_to: randomUUID() })
  assert.deepEqual(stranger.data, [], 'an unknown message marks nothing')
})
