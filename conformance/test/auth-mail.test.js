// GoTrue's password recovery as supabase-js drives it, with the mail read from localbase's
// mail folder (run.sh's LOCALBASE_MAIL_DIR): resetPasswordForEmail, the mailed link's
// redirect with the session in the fragment, verifyOtp with the token hash, one use per
// link, no account enumeration, no open redirect, one mail a minute.
// Fresh sign-ups, not the seeded accounts: other files sign in with "demo-password".
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { client, freshEmail, rawFetch, url } from '../lib/env.js'
import { mailsTo, waitForMails, verifyLink, siteUrl } from '../lib/mail.js'
import { quiet } from '../lib/realtime.js'

const OLD_PASSWORD = 'first-password'

async function account(label) {
  const email = freshEmail(label)
  const { error } = await client().auth.signUp({ email, password: OLD_PASSWORD })
  assert.equal(error, null)
  return email
}

/** Asks for a recovery mail and waits for it: exactly one new message, whose link it returns. */
async function recoveryLink(email, redirectTo) {
  const before = mailsTo(email).length
  const { data, error } = await client().auth.resetPasswordForEmail(email, { redirectTo })
  assert.equal(error, null)
  assert.deepEqual(data, {})
  const mails = await waitForMails(email, before + 1)
  await quiet(300) // a second message would be a bug: give it the time to appear
  assert.equal(mailsTo(email).length, before + 1, 'exactly one new mail')
  const mail = mails.at(-1)
  assert.equal(mail.headers.subject, 'Coach Chat: нова парола / new password')
  assert.equal(mail.headers['list-unsubscribe'], undefined, 'not a mailing list')
  assert.ok(mail.text.indexOf('Изберете нова парола') < mail.text.indexOf('Choose a new password'))
  return verifyLink(mail)
}

/** Opens a link as a browser would, without following the redirect. */
async function open(link) {
  const response = await fetch(link, { redirect: 'manual' })
  assert.equal(response.status, 303)
  const location = new URL(response.headers.get('location'))
  return { location, fragment: new URLSearchParams(location.hash.slice(1)) }
}

function assertExpired(fragment) {
  assert.equal(fragment.get('error'), 'access_denied')
  assert.equal(fragment.get('error_code'), 'otp_expired')
  assert.equal(fragment.get('error_description'), 'Email link is invalid or has expired')
  assert.equal(fragment.get('access_token'), null)
}

test('the mailed recovery link signs in once, and the new password replaces the old one', async () => {
  const email = await account('recover')
  const redirectTo = new URL('/reset-password?from=mail', siteUrl).href
  const link = await recoveryLink(email, redirectTo)
  assert.equal(new URL(link).searchParams.get('type'), 'recovery')
  assert.equal(new URL(link).searchParams.get('redirect_to'), redirectTo)

  // A second request within a minute is refused (GoTrue's per-user mail frequency).
  const again = await client().auth.resetPasswordForEmail(email, { redirectTo })
  assert.equal(again.error?.status, 429)
  assert.equal(again.error.code, 'over_email_send_rate_limit')
  assert.match(again.error.message, /^For security purposes, you can only request this after \d+ seconds\.$/)
  assert.equal(mailsTo(email).length, 1, 'and sends nothing')

  const { location, fragment } = await open(link)
  assert.equal(`${location.origin}${location.pathname}${location.search}`, redirectTo)
  assert.equal(fragment.get('type'), 'recovery')
  assert.equal(fragment.get('token_type'), 'bearer')
  assert.ok(Number(fragment.get('expires_in')) > 0)
  assert.ok(Number(fragment.get('expires_at')) > Date.now() / 1000)

  const supabase = client()
  const set = await supabase.auth.setSession({
    access_token: fragment.get('access_token'),
    refresh_token: fragment.get('refresh_token'),
  })
  assert.equal(set.error, null)
  assert.equal(set.data.user.email, email)
  const updated = await supabase.auth.updateUser({ password: 'second-password' })
  assert.equal(updated.error, null)

  const fresh = await client().auth.signInWithPassword({ email, password: 'second-password' })
  assert.equal(fresh.error, null)
  const old = await client().auth.signInWithPassword({ email, password: OLD_PASSWORD })
  assert.equal(old.error?.code, 'invalid_credentials')

  assertExpired((await open(link)).fragment)
})

test('verifyOtp with the token hash works once; a foreign redirectTo leads to the site', async () => {
  const email = await account('otp')
  const link = await recoveryLink(email, 'https://evil.example/steal')
  assert.equal(new URL(link).searchParams.get('redirect_to'), new URL(siteUrl).href)
  const token_hash = new URL(link).searchParams.get('token')

  const supabase = client()
  const { data, error } = await supabase.auth.verifyOtp({ token_hash, type: 'recovery' })
  assert.equal(error, null)
  assert.equal(data.user.email, email)
  assert.ok(data.session.access_token)
  const user = await supabase.auth.getUser()
  assert.equal(user.data.user.email, email)

  const twice = await client().auth.verifyOtp({ token_hash, type: 'recovery' })
  assert.equal(twice.data.session, null)
  assert.equal(twice.error.status, 403)
  assert.equal(twice.error.code, 'otp_expired')
  assert.equal(twice.error.message, 'Email link is invalid or has expired')

  // The spent link still redirects, to the site (not the foreign address), with the error.
  const { location, fragment } = await open(link)
  assert.equal(location.origin, new URL(siteUrl).origin)
  assertExpired(fragment)

  const forged = await open(link.replace(/token=[0-9a-f]+/, `token=${'0'.repeat(64)}`))
  assertExpired(forged.fragment)
})

test('an address without an account gets the same answer and no mail', async () => {
  const email = freshEmail('nobody')
  const { data, error } = await client().auth.resetPasswordForEmail(email)
  assert.equal(error, null)
  assert.deepEqual(data, {})
  await quiet(500)
  assert.equal(mailsTo(email).length, 0)

  const malformed = await client().auth.resetPasswordForEmail('not-an-email')
  assert.equal(malformed.error?.status, 400)
  assert.equal(malformed.error.code, 'validation_failed')
})

test('the verify link needs no API key; an unknown type is a validation error', async () => {
  const plain = await fetch(`${url}/auth/v1/verify?token=x&type=recovery`, { redirect: 'manual' })
  assert.equal(plain.status, 303, 'a link opened from a mail carries no apikey')
  const unknown = await rawFetch('/auth/v1/verify?token=x&type=magiclink', { redirect: 'manual' })
  assert.equal(unknown.status, 400)
  assert.equal((await unknown.json()).error_code, 'validation_failed')
})
