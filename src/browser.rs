//! Small browser facts the chat needs: the clock, fresh UUIDs, whether the page is
//! visible, and the preferred language.

/// Now, as an ISO 8601 UTC string (milliseconds).
pub fn now_iso() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

/// This app's own address without query or fragment (where links lead back to).
pub fn app_address() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_else(|_| "/".into());
    format!("{origin}{path}")
}

/// Takes the fragment out of the address bar (its tokens are not carried on by a reload,
/// a bookmark or a shared screenshot), without a navigation.
pub fn clear_fragment() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(history) = window.history() {
        let path = window.location().pathname().unwrap_or_else(|_| "/".into());
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
}

/// Now, in unix seconds.
pub fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// A random (v4) UUID for a new message, made by the browser's CSPRNG.
pub fn new_uuid() -> String {
    web_sys::window()
        .and_then(|window| window.crypto().ok())
        .map(|crypto| crypto.random_uuid())
        .unwrap_or_else(fallback_uuid)
}

/// For the rare non-secure context without `crypto.randomUUID`.
fn fallback_uuid() -> String {
    let mut bytes = [0u8; 16];
    for byte in &mut bytes {
        *byte = (js_sys::Math::random() * 256.0) as u8;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// True when the person can see the page (not a background tab or minimised window).
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| !document.hidden())
}

/// `navigator.language`, e.g. `bg-BG`.
pub fn preferred_language() -> String {
    web_sys::window()
        .and_then(|window| window.navigator().language())
        .unwrap_or_default()
}

/// Local time of a timestamp as "14:05" (today) or "25.11 14:05", in the UI language.
pub fn short_time(iso: &str, lang_tag: &str) -> String {
    let date = js_sys::Date::new(&iso.into());
    if date.get_time().is_nan() {
        return String::new();
    }
    let today = js_sys::Date::new_0();
    let same_day = date.get_full_year() == today.get_full_year()
        && date.get_month() == today.get_month()
        && date.get_date() == today.get_date();
    let time = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    if same_day {
        time
    } else if lang_tag == "en" {
        format!("{}/{} {time}", date.get_month() + 1, date.get_date())
    } else {
        format!("{}.{:02} {time}", date.get_date(), date.get_month() + 1)
    }
}

/// Now, in unix milliseconds.
pub fn now_millis() -> f64 {
    js_sys::Date::now()
}

/// `navigator.onLine`: false means certainly offline (true may still be a dead network).
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}

/// The day of `micros` (unix microseconds) in the reader's time zone, as days since
/// 1970-01-01 there: the zone's offset on that date (summer time included).
pub fn local_day(micros: i64) -> i64 {
    let ms = (micros / 1000) as f64;
    let offset_minutes = js_sys::Date::new(&ms.into()).get_timezone_offset();
    ((ms - offset_minutes * 60_000.0) / 86_400_000.0).floor() as i64
}

/// The phone layout is on (one pane at a time; `style/main.css` uses the same width).
pub fn narrow_screen() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(max-width: 640px)").ok().flatten())
        .is_some_and(|query| query.matches())
}

/// `navigator.userAgent`, for a support request.
pub fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
}

/// Puts `text` on the clipboard (`navigator.clipboard.writeText`); false where the browser
/// refuses (no permission, page not focused) or has no clipboard API.
pub async fn copy_to_clipboard(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::JsCast;
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return false;
    };
    let Ok(clipboard) = Reflect::get(&navigator, &"clipboard".into()) else {
        return false;
    };
    let Some(write) = Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return false;
    };
    match write.call1(&clipboard, &text.into()) {
        Ok(promise) => {
            let promise = js_sys::Promise::resolve(&promise);
            wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
        }
        Err(_) => false,
    }
}

/// Puts the keyboard in the message composer (after Reply is chosen).
pub fn focus_composer() {
    use wasm_bindgen::JsCast;
    let textarea = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".composer textarea").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(textarea) = textarea {
        let _ = textarea.focus();
    }
}
