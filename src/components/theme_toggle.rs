//! The dark theme switch, on the sign-in screen and in the top bar.

use leptos::prelude::*;

use crate::context::use_app;
use crate::i18n::Text;
use crate::theme;

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let app = use_app();
    let dark = RwSignal::new(theme::is_dark());
    let toggle = move |_| {
        let next = !dark.get_untracked();
        theme::choose(next);
        dark.set(next);
    };
    view! {
        <button class="theme" type="button" aria-pressed=move || dark.get().to_string() on:click=toggle>
            {app.tr(Text::DarkTheme)}
        </button>
    }
}
