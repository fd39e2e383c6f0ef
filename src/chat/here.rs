//! `use_here`: while the signed-in app is open, tells the server the person is here
//! (`touch_last_seen`) when it starts and wakes up, at most once a minute, so the
//! people they talk to see "online" or "last seen 5 minutes ago"; and moves `app.ticks`
//! every 30 s, so every "… ago" on screen stays true as time passes. With each beat the
//! list is read again, so the others' last seen stays as fresh as one's own. The app's
//! language is also the language of the person's e-mail notifications: it is stored with
//! their profile at start and whenever they switch.

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use crate::api::rest;
use crate::context::AppContext;
use crate::task::Tasks;

/// How often "… ago" is redrawn.
const TICK_MS: u32 = 30_000;
/// At most one heartbeat per this long (the server also ignores beats within 20 s).
const BEAT_EVERY_MS: f64 = 60_000.0;

pub fn use_here(app: AppContext) {
    let tasks = Tasks::of_current_owner();
    let language_tasks = tasks.clone();
    let last_beat = StoredValue::new(f64::NEG_INFINITY);
    // At most one beat a minute, whatever wakes the app (a sleeping laptop's wake-up is
    // always more than a minute after the last one). A clock set back counts as due.
    // Whether it beat.
    let beat = std::rc::Rc::new(move || -> bool {
        let now = crate::browser::now_millis();
        let due = last_beat
            .try_get_value()
            .is_some_and(|last| now - last >= BEAT_EVERY_MS || now < last);
        let (true, Some(token), config) = (due, app.token(), app.config()) else {
            return false;
        };
        last_beat.set_value(now);
        tasks.spawn(async move {
            if let Err(error) = rest::touch_last_seen(&config, &token).await {
                web_sys::console::warn_1(&format!("last seen: {error}").into());
            }
        });
        true
    });
    let on_wake = beat.clone();
    // Starting and every wake-up (visible again, online again, focus) count as here, and
    // the list is read again for the others' last seen (at start it is being read anyway).
    Effect::new(move |started: Option<()>| {
        app.wakes.track();
        if started.is_some() {
            app.refresh_list();
        }
        on_wake();
    });
    Effect::new(move |_| {
        let lang = app.lang.get();
        let (Some(token), Some(me), config) = (app.token(), app.user_id(), app.config()) else {
            return;
        };
        language_tasks.spawn(async move {
            if let Err(error) = rest::set_language(&config, &token, &me, lang.tag()).await {
                web_sys::console::warn_1(&format!("e-mail language: {error}").into());
            }
        });
    });
    let interval = Interval::new(TICK_MS, move || {
        app.ticks.try_update(|ticks| *ticks = ticks.wrapping_add(1));
        if beat() {
            app.refresh_list();
        }
    });
    let interval = StoredValue::new_local(Some(interval));
    on_cleanup(move || {
        let _ = interval.try_update_value(|interval| interval.take());
    });
}
