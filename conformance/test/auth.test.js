// GoTrue as supabase-js's auth-js drives it: password sign-in, refresh rotation, the
// current user, sign-out scopes, sign-up and user updates.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { client, signedIn, freshEmail, rawFetch, anonKey, TRAINER, CLIENT, PASSWORD } from '../lib/env.js'

test('signInWithPassword returns a session with the seeded user', async () => {
  const { session, user } = await signedIn(TRAINER)
  assert.equal(session.token_type, 'bearer')
  assert.equal(user.email, TRAINER)
  assert.equal(user.user_metadata.full_name, 'Мария Петрова')
  assert.ok(session.expires_at > Date.now() / 1000, 'expires in the future')
  const claims = JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url'))
  assert.equal(claims.role, 'authenticated')
  assert.equal(claims.sub, user.id)
  assert.ok(claims.session_id, 'access token names its session')
})

test('a wrong password is invalid_credentials (400)', async () => {
  const { data, error } = await client().auth.signInWithPassword({ email: TRAINER, password: 'wrong' })
  assert.equal(data.session, null)
  assert.equal(error.name, 'AuthApiError')
  assert.equal(error.status, 400)
  assert.equal(error.code, 'invalid_credentials')
  assert.equal(error.message, 'Invalid login credentials')
})

test('refreshSession rotates the refresh token; a lost answer can be asked for again; older tokens are refused', async () => {
  const { supabase, session } = await signedIn(CLIENT)
  const { data, error } = await supabase.auth.refreshSession({ refresh_token: session.refresh_token })
  assert.equal(error, null)
  assert.notEqual(data.session.refresh_token, session.refresh_token)
  assert.equal(data.user.email, CLIENT)

  // As GoTrue: the parent of the session's active token gets that same token back (the
  // client never saw the answer to its refresh).
  const again = await client().auth.refreshSession({ refresh_token: session.refresh_token })
  assert.equal(again.error, null)
  assert.equal(again.data.session.refresh_token, data.session.refresh_token)

  // Two rotations old (and no reuse interval: run.sh sets it to 0) is theft: the
  // session's whole token family is revoked.
  const next = await client().auth.refreshSession({ refresh_token: data.session.refresh_token })
  assert.equal(next.error, null)
  const reuse = await client().auth.refreshSession({ refresh_token: session.refresh_token })
  assert.equal(reuse.data.session, null)
  assert.equal(reuse.error.code, 'refresh_token_already_used')
  assert.equal(reuse.error.status, 400)
  const family = await client().auth.refreshSession({ refresh_token: next.data.session.refresh_token })
  assert.equal(family.error?.code, 'refresh_token_already_used')

  const unknown = await client().auth.refreshSession({ refresh_token: 'no-such-token' })
  assert.equal(unknown.error.code, 'refresh_token_not_found')
})

test('getUser returns the user of the access token, and refuses a forged one', async () => {
  const { supabase, session } = await signedIn(CLIENT)
  const { data, error } = await supabase.auth.getUser()
  assert.equal(error, null)
  assert.equal(data.user.email, CLIENT)
  assert.deepEqual(data.user.app_metadata.providers, ['email'])
  assert.equal(data.user.identities[0].provider, 'email')
  assert.equal(data.user.identities[0].identity_data.email, CLIENT)

  const forged = await client().auth.getUser(session.access_token.slice(0, -4) + 'AAAA')
  assert.equal(forged.data.user, null)
  assert.equal(forged.error.status, 403)
  assert.equal(forged.error.code, 'bad_jwt')
})

test('signUp auto-confirms and signs in; a taken e-mail is user_already_exists', async () => {
  const email = freshEmail('signup')
  const supabase = client()
  const { data, error } = await supabase.auth.signUp({
    email,
    password: 'a-good-password',
    options: { data: { full_name: 'New Person' } },
  })
  assert.equal(error, null)
  assert.ok(data.session?.access_token, 'auto-confirmed sign-up returns a session')
  assert.equal(data.user.email, email)
  assert.ok(data.user.email_confirmed_at)
  assert.equal(data.user.user_metadata.full_name, 'New Person')

  // The database trigger made a profile, readable by its owner.
  const profile = await supabase.from('profiles').select('full_name,role').eq('id', data.user.id).single()
  assert.deepEqual(profile.data, { full_name: 'New Person', role: 'trainer' }) // a sign-up trains; clients are invited

  const again = await client().auth.signUp({ email: email.toUpperCase(), password: 'a-good-password' })
  assert.equal(again.error.code, 'user_already_exists')
  assert.equal(again.error.status, 422)
  assert.equal(again.error.message, 'User already registered')

  const signIn = await client().auth.signInWithPassword({ email, password: 'a-good-password' })
  assert.equal(signIn.error, null)
})

