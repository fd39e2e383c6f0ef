//! `use_account`: the signed-in person's profile (the name others see, the role), kept on
//! the device so the header shows the name at once, and read again when it may have
//! changed (an accepted invitation makes a new account a client).

use leptos::prelude::*;

use crate::api::account::{self, Profile};
use crate::context::AppContext;
use crate::storage;
use crate::task::Tasks;

fn cache_key(user_id: &str) -> String {
    format!("coach-chat.profile.{user_id}")
}

/// Deletes a user's cached profile (they signed out).
pub fn forget(user_id: &str) {
    storage::remove(&cache_key(user_id));
}

#[derive(Clone, Copy)]
pub struct Account {
    /// `None` until the first profile (cached or read) is there.
    pub profile: RwSignal<Option<Profile>>,
    /// Bumped to read the profile again.
    version: RwSignal<u32>,
}

impl Account {
    pub fn reload(self) {
        self.version.try_update(|v| *v = v.wrapping_add(1));
    }

    pub fn is_trainer(self) -> bool {
        self.profile
            .with(|p| p.as_ref().is_some_and(Profile::is_trainer))
    }

    /// The person's name, or until it is known (or if they have none) their e-mail.
    pub fn name(self, app: AppContext) -> String {
        let name = self.profile.with(|p| {
            p.as_ref()
                .map(|p| p.full_name.trim().to_string())
                .filter(|name| !name.is_empty())
        });
        name.or_else(|| {
            app.session
                .with(|s| s.as_ref().and_then(|s| s.user.email.clone()))
        })
        .unwrap_or_default()
    }
}

pub fn use_account(app: AppContext) -> Account {
    let user_id = app.user_id().unwrap_or_default();
    let key = StoredValue::new(cache_key(&user_id));
    let account = Account {
        profile: RwSignal::new(storage::load(&key.get_value())),
        version: RwSignal::new(0),
    };
    let tasks = Tasks::of_current_owner();
    Effect::new(move |_| {
        account.version.track();
        let (Some(token), config) = (app.token(), app.config()) else {
            return;
        };
        let user_id = user_id.clone();
        tasks.spawn(async move {
            if let Ok(profile) = account::profile(&config, &token, &user_id).await {
                if let Some(key) = key.try_get_value() {
                    storage::save(&key, &profile);
                }
                account.profile.try_set(Some(profile));
            }
        });
    });
    account
}
