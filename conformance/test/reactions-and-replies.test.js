// Reactions and replies through supabase-js. Reactions: a fixed set, one per person per message, said as the
// wanted state (a retry changes nothing), only by participants, never on a deleted
// message; the other participant hears of each at once, and a gap fill finds them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { admin, signedIn, TRAINER, CLIENT, CLIENT2, CONVERSATION, TRAINER_ID, CLIENT_ID } from '../lib/env.js'
import { subscribe, collect, quiet, closeAll } from '../lib/realtime.js'

let client
let trainer
const created = []
before(async () => {
  ;({ supabase: client } = await signedIn(CLIENT))
  ;({ supabase: trainer } = await signedIn(TRAINER))
})
after(async () => {
  await closeAll(client, trainer)
  if (created.length) await admin().from('messages').delete().in('id', created)
})

async function sent(body) {
  const id = randomUUID()
  created.push(id)
  const { error } = await trainer.from('messages').insert({ id, conversation_id: CONVERSATION, body })
  assert.equal(error, null)
  return id
}

test('one reaction per person, replaced, taken back; a retry changes nothing', async () => {
  const id = await sent('Днес: 5 × 5 клекове')
  const first = await client.rpc('set_reaction', { message: id, emoji: '💪' })
  assert.equal(first.error, null)
  assert.deepEqual(first.data, { [CLIENT_ID]: '💪' })
  const { data: before } = await admin().from('messages').select('updated_at').eq('id', id).single()
  const again = await client.rpc('set_reaction', { message: id, emoji: '💪' })
  assert.deepEqual(again.data, { [CLIENT_ID]: '💪' })
  const { data: after } = await admin().from('messages').select('updated_at').eq('id', id).single()
  assert.equal(after.updated_at, before.updated_at, 'a retry writes nothing')
  await trainer.rpc('set_reaction', { message: id, emoji: '👍' })
  const replaced = await client.rpc('set_reaction', { message: id, emoji: '❤️' })
  assert.deepEqual(replaced.data, { [CLIENT_ID]: '❤️', [TRAINER_ID]: '👍' })
  const taken = await client.rpc('set_reaction', { message: id, emoji: null })
  assert.deepEqual(taken.data, { [TRAINER_ID]: '👍' })
  const row = await client.from('messages').select('reactions').eq('id', id).single()
  assert.deepEqual(row.data.reactions, { [TRAINER_ID]: '👍' }, 'read with the message')
})

test('only the fixed set, only participants, never on a deleted message, never written directly', async () => {
  const id = await sent('Почивка утре')
  const odd = await client.rpc('set_reaction', { message: id, emoji: '🤡' })
  assert.equal(odd.error?.message, 'reaction_not_allowed')
  const { supabase: stranger } = await signedIn(CLIENT2)
  const foreign = await stranger.rpc('set_reaction', { message: id, emoji: '👍' })
  assert.equal(foreign.error?.code, '42501')
  const direct = await client.from('messages').update({ reactions: { [CLIENT_ID]: '🤡' } }).eq('id', id)
  assert.equal(direct.error?.code, '42501', 'no column grant')
  await trainer.from('messages').update({ deleted_at: new Date().toISOString() }).eq('id', id)
  const late = await client.rpc('set_reaction', { message: id, emoji: '👍' })
  assert.equal(late.error?.message, 'message_deleted')
  await closeAll(stranger)
})

test('the other participant hears of it on their inbox; a gap fill finds what changed', async () => {
  const id = await sent('Как е коляното?')
  const since = new Date().toISOString()
  const inbox = trainer.channel(`user:${TRAINER_ID}`, { config: { private: true } })
  const announced = collect(inbox, 'broadcast', { event: 'message_changed' })
  assert.equal((await subscribe(inbox)).status, 'SUBSCRIBED')
  await quiet(200)
  await client.rpc('set_reaction', { message: id, emoji: '🙏' })
  const heard = await announced.next(5000)
  assert.equal(heard?.payload.id, id)
  assert.deepEqual(heard.payload.reactions, { [CLIENT_ID]: '🙏' })
  // Created before `since`, changed after: found by updated_at.
  const gap = await trainer.from('messages').select('id, reactions')
    .eq('conversation_id', CONVERSATION).or(`created_at.gte.${since},updated_at.gte.${since}`)
  assert.ok(gap.data.some((m) => m.id === id && m.reactions[CLIENT_ID] === '🙏'), JSON.stringify(gap.data))
})

test('a reply names a message of the same conversation, and only of it', async () => {
  const original = await sent('Колко серии?')
  const id = randomUUID()
  created.push(id)
  const reply = await client.from('messages')
    .insert({ id, conversation_id: CONVERSATION, body: 'Пет', reply_to: original }).select().single()
  assert.equal(reply.error, null)
  assert.equal(reply.data.reply_to, original)
  const { supabase: stranger } = await signedIn(CLIENT2)
  const elsewhere = await stranger.from('messages').insert({
    conversation_id: 'c1000000-0000-4000-8000-000000000002', body: 'пренесен цитат', reply_to: original,
  })
  assert.equal(elsewhere.error?.code, '23503', 'not into another conversation')
  await closeAll(stranger)
})
