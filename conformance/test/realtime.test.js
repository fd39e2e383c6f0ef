// Realtime as realtime-js drives it, with both serializers: private channel joins allowed
// and refused by the `realtime.messages` policies, and broadcast with `self` and `ack`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { signedIn, todoUnless, TRAINER, CLIENT, CLIENT2, CONVERSATION } from '../lib/env.js'
import { subscribe, collect, quiet, closeAll } from '../lib/realtime.js'

const topic = `conversation:${CONVERSATION}`
// vsn 2.0.0 sends broadcasts as binary kind-3 frames (and receives kind-4 ones). Against a
// localbase without binary frames, run with CONFORMANCE_TODO=binary.
const binary = (vsn) => (vsn === '2.0.0' ? todoUnless('binary') : {})

for (const vsn of ['1.0.0', '2.0.0']) {
  test(`[vsn ${vsn}] a participant joins the private conversation channel`, async () => {
    const { supabase } = await signedIn(CLIENT, { vsn })
    try {
      const channel = supabase.channel(topic, { config: { private: true } })
      const { status, err } = await subscribe(channel)
      assert.equal(status, 'SUBSCRIBED', err?.message)
    } finally {
      await closeAll(supabase)
    }
  })

  test(`[vsn ${vsn}] a stranger is refused with the Unauthorized reason`, async () => {
    const { supabase } = await signedIn(CLIENT2, { vsn })
    try {
      const channel = supabase.channel(topic, { config: { private: true } })
      const { status, err } = await subscribe(channel)
      assert.equal(status, 'CHANNEL_ERROR')
      assert.equal(
        err.message,
        `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`,
      )
    } finally {
      await closeAll(supabase)
    }
  })

  test(
    `[vsn ${vsn}] broadcast reaches the other participant, the sender with self, and is acked`,
    binary(vsn),
    async () => {
      const trainer = (await signedIn(TRAINER, { vsn })).supabase
      const client = (await signedIn(CLIENT, { vsn })).supabase
      try {
        const sending = trainer.channel(topic, { config: { private: true, broadcast: { self: true, ack: true } } })
        const own = collect(sending, 'broadcast', { event: 'new_message' })
        const receiving = client.channel(topic, { config: { private: true } })
        const received = collect(receiving, 'broadcast', { event: 'new_message' })
        assert.equal((await subscribe(sending)).status, 'SUBSCRIBED')
        assert.equal((await subscribe(receiving)).status, 'SUBSCRIBED')

        const payload = { id: 'm-1', body: 'здравей', at: vsn }
        const ack = await sending.send({ type: 'broadcast', event: 'new_message', payload })
        assert.equal(ack, 'ok', 'ack: the server confirmed the broadcast')

        const got = await received.next()
        assert.deepEqual(got?.payload, payload)
        assert.equal(got.event, 'new_message')
        assert.equal(got.type, 'broadcast')
        assert.deepEqual((await own.next())?.payload, payload, 'self: the sender hears itself')
        await quiet(300)
        assert.equal(received.seen.length, 1, 'delivered exactly once')
      } finally {
        await closeAll(trainer, client)
      }
    },
  )

  test(`[vsn ${vsn}] without self the sender does not hear its own broadcast`, binary(vsn), async () => {
    const trainer = (await signedIn(TRAINER, { vsn })).supabase
    const client = (await signedIn(CLIENT, { vsn })).supabase
    try {
      const sending = trainer.channel(topic, { config: { private: true, broadcast: { ack: true } } })
      const own = collect(sending, 'broadcast', { event: 'typing' })
      const receiving = client.channel(topic, { config: { private: true } })
      const received = collect(receiving, 'broadcast', { event: 'typing' })
      assert.equal((await subscribe(sending)).status, 'SUBSCRIBED')
      assert.equal((await subscribe(receiving)).status, 'SUBSCRIBED')
      assert.equal(await sending.send({ type: 'broadcast', event: 'typing', payload: { on: true } }), 'ok')
      assert.deepEqual((await received.next())?.payload, { on: true })
      await quiet(300)
      assert.equal(own.seen.length, 0)
    } finally {
      await closeAll(trainer, client)
    }
  })
}
