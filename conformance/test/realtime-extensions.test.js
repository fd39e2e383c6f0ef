// Realtime features beyond broadcast: postgres_changes, presence and setAuth. Against a
// localbase without them, run with CONFORMANCE_TODO=postgres_changes,presence,setAuth.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { admin, signedIn, todoUnless, TRAINER, CLIENT, CLIENT2, CONVERSATION, CLIENT_ID } from '../lib/env.js'
import { subscribe, collect, quiet, closeAll } from '../lib/realtime.js'

const topic = `conversation:${CONVERSATION}`

for (const vsn of ['1.0.0', '2.0.0']) {
  test(`[vsn ${vsn}] postgres_changes: INSERT reaches a participant, not a stranger`, todoUnless('postgres_changes'), async () => {
    const trainer = (await signedIn(TRAINER, { vsn })).supabase
    const client = (await signedIn(CLIENT, { vsn })).supabase
    const stranger = (await signedIn(CLIENT2, { vsn })).supabase
    const id = randomUUID()
    try {
      const filter = { event: 'INSERT', schema: 'public', table: 'messages', filter: `conversation_id=eq.${CONVERSATION}` }
      const watching = trainer.channel(`db-${randomUUID()}`)
      const changes = collect(watching, 'postgres_changes', filter)
      const spying = stranger.channel(`db-${randomUUID()}`)
      const leaked = collect(spying, 'postgres_changes', filter)
      assert.equal((await subscribe(watching)).status, 'SUBSCRIBED')
      assert.equal((await subscribe(spying)).status, 'SUBSCRIBED')
      await quiet(500) // the subscription rows are written after the join reply

      const { error } = await client.from('messages').insert({ id, conversation_id: CONVERSATION, body: `pg ${vsn}` })
      assert.equal(error, null)
      const change = await changes.next(5000)
      assert.equal(change?.eventType, 'INSERT')
      assert.equal(change.new.id, id)
      assert.equal(change.new.sender_id, CLIENT_ID)
      assert.equal(change.table, 'messages')
      await quiet(500)
      assert.equal(leaked.seen.length, 0, 'RLS keeps the change from a stranger')
    } finally {
      await closeAll(trainer, client, stranger)
      // Later files count the seeded messages; leave none behind.
      await admin().from('messages').delete().eq('id', id)
    }
  })

  test(`[vsn ${vsn}] presence: both participants see each other's state`, todoUnless('presence'), async () => {
    const trainer = (await signedIn(TRAINER, { vsn })).supabase
    const client = (await signedIn(CLIENT, { vsn })).supabase
    try {
      const a = trainer.channel(topic, { config: { private: true, presence: { key: 'trainer' } } })
      const b = client.channel(topic, { config: { private: true, presence: { key: 'client' } } })
      const syncs = collect(b, 'presence', { event: 'sync' })
      assert.equal((await subscribe(a)).status, 'SUBSCRIBED')
      assert.equal((await subscribe(b)).status, 'SUBSCRIBED')
      assert.equal(await a.track({ online_at: 'now' }), 'ok')
      const deadline = Date.now() + 5000
      while (!b.presenceState().trainer && Date.now() < deadline) await syncs.next(500)
      assert.equal(b.presenceState().trainer?.[0]?.online_at, 'now')
    } finally {
      await closeAll(trainer, client)
    }
  })

  test(`[vsn ${vsn}] setAuth with a stranger's token closes the private channel`, todoUnless('setAuth'), async () => {
    const { supabase: client } = await signedIn(CLIENT, { vsn })
    const { session: strangerSession } = await signedIn(CLIENT2)
    try {
      const channel = client.channel(topic, { config: { private: true } })
      const statuses = []
      channel.subscribe((status) => statuses.push(status))
      const deadline = Date.now() + 5000
      while (!statuses.includes('SUBSCRIBED') && Date.now() < deadline) await quiet(50)
      assert.ok(statuses.includes('SUBSCRIBED'))
      await client.realtime.setAuth(strangerSession.access_token)
      const until = Date.now() + 5000
      while (!statuses.some((s) => s === 'CLOSED' || s === 'CHANNEL_ERROR') && Date.now() < until) await quiet(50)
      assert.ok(
        statuses.some((s) => s === 'CLOSED' || s === 'CHANNEL_ERROR'),
        `the channel must end once its token no longer grants the topic: ${statuses}`,
      )
    } finally {
      await closeAll(client)
    }
  })
}
