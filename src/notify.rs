//! Browser notifications and the service worker (`sw.js`) that shows them: phones allow
//! notifications only through a service worker, so every notification goes through
//! `registration.showNotification`. Also what a notification's click brings back: a
//! message from the worker, or `?conversation=<id>` when it had to open a new window.

use js_sys::{Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, NotificationOptions, NotificationPermission};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Not asked yet.
    Default,
    Granted,
    Denied,
    /// No notifications or no service workers in this browser (or not a secure origin).
    Unsupported,
}

fn container() -> Option<web_sys::ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    // Missing on insecure origins and in some embedded browsers.
    Reflect::has(&navigator, &"serviceWorker".into())
        .unwrap_or(false)
        .then(|| navigator.service_worker())
}

fn notifications_exist() -> bool {
    web_sys::window()
        .is_some_and(|window| Reflect::has(&window, &"Notification".into()).unwrap_or(false))
}

/// Registers `sw.js` (offline start, notifications). Failing is not fatal: the app works
/// without it, only offline reloads and notifications do not.
pub fn register_service_worker() {
    if let Some(container) = container() {
        let promise = container.register("sw.js");
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = JsFuture::from(promise).await {
                web_sys::console::warn_2(&"service worker not registered:".into(), &error);
            }
        });
    }
}

pub fn permission() -> Permission {
    if !notifications_exist() || container().is_none() {
        return Permission::Unsupported;
    }
    match web_sys::Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Default,
    }
}

/// Asks the person (call it only from their click: browsers ignore or punish asking on load).
pub async fn request_permission() -> Permission {
    if permission() == Permission::Unsupported {
        return Permission::Unsupported;
    }
    if let Ok(promise) = web_sys::Notification::request_permission() {
        let _ = JsFuture::from(promise).await;
    }
    permission()
}

/// Shows a notification through the service worker: one per `tag` (a newer one replaces it
/// and alerts again); a click opens `conversation`.
pub async fn show(title: &str, body: &str, tag: &str, conversation: &str) {
    let Some(container) = container() else {
        return;
    };
    let Ok(ready) = container.ready() else {
        return;
    };
    let Ok(registration) = JsFuture::from(ready).await else {
        return;
    };
    let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    options.set_renotify(true);
    options.set_icon("icons/icon-192.png");
    let data = Object::new();
    let _ = Reflect::set(&data, &"conversation".into(), &conversation.into());
    options.set_data(&data);
    if let Ok(promise) = registration.show_notification_with_options(title, &options) {
        if let Err(error) = JsFuture::from(promise).await {
            web_sys::console::warn_2(&"notification not shown:".into(), &error);
        }
    }
}

/// The conversation a notification opened this window on (`?conversation=<id>`), taken
/// out of the address so a reload does not open it again.
pub fn take_launch_conversation() -> Option<String> {
    let window = web_sys::window()?;
    let search = window.location().search().ok()?;
    let id = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("conversation="))?
        .to_string();
    if let Ok(history) = window.history() {
        let path = window.location().pathname().unwrap_or_else(|_| "/".into());
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
    }
    Some(id)
}

/// Listens for the service worker's "open this conversation" (a notification was clicked
/// while the app was open); dropping it stops.
pub struct OpenRequests {
    container: web_sys::ServiceWorkerContainer,
    callback: Closure<dyn FnMut(MessageEvent)>,
}

pub fn on_open_request(handler: impl Fn(String) + 'static) -> Option<OpenRequests> {
    let container = container()?;
    let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let kind = Reflect::get(&data, &"type".into())
            .ok()
            .and_then(|v| v.as_string());
        let id = Reflect::get(&data, &"conversation".into())
            .ok()
            .and_then(|v| v.as_string());
        if let (Some("open-conversation"), Some(id)) = (kind.as_deref(), id) {
            handler(id);
        }
    });
    container
        .add_event_listener_with_callback("message", callback.as_ref().unchecked_ref())
        .ok()?;
    Some(OpenRequests {
        container,
        callback,
    })
}

impl Drop for OpenRequests {
    fn drop(&mut self) {
        let _ = self
            .container
            .remove_event_listener_with_callback("message", self.callback.as_ref().unchecked_ref());
    }
}
