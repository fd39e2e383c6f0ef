//! The one way requests go out: every request has a deadline, so one that never answers
//! (a network switch, a sleeping laptop, a captive portal) is abandoned and reported as a
//! network error, which callers retry. A caller may also cut a request short (`Abort`).

use gloo_net::http::RequestBuilder;
use gloo_timers::callback::Timeout;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{error_from_body, ApiError};

/// How long a request may take, answer included.
pub const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// A handle to cut a request short; cheap to clone.
#[derive(Clone)]
pub struct Abort(Option<web_sys::AbortController>);

impl Abort {
    pub fn new() -> Abort {
        Abort(web_sys::AbortController::new().ok())
    }

    /// Abandons the request: it ends with a network error.
    pub fn abort(&self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}

impl Default for Abort {
    fn default() -> Self {
        Abort::new()
    }
}

/// Sends the request (with `body` as JSON, if any) and reads the answer as `T`, giving up
/// after `timeout_ms` or when `abort` is used.
pub(crate) async fn call<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<&Value>,
    timeout_ms: u32,
    abort: Abort,
) -> Result<T, ApiError> {
    let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = timed_out.clone();
    let on_timeout = abort.clone();
    let _deadline = Timeout::new(timeout_ms, move || {
        flag.set(true);
        on_timeout.abort();
    });
    let builder = builder.abort_signal(abort.0.as_ref().map(|c| c.signal()).as_ref());
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Decode(e.to_string()))?;
    let network = |error: gloo_net::Error| {
        ApiError::Network(if timed_out.get() {
            format!("no answer within {timeout_ms} ms")
        } else {
            error.to_string()
        })
    };
    let response = request.send().await.map_err(network)?;
    let status = response.status();
    let text = response.text().await.map_err(network)?;
    if !(200..300).contains(&status) {
        return Err(error_from_body(status, &text));
    }
    // 204 No Content (a logout, a PATCH without representation) reads as `null`.
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    crate::json::from_text(text).map_err(|e| ApiError::Decode(e.to_string()))
}
