// Small promises around realtime-js callbacks, so tests read top to bottom.

/** Subscribes and resolves with the first status that settles the join. */
export function subscribe(channel, timeoutMs = 8000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: 'NO_ANSWER' }), timeoutMs)
    channel.subscribe((status, err) => {
      if (status === 'SUBSCRIBED' || status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        clearTimeout(timer)
        resolve({ status, err })
      }
    })
  })
}

/**
 * Collects the events a listener receives. `next()` returns the oldest one not yet taken,
 * waiting for it if needed (null after the timeout), so an event that arrived before the
 * test asked for it is not missed.
 */
export function collect(channel, type, filter) {
  const seen = []
  const waiters = []
  let taken = 0
  channel.on(type, filter, (payload) => {
    seen.push(payload)
    waiters.splice(0).forEach((wake) => wake())
  })
  return {
    seen,
    async next(timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs
      while (seen.length <= taken && Date.now() < deadline) {
        await new Promise((wake) => {
          waiters.push(wake)
          setTimeout(wake, Math.max(0, deadline - Date.now()))
        })
      }
      return taken < seen.length ? seen[taken++] : null
    },
  }
}

/** Nothing arrives for `ms`: used to prove something was not delivered. */
export const quiet = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Leaves every channel and closes the socket, so the test process can end. */
export async function closeAll(...clients) {
  for (const supabase of clients) {
    await supabase.removeAllChannels()
    supabase.realtime.disconnect()
  }
}
