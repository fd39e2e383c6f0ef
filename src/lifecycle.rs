//! The only file listening to page-lifecycle events. `on_wake` calls back whenever the
//! page may have been asleep or offline — it became visible, came online, got focus, or
//! was restored from the back/forward cache — so the app verifies its connection at
//! once instead of trusting a socket that died in the background. `use_page_lifecycle`
//! turns the same events into the app's `visible` and `wakes` signals, which the
//! services watch.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

const WINDOW_EVENTS: [&str; 3] = ["online", "focus", "pageshow"];

/// Registered listeners; dropping this removes them.
pub struct WakeListeners {
    window: Option<web_sys::Window>,
    document: Option<web_sys::Document>,
    on_window_event: Closure<dyn FnMut()>,
    on_visibility: Closure<dyn FnMut()>,
}

/// Keeps `app.visible` and `app.wakes` current while the calling component lives.
pub fn use_page_lifecycle(app: crate::context::AppContext) {
    app.visible.set(crate::browser::page_visible());
    let listeners = StoredValue::new_local(Some(on_wake(move || {
        app.visible.try_set(crate::browser::page_visible());
        app.wakes.try_update(|wakes| *wakes = wakes.wrapping_add(1));
    })));
    let hidden = StoredValue::new_local(on_hidden(move || {
        app.visible.try_set(false);
    }));
    on_cleanup(move || {
        let _ = listeners.try_update_value(|listeners| listeners.take());
        let _ = hidden.try_update_value(|hidden| hidden.take());
    });
}

/// Listens for the page being hidden (another tab, minimised); dropping it stops.
pub struct HiddenListener {
    document: web_sys::Document,
    callback: Closure<dyn FnMut()>,
}

fn on_hidden(callback: impl Fn() + 'static) -> Option<HiddenListener> {
    let document = web_sys::window()?.document()?;
    let watched = document.clone();
    let callback = Closure::<dyn FnMut()>::new(move || {
        if watched.hidden() {
            callback();
        }
    });
    document
        .add_event_listener_with_callback("visibilitychange", callback.as_ref().unchecked_ref())
        .ok()?;
    Some(HiddenListener { document, callback })
}

impl Drop for HiddenListener {
    fn drop(&mut self) {
        let _ = self.document.remove_event_listener_with_callback(
            "visibilitychange",
            self.callback.as_ref().unchecked_ref(),
        );
    }
}

pub fn on_wake(callback: impl Fn() + 'static) -> WakeListeners {
    let callback = std::rc::Rc::new(callback);
    let window = web_sys::window();
    let document = window.as_ref().and_then(|w| w.document());
    let wake = callback.clone();
    let on_window_event = Closure::<dyn FnMut()>::new(move || wake());
    let visible_document = document.clone();
    let on_visibility = Closure::<dyn FnMut()>::new(move || {
        if visible_document.as_ref().is_some_and(|d| !d.hidden()) {
            callback();
        }
    });
    if let Some(window) = &window {
        for event in WINDOW_EVENTS {
            let _ = window
                .add_event_listener_with_callback(event, on_window_event.as_ref().unchecked_ref());
        }
    }
    if let Some(document) = &document {
        let _ = document.add_event_listener_with_callback(
            "visibilitychange",
            on_visibility.as_ref().unchecked_ref(),
        );
    }
    WakeListeners {
        window,
        document,
        on_window_event,
        on_visibility,
    }
}

impl Drop for WakeListeners {
    fn drop(&mut self) {
        if let Some(window) = &self.window {
            let target: &EventTarget = window.as_ref();
            for event in WINDOW_EVENTS {
                let _ = target.remove_event_listener_with_callback(
                    event,
                    self.on_window_event.as_ref().unchecked_ref(),
                );
            }
        }
        if let Some(document) = &self.document {
            let _ = document.remove_event_listener_with_callback(
                "visibilitychange",
                self.on_visibility.as_ref().unchecked_ref(),
            );
        }
    }
}
