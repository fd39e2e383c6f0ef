//! Light or dark: the system's choice until the person picks one, remembered on this
//! device. `<html data-theme>` carries the choice; `index.html` applies a stored one
//! before the app loads, so a dark page never flashes light.

use crate::storage;

const KEY: &str = "coach-chat.theme";

/// Whether the page is dark now (the person's choice, else the system's).
pub fn is_dark() -> bool {
    let chosen = root().and_then(|root| root.get_attribute("data-theme"));
    match chosen.as_deref() {
        Some(theme) => theme == "dark",
        None => system_is_dark(),
    }
}

/// Makes the page dark or light, and remembers it.
pub fn choose(dark: bool) {
    let theme = if dark { "dark" } else { "light" };
    if let Some(root) = root() {
        let _ = root.set_attribute("data-theme", theme);
    }
    storage::save(KEY, &theme);
}

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

fn system_is_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|query| query.matches())
}
