// Accounts and invitations through supabase-js, as the app and a hosted project use them:
// a sign-up is a trainer account whatever its metadata says; a client's role and their
// conversation come from an invitation, used once, for 7 days, revocable.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { client, signedIn, admin, freshEmail, CLIENT, TRAINER, TRAINER_ID } from '../lib/env.js'
import { subscribe, collect, closeAll } from '../lib/realtime.js'

/** A new account, signed in: its client and user. */
async function signUp(label, data = {}) {
  const supabase = client()
  const { data: signed, error } = await supabase.auth.signUp({
    email: freshEmail(label),
    password: 'a-good-password',
    options: { data: { full_name: `Person ${label}`, ...data } },
  })
  if (error) throw error
  return { supabase, user: signed.user }
}

const roleOf = async (supabase, id) =>
  (await supabase.from('profiles').select('role').eq('id', id).single()).data.role

async function invite(trainer, email) {
  const { data, error } = await trainer.rpc('create_invitation', email ? { client_email: email } : {})
  assert.equal(error, null)
  assert.equal(data.length, 1)
  assert.match(data[0].token, /^[0-9a-f]{48}$/)
  return data[0]
}

test('a sign-up is a trainer account, whatever its metadata says', async () => {
  const { supabase, user } = await signUp('claims-client', { role: 'client' })
  assert.equal(await roleOf(supabase, user.id), 'trainer')
  const { supabase: other, user: otherUser } = await signUp('claims-admin', { role: 'admin' })
  assert.equal(await roleOf(other, otherUser.id), 'trainer')
})

test('an invitation makes the conversation and the client, once; the trainer sees it used', async () => {
  // A trainer of their own (a sign-up), so the demo trainer's list stays as other files expect.
  const { supabase: trainer, user: coach } = await signUp('coach')
  const inbox = trainer.channel(`user:${coach.id}`, { config: { private: true } })
  const announced = collect(inbox, 'broadcast', { event: 'new_conversation' })
  assert.equal((await subscribe(inbox)).status, 'SUBSCRIBED')

  const invitation = await invite(trainer, 'new.client@example.com')
  const pending = await trainer.from('invitations').select('id, email, used_at, revoked_at').eq('id', invitation.invitation_id)
  assert.deepEqual(pending.data, [{ id: invitation.invitation_id, email: 'new.client@example.com', used_at: null, revoked_at: null }])
  const secret = await trainer.from('invitations').select('token_hash')
  assert.equal(secret.error.code, '42501', 'not even its trainer reads the token hash')

  const { supabase: newcomer, user } = await signUp('invited')
  const accepted = await newcomer.rpc('accept_invitation', { token: invitation.token })
  assert.equal(accepted.error, null)
  const conversation = accepted.data
  assert.equal(await roleOf(newcomer, user.id), 'client', 'the role came from the invitation')
  const theirs = await newcomer.rpc('conversation_summaries')
  assert.deepEqual(theirs.data.map((row) => [row.conversation_id, row.other_id]), [[conversation, coach.id]])
  const mine = await trainer.rpc('conversation_summaries')
  assert.ok(mine.data.some((row) => row.conversation_id === conversation && row.other_id === user.id))
  const event = await announced.next()
  assert.equal(event?.payload?.conversation_id, conversation, 'the trainer’s list hears of it at once')

  const again = await newcomer.rpc('accept_invitation', { token: invitation.token })
  assert.equal(again.data, conversation, 'a retry by the same person answers the same conversation')
  const { supabase: latecomer } = await signUp('late')
  const used = await latecomer.rpc('accept_invitation', { token: invitation.token })
  assert.equal(used.error.message, 'invitation_used')
  assert.equal((await latecomer.rpc('conversation_summaries')).data.length, 0)

  const after = await trainer.from('invitations').select('used_at').eq('id', invitation.invitation_id).single()
  assert.ok(after.data.used_at)
  await closeAll(trainer)
})

test('bad, own, revoked and expired invitations are refused by name', async () => {
  const { supabase: trainer } = await signedIn(TRAINER)
  const { supabase: newcomer } = await signUp('refused')
  const bad = await newcomer.rpc('accept_invitation', { token: 'f'.repeat(48) })
  assert.equal(bad.error.message, 'invitation_not_found')
  assert.equal(bad.status, 400)
  const huge = await newcomer.rpc('accept_invitation', { token: 'x'.repeat(100000) })
  assert.equal(huge.error.message, 'invitation_not_found')

  const own = await invite(trainer)
  assert.equal((await trainer.rpc('accept_invitation', { token: own.token })).error.message, 'invitation_own')

  const revoked = await invite(trainer)
  const { supabase: stranger } = await signUp('stranger-trainer')
  const notTheirs = await stranger.rpc('revoke_invitation', { invitation: revoked.invitation_id })
  assert.equal(notTheirs.error.message, 'invitation_not_found', 'only its trainer revokes it')
  assert.equal((await trainer.rpc('revoke_invitation', { invitation: revoked.invitation_id })).error, null)
  assert.equal((await newcomer.rpc('accept_invitation', { token: revoked.token })).error.message, 'invitation_revoked')

  const expired = await invite(trainer)
  const aged = await admin()
    .from('invitations')
    .update({ expires_at: new Date(Date.now() - 1000).toISOString() })
    .eq('id', expired.invitation_id)
  assert.equal(aged.error, null)
  assert.equal((await newcomer.rpc('accept_invitation', { token: expired.token })).error.message, 'invitation_expired')
  assert.equal((await newcomer.rpc('conversation_summaries')).data.length, 0, 'nothing was joined')
})

test('only trainers invite; nobody sees another trainer’s invitations; anon may not accept', async () => {
  const { supabase: client1 } = await signedIn(CLIENT)
  const refused = await client1.rpc('create_invitation', {})
  assert.equal(refused.error.code, '42501')
  const { supabase: trainer } = await signedIn(TRAINER)
  await invite(trainer)
  const { supabase: stranger } = await signUp('peeker')
  assert.deepEqual((await stranger.from('invitations').select('id')).data, [])
  assert.deepEqual((await client1.from('invitations').select('id')).data, [])
  const forged = await stranger.from('invitations').insert({ trainer_id: TRAINER_ID, token_hash: 'x' })
  assert.equal(forged.error.code, '42501')
  const anon = await client().rpc('accept_invitation', { token: 'f'.repeat(48) })
  assert.equal(anon.status, 401)
  const badEmail = await trainer.rpc('create_invitation', { client_email: 'not an address' })
  assert.equal(badEmail.error.message, 'invitation_bad_email')
})

test('a person renames themselves, within 80 characters, and nobody else', async () => {
  const { supabase, user } = await signUp('renamed')
  const renamed = await supabase.from('profiles').update({ full_name: 'Нов Човек' }).eq('id', user.id)
  assert.equal(renamed.error, null)
  assert.equal((await supabase.from('profiles').select('full_name').eq('id', user.id).single()).data.full_name, 'Нов Човек')
  const long = await supabase.from('profiles').update({ full_name: 'я'.repeat(81) }).eq('id', user.id)
  assert.equal(long.error.code, '23514')
  const { supabase: trainer } = await signedIn(TRAINER)
  const other = await trainer.from('profiles').update({ full_name: 'Hijacked' }).eq('id', user.id).select('id')
  assert.deepEqual(other.data, [], 'another person’s profile is not theirs to rename')
  const role = await supabase.from('profiles').update({ role: 'trainer' }).eq('id', user.id)
  assert.equal(role.error.code, '42501', 'nobody picks their own role')
})
