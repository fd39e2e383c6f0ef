// Row-level security decides, for REST as for the official client: a client of another
// conversation can neither read nor write the trainer–client conversation.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { signedIn, CLIENT2, CLIENT, CONVERSATION, CONVERSATION2 } from '../lib/env.js'

test('client2 reads nothing of the trainer–client conversation', async () => {
  const { supabase } = await signedIn(CLIENT2)
  const messages = await supabase.from('messages').select('*').eq('conversation_id', CONVERSATION)
  assert.equal(messages.error, null)
  assert.deepEqual(messages.data, [])
  const conversation = await supabase.from('conversations').select('*').eq('id', CONVERSATION).maybeSingle()
  assert.equal(conversation.data, null)
  const own = await supabase.from('conversations').select('id')
  assert.deepEqual(own.data, [{ id: CONVERSATION2 }])
  // The list runs as its owner (no per-row policy) and keeps to the caller's conversations.
  const summaries = await supabase.rpc('conversation_summaries')
  assert.deepEqual(summaries.data.map((row) => row.conversation_id), [CONVERSATION2])
})

test('client2 cannot insert into the trainer–client conversation', async () => {
  const { supabase } = await signedIn(CLIENT2)
  const { data, error, status } = await supabase
    .from('messages')
    .insert({ conversation_id: CONVERSATION, body: 'let me in' })
    .select()
  assert.equal(data, null)
  assert.equal(status, 403)
  assert.equal(error.code, '42501')
  assert.match(error.message, /row-level security/)
})

test('a participant cannot send as someone else', async () => {
  const { supabase } = await signedIn(CLIENT)
  const { error } = await supabase
    .from('messages')
    .insert({ conversation_id: CONVERSATION, body: 'as the trainer', sender_id: 'a1000000-0000-4000-8000-000000000001' })
  assert.equal(error.code, '42501', 'sender_id is not a column clients may write')
})
