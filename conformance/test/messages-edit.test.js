// Editing and deleting messages through supabase-js, as the app and a hosted project do:
// only the sender, only the text (for 15 minutes) and the deletion; a deleted message keeps
// its place and loses its text for everyone; the other side hears of it live.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { admin, signedIn, TRAINER, CLIENT, CLIENT2, CONVERSATION, TRAINER_ID } from '../lib/env.js'
import { subscribe, collect, quiet, closeAll } from '../lib/realtime.js'

let client
let trainer
let stranger
const created = []
before(async () => {
  ;({ supabase: client } = await signedIn(CLIENT))
  ;({ supabase: trainer } = await signedIn(TRAINER))
  ;({ supabase: stranger } = await signedIn(CLIENT2))
})
after(async () => {
  await closeAll(client, trainer)
  if (created.length) await admin().from('messages').delete().in('id', created)
})

/** A message the client sent just now. */
async function sent(body) {
  const id = randomUUID()
  created.push(id)
  const { error } = await client.from('messages').insert({ id, conversation_id: CONVERSATION, body })
  assert.equal(error, null)
  return id
}

const stored = async (id) =>
  (await admin().from('messages').select('body, edited_at, deleted_at, read_at').eq('id', id).single()).data

test('the sender edits their message: new text, marked edited by the server', async () => {
  const id = await sent('Тренировка в 18:00')
  const { data, error } = await client.from('messages').update({ body: 'Тренировка в 19:00' }).eq('id', id).select()
  assert.equal(error, null)
  assert.equal(data.length, 1)
  assert.equal(data[0].body, 'Тренировка в 19:00')
  assert.ok(Date.now() - new Date(data[0].edited_at) < 60_000, data[0].edited_at)
  // The same text again (a retried edit) changes nothing, not even the edit time.
  const again = await client.from('messages').update({ body: 'Тренировка в 19:00' }).eq('id', id).select()
  assert.equal(again.data[0].edited_at, data[0].edited_at)
})

test('nobody else edits or deletes it, and nobody touches the other columns', async () => {
  const id = await sent('mine alone')
  const byTrainer = await trainer.from('messages').update({ body: 'rewritten' }).eq('id', id).select()
  assert.equal(byTrainer.error?.code, '42501', 'the recipient may only mark it read')
  const deleteByTrainer = await trainer.from('messages').update({ deleted_at: new Date().toISOString() }).eq('id', id)
  assert.equal(deleteByTrainer.error?.code, '42501')
  const byStranger = await stranger.from('messages').update({ body: 'hijacked' }).eq('id', id).select()
  assert.deepEqual(byStranger.data, [], 'a non-participant does not even see it')
  const edited = await client.from('messages').update({ edited_at: null }).eq('id', id)
  assert.equal(edited.error?.code, '42501', 'the edit mark is the server’s')
  const moved = await client.from('messages').update({ created_at: new Date(0).toISOString() }).eq('id', id)
  assert.equal(moved.error?.code, '42501')
  const impersonated = await client.from('messages').update({ sender_id: TRAINER_ID }).eq('id', id)
  assert.equal(impersonated.error?.code, '42501')
  const asRow = await client.from('messages').delete().eq('id', id).select()
  assert.ok(asRow.error?.code === '42501' || asRow.data?.length === 0, 'rows are never deleted by people')
  assert.equal((await stored(id)).body, 'mine alone')
})

test('editing closes 15 minutes after sending; deleting does not', async () => {
  const id = await sent('a quarter of an hour ago')
  const aged = await admin().from('messages')
    .update({ created_at: new Date(Date.now() - 15 * 60_000 - 5_000).toISOString() }).eq('id', id)
  assert.equal(aged.error, null)
  const late = await client.from('messages').update({ body: 'too late' }).eq('id', id)
  assert.equal(late.error?.message, 'message_edit_too_late')
  assert.equal((await stored(id)).body, 'a quarter of an hour ago')
  const deleted = await client.from('messages').update({ deleted_at: new Date().toISOString() }).eq('id', id).select()
  assert.equal(deleted.error, null)
  assert.equal(deleted.data[0].body, '')
})

test('a deleted message keeps its place, loses its text for both, and stays deleted', async () => {
  const id = await sent('сгреших чата')
  const claimed = new Date(Date.now() - 86_400_000).toISOString()
  const { data, error } = await client.from('messages').update({ deleted_at: claimed }).eq('id', id).select()
  assert.equal(error, null)
  assert.equal(data[0].body, '')
  assert.ok(Date.now() - new Date(data[0].deleted_at) < 60_000, 'the server dates it, not the client')
  const seen = await trainer.from('messages').select('id, body, deleted_at').eq('id', id).single()
  assert.equal(seen.data.body, '', 'the other participant reads no deleted text')
  assert.ok(seen.data.deleted_at)
  const revived = await client.from('messages').update({ deleted_at: null, body: 'back again' }).eq('id', id).select()
  assert.equal(revived.error, null)
  assert.equal(revived.data[0].body, '', 'deletion is for good')
  assert.equal(revived.data[0].deleted_at, data[0].deleted_at, 'a repeated delete changes nothing')
  const read = await trainer.rpc('mark_conversation_read', { conversation: CONVERSATION })
  assert.ok(read.data.includes(id), 'a deleted message can still be marked read')
  const list = await trainer.rpc('conversation_summaries')
  const row = list.data.find((r) => r.conversation_id === CONVERSATION)
  assert.equal(row.last_body, '', 'the list preview has no deleted text either')
})

test('an edit cannot empty a message; that is what deleting is for', async () => {
  const id = await sent('keep me')
  const emptied = await client.from('messages').update({ body: '   ' }).eq('id', id)
  assert.equal(emptied.error?.code, '23514')
  const huge = await client.from('messages').update({ body: 'ж'.repeat(4001) }).eq('id', id)
  assert.equal(huge.error?.code, '23514')
})

test('the recipient hears of edits and deletions live: on the inbox and through Postgres Changes', async () => {
  const { data: { user } } = await trainer.auth.getUser()
  const inbox = trainer.channel(`user:${user.id}`, { config: { private: true } })
  const announced = collect(inbox, 'broadcast', { event: 'message_changed' })
  const changes = trainer.channel(`db-${randomUUID()}`)
  const updates = collect(changes, 'postgres_changes', {
    event: 'UPDATE', schema: 'public', table: 'messages', filter: `conversation_id=eq.${CONVERSATION}`,
  })
  assert.equal((await subscribe(inbox)).status, 'SUBSCRIBED')
  assert.equal((await subscribe(changes)).status, 'SUBSCRIBED')
  await quiet(500) // the subscription rows are written after the join reply
  const id = await sent('first draft')
  await client.from('messages').update({ body: 'second draft' }).eq('id', id)
  await client.from('messages').update({ deleted_at: new Date().toISOString() }).eq('id', id)
  const inboxRows = [await announced.next(5000), await announced.next(5000)]
  assert.deepEqual(inboxRows.map((m) => m?.payload.body), ['second draft', ''])
  assert.ok(inboxRows.every((m) => m.payload.id === id))
  const changed = [await updates.next(5000), await updates.next(5000)]
  assert.deepEqual(changed.map((c) => c?.new.body), ['second draft', ''])
  assert.ok(changed[1].new.deleted_at)
})
