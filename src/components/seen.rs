//! How a person's presence reads: "на линия" / "online", or "последно на линия преди 5
//! минути" / "last seen 5 minutes ago", redrawn as time passes (`app.ticks`).

use leptos::prelude::*;

use crate::context::AppContext;
use crate::i18n::{last_seen, Text};
use crate::intl::time_ago;
use crate::time::{parse_micros, seen_recently};

/// `presence` is what the open chat's channel says (`None` where it is not known — the
/// list, or a channel still joining); then `last_seen_at` decides, by the server's clock.
/// `None` for someone never seen.
pub fn seen_text(
    app: AppContext,
    presence: Option<bool>,
    last_seen_at: Option<&str>,
) -> Option<String> {
    app.ticks.track();
    let lang = app.lang.get();
    let online = Text::Online.get(lang).to_string();
    if presence == Some(true) {
        return Some(online);
    }
    let seen_ms = parse_micros(last_seen_at?)? as f64 / 1000.0;
    let now = app.server_now_ms();
    Some(if presence.is_none() && seen_recently(seen_ms, now) {
        online
    } else {
        last_seen(lang, &time_ago((now - seen_ms).max(0.0), lang.tag()))
    })
}
