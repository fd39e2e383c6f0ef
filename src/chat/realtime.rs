//! `use_realtime`: the app's one realtime connection, for as long as the signed-in shell
//! lives. It is opened with the session's token, asks the session for a fresh token when
//! a channel refuses the current one, checks itself on every wake-up, and is closed on
//! cleanup.

use leptos::prelude::*;

use crate::context::AppContext;
use crate::realtime::RealtimeClient;
use crate::session;

pub fn use_realtime(app: AppContext) -> RealtimeClient {
    let client = RealtimeClient::new(app.config().realtime_url(), app.token());
    app.realtime.set_value(Some(client.clone()));
    client.on_auth_error(move || session::refresh_soon(app));
    let probe = client.clone();
    Effect::new(move |previous: Option<()>| {
        app.wakes.track();
        if previous.is_some() {
            probe.probe();
        }
    });
    on_cleanup(move || {
        let _ = app.realtime.try_update_value(|client| {
            if let Some(client) = client.take() {
                client.disconnect();
            }
        });
    });
    client
}
