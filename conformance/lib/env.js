// What every conformance test needs: the server's URL, the keys, and supabase-js clients
// configured as a Node app would configure them.
import { createHmac, randomUUID } from 'node:crypto'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'

export const url = process.env.LOCALBASE_URL ?? 'http://127.0.0.1:54321'

/** The Supabase CLI's well-known local anon key (signed with the CLI's default secret). */
export const anonKey =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0'

export const jwtSecret =
  process.env.JWT_SECRET ?? 'super-secret-jwt-token-with-at-least-32-characters-long'

export const PASSWORD = 'demo-password'
export const TRAINER = 'trainer@example.com'
export const CLIENT = 'client@example.com'
export const CLIENT2 = 'client2@example.com'
export const TRAINER_ID = 'a1000000-0000-4000-8000-000000000001'
export const CLIENT_ID = 'a1000000-0000-4000-8000-000000000002'
export const CLIENT2_ID = 'a1000000-0000-4000-8000-000000000003'
/** trainer ↔ client */
export const CONVERSATION = 'c1000000-0000-4000-8000-000000000001'
/** trainer ↔ client2 */
export const CONVERSATION2 = 'c1000000-0000-4000-8000-000000000002'

const base64url = (value) => Buffer.from(value).toString('base64url')

/** An HS256 JWT signed with the server's secret, as the Supabase dashboard would mint one. */
export function signToken(claims) {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = base64url(JSON.stringify(claims))
  const signature = createHmac('sha256', jwtSecret).update(`${header}.${body}`).digest('base64url')
  return `${header}.${body}.${signature}`
}

/** The service-role key: bypasses RLS; used to arrange and clean up test data. */
export const serviceKey = signToken({ iss: 'supabase-demo', role: 'service_role', exp: 1983812996 })

/**
 * A supabase-js client as a Node app creates it. No persistence and no refresh timer, so a
 * finished test leaves nothing running.
 */
export function client({ key = anonKey, vsn } = {}) {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket, ...(vsn ? { vsn } : {}) },
  })
}

/** A client signed in as `email`; throws if sign-in fails. */
export async function signedIn(email, options = {}) {
  const supabase = client(options)
  const { data, error } = await supabase.auth.signInWithPassword({ email, password: PASSWORD })
  if (error) throw error
  return { supabase, session: data.session, user: data.user }
}

export const admin = () => client({ key: serviceKey })

/** A fresh, unique e-mail address for sign-up tests. */
export const freshEmail = (label = 'user') => `${label}-${randomUUID().slice(0, 8)}@example.com`

/** Raw fetch against localbase with the API key, for what supabase-js hides (headers). */
export function rawFetch(path, { headers = {}, ...init } = {}) {
  return fetch(`${url}${path}`, {
    ...init,
    headers: { apikey: anonKey, Authorization: `Bearer ${anonKey}`, ...headers },
  })
}

/**
 * `{ todo }` for features an older localbase lacks: `CONFORMANCE_TODO=binary,presence`
 * marks those cases todo (reported, not failing). By default every case must pass.
 */
export function todoUnless(feature) {
  const listed = (process.env.CONFORMANCE_TODO ?? '').split(',').map((s) => s.trim())
  return listed.includes(feature) ? { todo: feature } : {}
}
