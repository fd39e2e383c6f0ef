//! The browser's `Intl` for what it says best in every language: "5 minutes ago",
//! "преди 5 минути", "yesterday", "вчера", "27 ноември".

use js_sys::{Array, Date, Intl::RelativeTimeFormat, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::browser::local_day;
use crate::i18n::{Lang, Text};
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

/// The heading of a day in a conversation: "Днес", "Вчера", else the date in the reader's
/// language ("27 ноември", "November 27"; the year only when it is not this year's).
pub fn day_label(micros: i64, lang: Lang) -> String {
    let now_micros = (js_sys::Date::now() * 1000.0) as i64;
    let (day, today) = (local_day(micros), local_day(now_micros));
    if day == today {
        return Text::Today.get(lang).into();
    }
    if day == today - 1 {
        return Text::Yesterday.get(lang).into();
    }
    let date = Date::new(&((micros / 1000) as f64).into());
    let options = Object::new();
    let _ = Reflect::set(&options, &"day".into(), &"numeric".into());
    let _ = Reflect::set(&options, &"month".into(), &"long".into());
    if date.get_full_year() != Date::new_0().get_full_year() {
        let _ = Reflect::set(&options, &"year".into(), &"numeric".into());
    }
    date.to_locale_date_string(lang.tag(), &options).into()
}

/// Lower case as the browser does it for every script ("Елена" → "елена"), without the
/// Unicode tables `str::to_lowercase` would add to the download.
pub fn fold_case(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}
