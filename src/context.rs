//! What every component can reach: configuration, language, the signed-in session and
//! the app's one realtime connection.

use leptos::prelude::*;

use crate::api::auth::Session;
use crate::config::Config;
use crate::i18n::{Lang, Text};
use crate::realtime::RealtimeClient;

#[derive(Clone, Copy)]
pub struct AppContext {
    pub config: StoredValue<Config>,
    pub lang: RwSignal<Lang>,
    pub session: RwSignal<Option<Session>>,
    /// Set while signed in; `None` otherwise.
    pub realtime: StoredValue<Option<RealtimeClient>, LocalStorage>,
    /// Bumped whenever the conversation list should be fetched again.
    pub list_version: RwSignal<u32>,
}

impl AppContext {
    /// A signed-out context for `config`, in `lang`.
    pub fn new(config: Config, lang: Lang) -> Self {
        AppContext {
            config: StoredValue::new(config),
            lang: RwSignal::new(lang),
            session: RwSignal::new(None),
            realtime: StoredValue::new_local(None),
            list_version: RwSignal::new(0),
        }
    }

    pub fn config(&self) -> Config {
        self.config.get_value()
    }

    pub fn token(&self) -> Option<String> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
    }

    pub fn user_id(&self) -> Option<String> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.user.id.clone()))
    }

    /// A translated sentence, tracked so it changes with the language.
    pub fn t(&self, text: Text) -> &'static str {
        text.get(self.lang.get())
    }

    pub fn refresh_list(&self) {
        self.list_version.update(|v| *v = v.wrapping_add(1));
    }
}

pub fn use_app() -> AppContext {
    expect_context::<AppContext>()
}
