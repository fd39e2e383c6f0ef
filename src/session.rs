//! The signed-in session: restored from storage at start, refreshed before it expires —
//! timed by the server's clock, never the browser's — and shared by every tab of the
//! site. One refresh at a time, in this tab and across tabs (a refresh token is single
//! use: two tabs spending it at once would end the session). A session ends only when
//! the person signs out, or when the server refuses to refresh it: then the person is
//! asked to sign in again, and their unsent messages wait for them.

use std::cell::Cell;

use gloo_timers::callback::Timeout;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::auth::{self, Session};
use crate::clock::ServerClock;
use crate::context::AppContext;
use crate::{locks, storage};

const SESSION_KEY: &str = "coach-chat.session";
const CLOCK_KEY: &str = "coach-chat.clock";
/// Held by the tab that refreshes the session.
const REFRESH_LOCK: &str = "coach-chat.session-refresh";
/// A refresh that found no network is tried again after this long.
const OFFLINE_RETRY_MS: f64 = 10_000.0;
/// The refresh lock is held this long after the new session is stored.
const HANDOVER_MS: u32 = 200;
/// Refreshes never follow each other closer than this, whatever a token says.
const MIN_REFRESH_GAP_MS: f64 = 5_000.0;

thread_local! {
    /// A refresh is under way in this page: later callers join it instead of starting one.
    static REFRESHING: Cell<bool> = const { Cell::new(false) };
    /// No refresh starts before this (local ms): a gap after each one, longer after a
    /// refresh that found no network.
    static NOT_BEFORE: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// Restores the stored session and what is known of the server's clock; refreshes the
/// session first when it is due.
pub async fn restore(app: AppContext) {
    if let Some(clock) = storage::load::<ServerClock>(CLOCK_KEY) {
        app.clock.try_set(clock);
    }
    let Some(stored) = storage::load::<Session>(SESSION_KEY) else {
        return;
    };
    let due = stored.refresh_in_ms(app.server_now_ms()) == 0.0;
    app.session.try_set(Some(stored));
    if due {
        refresh(app).await;
    }
}

/// Makes `session` (just issued by the server between local `sent_ms` and
/// `received_ms`) the current one, learning the server's clock from its issue time.
pub fn adopt_fresh(app: AppContext, session: Session, sent_ms: f64, received_ms: f64) {
    app.clock.try_update(|clock| {
        clock.observe(
            session.issued_at() as f64 * 1000.0,
            1000.0,
            sent_ms,
            received_ms,
        )
    });
    if let Some(clock) = app.clock.try_get_untracked() {
        storage::save(CLOCK_KEY, &clock);
    }
    storage::save(SESSION_KEY, &session);
    use_session(app, session);
}

/// Makes a session an e-mail link brought the current one (when it was issued is not
/// known closely enough to learn the server's clock from).
pub fn adopt_from_link(app: AppContext, session: Session) {
    storage::save(SESSION_KEY, &session);
    use_session(app, session);
}

/// Uses `session` in this page: its token goes to the realtime channels at once.
fn use_session(app: AppContext, session: Session) {
    if let Some(client) = app.realtime.try_get_value().flatten() {
        client.set_auth(&session.access_token);
    }
    app.ended.try_set(None);
    app.session.try_set(Some(session));
}

/// Signs in with a password.
pub async fn sign_in(
    app: AppContext,
    email: &str,
    password: &str,
) -> Result<(), crate::api::ApiError> {
    let sent = js_sys::Date::now();
    let session = auth::sign_in(&app.config(), email, password).await?;
    adopt_fresh(app, session, sent, js_sys::Date::now());
    Ok(())
}

/// Creates a trainer account and signs in with it: `Ok(true)` when signed in, `Ok(false)`
/// when the project first wants the e-mail address confirmed.
pub async fn sign_up(
    app: AppContext,
    name: &str,
    email: &str,
    password: &str,
) -> Result<bool, crate::api::ApiError> {
    let sent = js_sys::Date::now();
    match auth::sign_up(&app.config(), name, email, password).await? {
        Some(session) => {
            adopt_fresh(app, session, sent, js_sys::Date::now());
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Keeps the session fresh while the app runs: a timer by the server's clock, a check on
/// every wake-up (the timer may have slept with the laptop), and other tabs' sessions
/// taken over as they change. Call once, from the root component.
pub fn use_session_keeper(app: AppContext) {
    let timer = StoredValue::new_local(None::<Timeout>);
    Effect::new(move |_| {
        let due = app
            .session
            .with(|s| s.as_ref().map(|s| s.refresh_in_ms(app.server_now_ms())));
        let gap = NOT_BEFORE.get() - js_sys::Date::now();
        // Replacing the timer drops (cancels) the previous one.
        timer.set_value(due.map(|due| {
            let millis = due.max(gap).clamp(0.0, 86_400_000.0) as u32;
            Timeout::new(millis, move || refresh_soon(app))
        }));
    });
    Effect::new(move |_| {
        app.wakes.track();
        let due = app.session.with_untracked(|s| {
            s.as_ref()
                .is_some_and(|s| s.refresh_in_ms(app.server_now_ms()) == 0.0)
        });
        if due {
            refresh_soon(app);
        }
    });
    let listener = StoredValue::new_local(storage::on_change(move |key, value| {
        if key == SESSION_KEY {
            on_stored_session_changed(app, value.as_deref().and_then(storage::parse));
        }
    }));
    on_cleanup(move || {
        let _ = timer.try_update_value(|t| t.take());
        let _ = listener.try_update_value(|l| l.take());
    });
}

/// Another tab refreshed, signed in or signed out.
fn on_stored_session_changed(app: AppContext, stored: Option<Session>) {
    match stored {
        Some(session) => {
            let known = app
                .session
                .try_with_untracked(|s| {
                    s.as_ref()
                        .is_some_and(|s| s.refresh_token == session.refresh_token)
                })
                .unwrap_or(false);
            if !known {
                use_session(app, session);
            }
        }
        None => {
            if app.session.with_untracked(Option::is_some) {
                app.session.try_set(None);
            }
        }
    }
}

/// Refreshes the session soon, unless a refresh is already under way (which everyone
/// waiting for a token then shares).
pub fn refresh_soon(app: AppContext) {
    if !REFRESHING.get() {
        spawn_local(refresh(app));
    }
}

async fn refresh(app: AppContext) {
    if REFRESHING.replace(true) {
        return;
    }
    refresh_once(app).await;
    REFRESHING.set(false);
}

async fn refresh_once(app: AppContext) {
    let Some(stale) = app.session.try_get_untracked().flatten() else {
        return;
    };
    // One tab at a time: the others wait, then find the session already refreshed —
    // taken over from storage while they waited, or still to be read from it.
    let _lock = locks::acquire(REFRESH_LOCK).await;
    let Some(current) = app.session.try_get_untracked().flatten() else {
        return;
    };
    if current.refresh_token != stale.refresh_token {
        return;
    }
    if let Some(newer) = refreshed_elsewhere(&current) {
        use_session(app, newer);
        return;
    }
    let sent = js_sys::Date::now();
    NOT_BEFORE.set(sent + MIN_REFRESH_GAP_MS);
    match auth::refresh(&app.config(), &current.refresh_token).await {
        Ok(fresh) => {
            adopt_fresh(app, fresh, sent, js_sys::Date::now());
            // Tabs share storage through the browser, and that copy may trail the lock:
            // a tab waiting for it would not find the new session yet and spend the
            // old refresh token again. Held a moment longer, the lock hands over after it.
            TimeoutFuture::new(HANDOVER_MS).await;
        }
        Err(error) if error.is_transient() => {
            // Offline or the server is away: keep the session; the keeper's timer tries
            // again after a pause.
            NOT_BEFORE.set(js_sys::Date::now() + OFFLINE_RETRY_MS);
            app.session.try_update(|_| {});
        }
        Err(_) => match refreshed_elsewhere(&current) {
            // A tab without locks won the race with the same refresh token.
            Some(newer) => use_session(app, newer),
            None => session_ended(app),
        },
    }
}

/// The stored session when another tab has refreshed `current` since this tab read it.
fn refreshed_elsewhere(current: &Session) -> Option<Session> {
    storage::load::<Session>(SESSION_KEY).filter(|stored| {
        stored.user.id == current.user.id && stored.refresh_token != current.refresh_token
    })
}

/// The server will not refresh the session: the person must sign in again. Nothing they
/// wrote is deleted — the outbox waits, per user, for them to be back.
fn session_ended(app: AppContext) {
    let user = app.session.try_get_untracked().flatten().map(|s| s.user);
    storage::remove(SESSION_KEY);
    app.ended.try_set(user);
    app.session.try_set(None);
}

/// Forgets the session on this device: stored credentials, the cached conversation list
/// and the person's unsent messages (they chose to sign out).
pub fn sign_out_locally(app: AppContext) {
    if let Some(user_id) = app.user_id() {
        crate::chat::delivery::forget(&user_id);
        crate::chat::list::forget(&user_id);
        crate::chat::account::forget(&user_id);
    }
    storage::remove(SESSION_KEY);
    app.ended.try_set(None);
    app.session.try_set(None);
}

/// Signs out on the server too (its refresh token stops working).
pub async fn sign_out(app: AppContext) {
    if let Some(token) = app.token() {
        let _ = auth::sign_out(&app.config(), &token).await;
    }
    sign_out_locally(app);
}
