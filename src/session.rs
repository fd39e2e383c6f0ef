//! The signed-in session: restored from storage at start (refreshed if it is about to
//! expire), refreshed 90 s before expiry while the app runs, and cleared on sign-out.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::auth::{self, Session};
use crate::browser::now_seconds;
use crate::context::AppContext;
use crate::storage;

const SESSION_KEY: &str = "coach-chat.session";

/// Restores a stored session, refreshing it first when it is (nearly) expired.
pub async fn restore(app: AppContext) {
    let Some(stored) = storage::load::<Session>(SESSION_KEY) else {
        return;
    };
    if stored.refresh_in(now_seconds()) > 0 {
        app.session.set(Some(stored));
        return;
    }
    match auth::refresh(&app.config(), &stored.refresh_token).await {
        Ok(fresh) => adopt(app, fresh),
        Err(error) if error.is_transient() => app.session.set(Some(stored)), // try again later
        Err(_) => storage::remove(SESSION_KEY),
    }
}

/// Makes `session` the current one: stored, and its token pushed to realtime channels.
pub fn adopt(app: AppContext, session: Session) {
    storage::save(SESSION_KEY, &session);
    if let Some(client) = app.realtime.get_value() {
        client.set_auth(&session.access_token);
    }
    app.session.set(Some(session));
}

/// Keeps the access token fresh while signed in. Call once, from the root component.
pub fn keep_fresh(app: AppContext) {
    let timer = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
    Effect::new(move |_| {
        let due = app
            .session
            .with(|s| s.as_ref().map(|s| s.refresh_in(now_seconds())));
        // Replacing the timer drops (cancels) the previous one.
        timer.set_value(due.map(|seconds| {
            let millis = (seconds.clamp(0, 86_400) * 1000) as u32;
            gloo_timers::callback::Timeout::new(millis, move || spawn_local(refresh_now(app)))
        }));
    });
    on_cleanup(move || {
        let _ = timer.try_update_value(|t| t.take());
    });
}

/// Refreshes at once if the token is due (the timer may have slept with the laptop).
pub fn refresh_if_due(app: AppContext) {
    let due = app
        .session
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.refresh_in(now_seconds()) == 0));
    if due {
        spawn_local(refresh_now(app));
    }
}

/// Gets a new access token with the refresh token (used by the timer and when Realtime
/// refuses the current token).
pub async fn refresh_now(app: AppContext) {
    let Some(refresh_token) = app
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.refresh_token.clone()))
    else {
        return;
    };
    match auth::refresh(&app.config(), &refresh_token).await {
        Ok(fresh) => adopt(app, fresh),
        Err(error) if error.is_transient() => {
            // Offline: try again in 10 s by nudging the effect with the same session.
            gloo_timers::future::TimeoutFuture::new(10_000).await;
            app.session.update(|_| {});
        }
        Err(_) => sign_out_locally(app),
    }
}

/// Forgets the session on this device: socket closed, stored credentials and the user's
/// unsent messages removed.
pub fn sign_out_locally(app: AppContext) {
    if let Some(client) = app.realtime.get_value() {
        client.disconnect();
    }
    if let Some(user_id) = app.user_id() {
        storage::remove(&crate::chat::delivery::storage_key(&user_id));
        storage::remove(&crate::components::conversation_list::cache_key(&user_id));
    }
    storage::remove(SESSION_KEY);
    app.session.set(None);
}

/// Signs out on the server too (its refresh token stops working).
pub async fn sign_out(app: AppContext) {
    if let Some(token) = app.token() {
        let _ = auth::sign_out(&app.config(), &token).await;
    }
    sign_out_locally(app);
}
