//! The only file that touches the browser's WebSocket. A `Socket` owns its JS callbacks
//! and removes them (and closes the connection) when dropped: whoever opens, closes.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// What the connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    Open,
    Text(String),
    Binary(Vec<u8>),
    Closed { code: u16, reason: String },
}

pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Starts connecting; every event is passed to `on_event`.
    pub fn connect(url: &str, on_event: impl Fn(SocketEvent) + 'static) -> Result<Socket, String> {
        let ws = WebSocket::new(url).map_err(|e| format!("{e:?}"))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_event = std::rc::Rc::new(on_event);
        let open = on_event.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || open(SocketEvent::Open));
        let message = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            if let Some(text) = data.as_string() {
                message(SocketEvent::Text(text));
            } else if let Ok(buffer) = data.dyn_into::<js_sys::ArrayBuffer>() {
                message(SocketEvent::Binary(
                    js_sys::Uint8Array::new(&buffer).to_vec(),
                ));
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            on_event(SocketEvent::Closed {
                code: event.code(),
                reason: event.reason(),
            });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends a text frame; false when the connection is not open.
    pub fn send_text(&self, text: &str) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_str(text).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
