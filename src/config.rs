//! Where the backend is: `config.json` served next to `index.html`, so one build runs
//! against localbase or any hosted Supabase project. Missing file → localbase defaults.

use serde::Deserialize;

/// The Supabase CLI's well-known local anon key (signed with its default JWT secret,
/// which localbase uses too).
pub const LOCAL_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
pub const LOCAL_URL: &str = "http://127.0.0.1:54321";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Config {
    pub supabase_url: String,
    pub supabase_anon_key: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            supabase_url: LOCAL_URL.into(),
            supabase_anon_key: LOCAL_ANON_KEY.into(),
        }
    }
}

impl Config {
    /// `wss://…/realtime/v1/websocket?apikey=…` (or `ws://` for plain http); the realtime
    /// client appends `&vsn=…`.
    pub fn realtime_url(&self) -> String {
        let base = self.supabase_url.trim_end_matches('/');
        let base = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_string()
        };
        format!(
            "{base}/realtime/v1/websocket?apikey={}",
            crate::api::encode_component(&self.supabase_anon_key)
        )
    }

    /// Fetches `config.json`; any failure falls back to the local defaults.
    pub async fn load() -> Config {
        let response = gloo_net::http::Request::get("config.json").send().await;
        match response {
            Ok(response) if response.ok() => response.json::<Config>().await.unwrap_or_default(),
            _ => Config::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realtime_url_follows_the_api_url() {
        let hosted = Config {
            supabase_url: "https://abc.supabase.co/".into(),
            supabase_anon_key: "k".into(),
        };
        assert_eq!(
            hosted.realtime_url(),
            "wss://abc.supabase.co/realtime/v1/websocket?apikey=k"
        );
        assert!(Config::default()
            .realtime_url()
            .starts_with("ws://127.0.0.1:54321/realtime/v1/websocket?apikey=eyJ"));
    }

    #[test]
    fn config_json_uses_supabase_names() {
        let config: Config = serde_json::from_str(
            r#"{"supabase_url":"https://x.supabase.co","supabase_anon_key":"anon"}"#,
        )
        .unwrap();
        assert_eq!(config.supabase_anon_key, "anon");
    }
}
