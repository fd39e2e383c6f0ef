// Mute and pin through supabase-js: each person's own, private to them, kept in the
// database (every device agrees); pinned conversations lead the list.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { admin, signedIn, TRAINER, CLIENT, CLIENT2, CONVERSATION, CONVERSATION2, CLIENT_ID } from '../lib/env.js'
import { subscribe, collect, closeAll } from '../lib/realtime.js'

const opened = []
after(async () => {
  await closeAll(...opened)
  await admin().from('conversation_settings').delete().neq('muted', null)
})

const summary = async (supabase, id) =>
  (await supabase.rpc('conversation_summaries')).data.find((row) => row.conversation_id === id)

test('a person mutes and pins a conversation for themselves alone', async () => {
  const { supabase: client, user } = await signedIn(CLIENT)
  const { supabase: trainer } = await signedIn(TRAINER)
  opened.push(client)
  const inbox = client.channel(`user:${user.id}`, { config: { private: true } })
  const announced = collect(inbox, 'broadcast', { event: 'conversation_settings' })
  assert.equal((await subscribe(inbox)).status, 'SUBSCRIBED')

  const set = await client.rpc('set_conversation_settings', { conversation: CONVERSATION, mute: true, pin: true })
  assert.equal(set.error, null)
  assert.deepEqual(set.data, [{ muted: true, pinned: true }])
  const mine = await summary(client, CONVERSATION)
  assert.equal(mine.muted, true)
  assert.equal(mine.pinned, true)
  const theirs = await summary(trainer, CONVERSATION)
  assert.equal(theirs.muted, false, 'the other participant is not muted by it')
  assert.equal(theirs.pinned, false)
  const peek = await trainer.from('conversation_settings').select('*')
  assert.deepEqual(peek.data, [], 'nor can they see it')
  assert.equal((await announced.next(5000))?.payload.conversation_id, CONVERSATION, 'the other devices hear of it')

  // Only what is given changes.
  const unmuted = await client.rpc('set_conversation_settings', { conversation: CONVERSATION, mute: false })
  assert.deepEqual(unmuted.data, [{ muted: false, pinned: true }])
  const unpinned = await client.rpc('set_conversation_settings', { conversation: CONVERSATION, pin: false })
  assert.deepEqual(unpinned.data, [{ muted: false, pinned: false }])
})

test('nobody sets them for a conversation they are not in, or for someone else', async () => {
  const { supabase: stranger } = await signedIn(CLIENT2)
  const refused = await stranger.rpc('set_conversation_settings', { conversation: CONVERSATION, mute: true })
  assert.equal(refused.error?.code, '42501')
  const forged = await stranger.from('conversation_settings')
    .insert({ user_id: CLIENT_ID, conversation_id: CONVERSATION2, muted: true })
  assert.equal(forged.error?.code, '42501', 'not in another person’s name')
  const sneaked = await stranger.from('conversation_settings').insert({ conversation_id: CONVERSATION, muted: true })
  assert.equal(sneaked.error?.code, '42501', 'not for a conversation of others')
})

test('pinned conversations lead the list; unpinned, it goes back to its place', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const order = async () => (await trainer.rpc('conversation_summaries')).data.map((row) => row.conversation_id)
  const before = await order()
  assert.equal(before.length, 2)
  const last = before[before.length - 1]
  await trainer.rpc('set_conversation_settings', { conversation: last, pin: true })
  assert.equal((await order())[0], last)
  await trainer.rpc('set_conversation_settings', { conversation: last, pin: false })
  assert.deepEqual(await order(), before)
})
