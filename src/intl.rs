//! The browser's `Intl` for what it says best in every language: "5 minutes ago",
//! "преди 5 минути", "yesterday", "вчера".

use js_sys::{Array, Intl::RelativeTimeFormat, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::time::relative_parts;

/// "`elapsed_ms` ago" in the language `lang_tag` (e.g. `bg`).
pub fn time_ago(elapsed_ms: f64, lang_tag: &str) -> String {
    let (value, unit) = relative_parts(elapsed_ms);
    let options = Object::new();
    let _ = Reflect::set(&options, &"numeric".into(), &"auto".into());
    let locales = Array::of1(&JsValue::from_str(lang_tag));
    RelativeTimeFormat::new(&locales, &options)
        .format(value, unit)
        .into()
}
