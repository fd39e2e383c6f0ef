// The server's mail folder (run.sh's LOCALBASE_MAIL_DIR): .eml files read as a mail client
// would — headers unfolded, encoded words and quoted-printable or base64 bodies decoded.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const mailDir = process.env.LOCALBASE_MAIL_DIR
/** Where Auth's links lead by default: the app's URL as run.sh gives it to the server. */
export const siteUrl = process.env.LOCALBASE_SITE_URL ?? 'http://127.0.0.1:8080'

/** Every message in the folder addressed to `address`, parsed. */
export function mailsTo(address) {
  let names
  try {
    names = readdirSync(mailDir).filter((name) => name.endsWith('.eml'))
  } catch (error) {
    if (error.code === 'ENOENT') return [] // nothing was ever sent
    throw error
  }
  return names
    .map((name) => parse(readFileSync(join(mailDir, name), 'latin1')))
    .filter((mail) => mail.headers.to?.toLowerCase().includes(address.toLowerCase()))
}

/** Waits until `count` messages to `address` exist (or `timeoutMs` passes); returns them. */
export async function waitForMails(address, count = 1, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  let mails = mailsTo(address)
  while (mails.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    mails = mailsTo(address)
  }
  return mails
}

/** The `/auth/v1/verify` link in a message's text part. */
export function verifyLink(mail) {
  const match = mail.text.match(/https?:\/\/\S+\/auth\/v1\/verify\?\S+/)
  if (!match) throw new Error(`no verify link in:\n${mail.text}`)
  return match[0]
}

/** `{ headers, text, html }` of a raw message (latin1 keeps every byte as it was). */
function parse(raw) {
  const { headers, body } = split(raw)
  const boundary = headers['content-type']?.match(/boundary="?([^";]+)"?/)?.[1]
  const parts = boundary
    ? body.split(`--${boundary}`).slice(1, -1).map(split)
    : [{ headers, body }]
  const decoded = (type) => {
    const part = parts.find((p) => (p.headers['content-type'] ?? 'text/plain').startsWith(type))
    return part ? decodeBody(part.body, part.headers['content-transfer-encoding']) : ''
  }
  return { headers, text: decoded('text/plain'), html: decoded('text/html') }
}

function split(raw) {
  const text = raw.replace(/^\r?\n/, '')
  const end = text.search(/\r?\n\r?\n/)
  const head = end < 0 ? text : text.slice(0, end)
  const body = end < 0 ? '' : text.slice(end).replace(/^\r?\n\r?\n/, '')
  const headers = {}
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function decodeBody(body, encoding = '7bit') {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    case 'quoted-printable':
      return quotedPrintable(body)
    default:
      return Buffer.from(body, 'latin1').toString('utf8')
  }
}

/** Soft line breaks (`=\r\n`) go; `=XX` is a byte (`=3D` is `=`). */
function quotedPrintable(body) {
  const joined = body.replace(/=\r?\n/g, '')
  const bytes = []
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(joined.charCodeAt(i))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** RFC 2047 encoded words (`=?utf-8?b?…?=`), adjacent ones joined. */
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, _charset, kind, text) =>
      kind.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : quotedPrintable(text.replace(/_/g, ' ')),
    )
}
