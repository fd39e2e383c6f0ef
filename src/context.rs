//! What every component can reach: configuration, language, the signed-in session, the
//! server's clock, the page's visibility, and the app's one realtime connection.

use leptos::prelude::*;

use crate::api::auth::{Session, User};
use crate::clock::ServerClock;
use crate::config::Config;
use crate::i18n::{Lang, Text};
use crate::realtime::RealtimeClient;

#[derive(Clone, Copy)]
pub struct AppContext {
    pub config: StoredValue<Config>,
    pub lang: RwSignal<Lang>,
    pub session: RwSignal<Option<Session>>,
    /// Whose session ended without them signing out (a refused refresh): the sign-in
    /// form asks them back, and their unsent messages wait for them.
    pub ended: RwSignal<Option<User>>,
    pub clock: RwSignal<ServerClock>,
    /// Whether the person can see the page (see `lifecycle`).
    pub visible: RwSignal<bool>,
    /// Counts wake-ups: the page became visible, came online, got focus, or was restored.
    pub wakes: RwSignal<u32>,
    /// Set while signed in; `None` otherwise.
    pub realtime: StoredValue<Option<RealtimeClient>, LocalStorage>,
    /// Bumped whenever the conversation list should be fetched again.
    pub list_version: RwSignal<u32>,
    /// Moves every 30 s while signed in: whatever says "… ago" tracks it.
    pub ticks: RwSignal<u32>,
    /// What the e-mail link the app was opened from has to say (set a new password; the
    /// link was refused), until it is shown.
    pub link_note: RwSignal<Option<Text>>,
}

impl AppContext {
    /// A signed-out context for `config`, in `lang`.
    pub fn new(config: Config, lang: Lang) -> Self {
        AppContext {
            config: StoredValue::new(config),
            lang: RwSignal::new(lang),
            session: RwSignal::new(None),
            ended: RwSignal::new(None),
            clock: RwSignal::new(ServerClock::default()),
            visible: RwSignal::new(true),
            wakes: RwSignal::new(0),
            realtime: StoredValue::new_local(None),
            list_version: RwSignal::new(0),
            ticks: RwSignal::new(0),
            link_note: RwSignal::new(None),
        }
    }

    pub fn config(&self) -> Config {
        self.config.try_get_value().unwrap_or_default()
    }

    pub fn token(&self) -> Option<String> {
        self.session
            .try_with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
            .flatten()
    }

    pub fn user_id(&self) -> Option<String> {
        self.session
            .try_with_untracked(|s| s.as_ref().map(|s| s.user.id.clone()))
            .flatten()
    }

    /// Now on the server's clock, in unix milliseconds.
    pub fn server_now_ms(&self) -> f64 {
        let local = js_sys::Date::now();
        self.clock
            .try_with_untracked(|clock| clock.server_ms(local))
            .unwrap_or(local)
    }

    /// A translated sentence, tracked so it changes with the language.
    pub fn t(&self, text: Text) -> &'static str {
        text.get(self.lang.get())
    }

    /// `text` in the current language, following it: for a view's text or an attribute.
    /// Every sentence shares this one closure type, so each use adds no code of its own
    /// (a `move || app.t(…)` at each place compiles Leptos' rendering once per place).
    pub fn tr(self, text: Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        move || text.get(self.lang.get())
    }

    pub fn refresh_list(&self) {
        self.list_version.try_update(|v| *v = v.wrapping_add(1));
    }
}

pub fn use_app() -> AppContext {
    expect_context::<AppContext>()
}
