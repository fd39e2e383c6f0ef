//! The only file listening to page-lifecycle events. `on_wake` calls back whenever the
//! page may have been asleep or offline — it became visible, came online, got focus, or
//! was restored from the back/forward cache — so the app verifies its connection at
//! once instead of trusting a socket that died in the background.

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
