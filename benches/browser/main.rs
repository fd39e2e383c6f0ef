//! Browser-to-browser benchmark (a command, not a test: `scripts/bench-browser.sh`).
//!
//! Coach Chat and the reference chat a team would build instead (`bench/reference/`, one
//! page on @supabase/supabase-js) run side by side against one localbase, each as two real
//! headless Chromium sessions: the trainer sends, the other person's page shows. Messages
//! alternate between the two apps, so both meet the same machine at the same moments.
//!
//! Measured in the pages themselves, on the wall clock both browsers share
//! (`performance.timeOrigin + performance.now()`): from the moment the sender presses Enter
//! (ours) or calls `send` (the reference) to the moment the message's element is in the
//! receiver's DOM (a MutationObserver installed before either app loads). Twice: with
//! broadcasts, then with every client broadcast dropped by localbase, so only Postgres
//! Changes deliver. Then the time from navigation to the conversation list in the DOM, in a
//! fresh browser (cold cache) and on the next visit (warm), for a signed-in person. Then
//! rendering under load: the open conversation receives 100 messages a second for 10 s
//! (inserted over REST), with how busy the page's main thread was; presence in the open
//! chat (the other person leaves and comes back: how soon it shows); and opening a
//! conversation of 10,000 stored messages.
//!
//! Options: `--messages N` (per app and path, default 300), `--gap-ms N` (pause between
//! sends, default 100), `--loads N` (cold and warm visits per app, default 5), `--rate N`
//! and `--seconds N` (the load, default 100 and 10), `--history N` (stored messages of the
//! long conversation, default 10000), `--write` (replace the browser section of
//! BENCHMARKS.md).

#[cfg(not(target_arch = "wasm32"))]
mod native;

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main(flavor = "multi_thread")]
async fn main() {
    native::main().await;
}

/// Browsers are driven from the host; there is nothing to run inside one.
#[cfg(target_arch = "wasm32")]
fn main() {}
