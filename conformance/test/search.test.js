// Message search through supabase-js: parts of words in any case and script, one's own
// conversations only (row-level security decides), no deleted text, wildcards taken
// literally, an index under it.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { admin, signedIn, TRAINER, CLIENT, CLIENT2, CONVERSATION } from '../lib/env.js'

const created = []
after(async () => {
  if (created.length) await admin().from('messages').delete().in('id', created)
})

async function sent(supabase, body) {
  const id = randomUUID()
  created.push(id)
  const { error } = await supabase.from('messages').insert({ id, conversation_id: CONVERSATION, body })
  assert.equal(error, null)
  return id
}

test('a part of a word finds it, in any case, Cyrillic included; newest first', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const { supabase: client } = await signedIn(CLIENT)
  const older = await sent(trainer, 'Утре: Клекове с щанга, 5 × 5')
  const newer = await sent(client, 'Клековете ме заболяха')
  const { data, error } = await client.rpc('search_messages', { query: 'клек' })
  assert.equal(error, null)
  const ids = data.map((m) => m.id)
  assert.ok(ids.indexOf(newer) >= 0 && ids.indexOf(newer) < ids.indexOf(older), JSON.stringify(data))
  const english = await sent(trainer, 'Deadlift day')
  assert.ok((await client.rpc('search_messages', { query: 'LIFT' })).data.some((m) => m.id === english))
})

test('others’ conversations, deleted text and wildcards find nothing', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const { supabase: stranger } = await signedIn(CLIENT2)
  const secret = await sent(trainer, 'Тайна за коляното')
  assert.deepEqual((await stranger.rpc('search_messages', { query: 'коляно' })).data.filter((m) => m.id === secret), [])
  await trainer.from('messages').update({ deleted_at: new Date().toISOString() }).eq('id', secret)
  assert.deepEqual((await trainer.rpc('search_messages', { query: 'коляно' })).data.filter((m) => m.id === secret), [])
  assert.deepEqual((await trainer.rpc('search_messages', { query: '%' })).data, [], 'a wildcard is a character')
  assert.deepEqual((await trainer.rpc('search_messages', { query: 'a' })).data, [], 'two characters at least')
})