test('signUp refuses weak passwords and malformed e-mails', async () => {
  const weak = await client().auth.signUp({ email: freshEmail('weak'), password: '12345' })
  assert.equal(weak.error.code, 'weak_password')
  assert.equal(weak.error.status, 422)
  assert.deepEqual(weak.error.reasons, ['length'])

  const malformed = await client().auth.signUp({ email: 'not-an-email', password: 'a-good-password' })
  assert.equal(malformed.error.code, 'validation_failed')
  assert.equal(malformed.error.status, 400)
})

test('updateUser changes metadata, password and e-mail', async () => {
  const email = freshEmail('update')
  const supabase = client()
  await supabase.auth.signUp({ email, password: 'first-password' })

  const meta = await supabase.auth.updateUser({ data: { full_name: 'Renamed', theme: 'dark' } })
  assert.equal(meta.error, null)
  assert.equal(meta.data.user.user_metadata.full_name, 'Renamed')
  assert.equal(meta.data.user.user_metadata.theme, 'dark')

  const password = await supabase.auth.updateUser({ password: 'second-password' })
  assert.equal(password.error, null)
  const old = await client().auth.signInWithPassword({ email, password: 'first-password' })
  assert.equal(old.error.code, 'invalid_credentials')

  const newEmail = freshEmail('moved')
  const moved = await supabase.auth.updateUser({ email: newEmail })
  assert.equal(moved.error, null)
  assert.equal(moved.data.user.email, newEmail)
  assert.equal(moved.data.user.identities[0].email, newEmail, 'the e-mail identity follows')
  const signIn = await client().auth.signInWithPassword({ email: newEmail, password: 'second-password' })
  assert.equal(signIn.error, null)

  const weak = await supabase.auth.updateUser({ password: '123' })
  assert.equal(weak.error.code, 'weak_password')

  const taken = await supabase.auth.updateUser({ email: TRAINER })
  assert.equal(taken.error.code, 'email_exists')
  assert.equal(taken.error.status, 422)
})

test('signOut (global) ends every session of the user; local keeps the others', async () => {
  const email = freshEmail('signout')
  await client().auth.signUp({ email, password: PASSWORD })
  const first = await signedIn(email)
  const second = await signedIn(email)
  const third = await signedIn(email)

  const local = await third.supabase.auth.signOut({ scope: 'local' })
  assert.equal(local.error, null)
  const thirdRefresh = await client().auth.refreshSession({ refresh_token: third.session.refresh_token })
  assert.ok(thirdRefresh.error, 'the signed-out session cannot refresh')
  const stillThere = await client().auth.refreshSession({ refresh_token: second.session.refresh_token })
  assert.equal(stillThere.error, null, 'local sign-out leaves other sessions alone')

  const global = await first.supabase.auth.signOut()
  assert.equal(global.error, null)
  const ended = await client().auth.getUser(second.session.access_token)
  assert.equal(ended.error?.name, 'AuthSessionMissingError', 'a signed-out session is gone')
  for (const token of [first.session.refresh_token, stillThere.data.session.refresh_token]) {
    const { error } = await client().auth.refreshSession({ refresh_token: token })
    assert.ok(error, 'global sign-out ends every session')
  }
  // Other users are untouched.
  const trainer = await signedIn(TRAINER)
  const { error } = await client().auth.refreshSession({ refresh_token: trainer.session.refresh_token })
  assert.equal(error, null)
})

test('signOut with scope others keeps only the current session', async () => {
  const email = freshEmail('others')
  await client().auth.signUp({ email, password: PASSWORD })
  const keep = await signedIn(email)
  const drop = await signedIn(email)
  const { error } = await keep.supabase.auth.signOut({ scope: 'others' })
  assert.equal(error, null)
  assert.ok((await client().auth.refreshSession({ refresh_token: drop.session.refresh_token })).error)
  assert.equal((await keep.supabase.auth.refreshSession()).error, null)
})

test('error bodies: versioned {code,message} and legacy {code,error_code,msg}', async () => {
  const body = JSON.stringify({ email: TRAINER, password: 'wrong' })
  const post = (headers) =>
    rawFetch('/auth/v1/token?grant_type=password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    })
  const versioned = await post({ 'X-Supabase-Api-Version': '2024-01-01' })
  assert.equal(versioned.status, 400)
  assert.deepEqual(await versioned.json(), { code: 'invalid_credentials', message: 'Invalid login credentials' })
  const legacy = await post({})
  assert.deepEqual(await legacy.json(), {
    code: 400,
    error_code: 'invalid_credentials',
    msg: 'Invalid login credentials',
  })
  const noKey = await fetch(`${new URL('/auth/v1/user', process.env.LOCALBASE_URL ?? 'http://127.0.0.1:54321')}`)
  assert.equal(noKey.status, 401)
  assert.ok(anonKey)
})
