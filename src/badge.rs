//! The unread total where people look for it: the tab title ("(3) Coach Chat") and, where
//! the Badging API exists (installed apps), the app icon's badge.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

const TITLE: &str = "Coach Chat";

/// "(3) Coach Chat", or the bare name with nothing unread.
pub fn title_for(unread: i64) -> String {
    if unread > 0 {
        format!("({unread}) {TITLE}")
    } else {
        TITLE.to_string()
    }
}

/// Shows `unread` in the title and on the app badge.
pub fn show_unread(unread: i64) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(document) = window.document() {
        document.set_title(&title_for(unread));
    }
    // navigator.setAppBadge / clearAppBadge: not in every browser, so looked up, not bound.
    let navigator = window.navigator();
    let (name, args) = if unread > 0 {
        ("setAppBadge", vec![JsValue::from_f64(unread as f64)])
    } else {
        ("clearAppBadge", Vec::new())
    };
    if let Ok(method) = Reflect::get(&navigator, &name.into()) {
        if let Some(method) = method.dyn_ref::<Function>() {
            let args = js_sys::Array::from_iter(args);
            // A refused badge (no permission, not installed) returns a rejected promise:
            // nothing to do about it.
            let _ = method.apply(&navigator, &args);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::title_for;

    #[test]
    fn the_title_counts_unread_messages() {
        assert_eq!(title_for(3), "(3) Coach Chat");
        assert_eq!(title_for(0), "Coach Chat");
    }
}
