//! The only file that touches `localStorage`. Values are JSON; a browser without storage
//! (private mode, quota) simply remembers nothing. Other tabs' writes are heard through
//! `storage` events (`on_change`), which is how tabs of one person stay in step.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    parse(&local_storage()?.get_item(key).ok().flatten()?)
}

/// A stored value's text as `T` (e.g. the new value of a `storage` event).
pub fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    crate::json::from_text(text).ok()
}

pub fn save<T: Serialize>(key: &str, value: &T) {
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &text);
    }
}

pub fn remove(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Listens for other tabs' changes; dropping it stops listening.
pub struct ChangeListener {
    window: web_sys::Window,
    callback: Closure<dyn FnMut(web_sys::StorageEvent)>,
}

/// Calls `on_change(key, new_value)` whenever another tab of this site sets or removes
/// a key (`new_value` is `None` for a removal or a cleared storage).
pub fn on_change(on_change: impl Fn(&str, Option<String>) + 'static) -> Option<ChangeListener> {
    let window = web_sys::window()?;
    let callback =
        Closure::<dyn FnMut(web_sys::StorageEvent)>::new(move |event: web_sys::StorageEvent| {
            if let Some(key) = event.key() {
                on_change(&key, event.new_value());
            }
        });
    window
        .add_event_listener_with_callback("storage", callback.as_ref().unchecked_ref())
        .ok()?;
    Some(ChangeListener { window, callback })
}

impl Drop for ChangeListener {
    fn drop(&mut self) {
        let _ = self
            .window
            .remove_event_listener_with_callback("storage", self.callback.as_ref().unchecked_ref());
    }
}
