//! The only file using the Web Locks API (`navigator.locks`): of all tabs of this site,
//! one at a time holds a named lock. The app uses it so that one tab sends a person's
//! outbox while every tab shows it, and so that tabs never refresh one session at once.
//! Browsers without it (or pages outside a secure context) get `None`, and each tab acts
//! alone.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// A lock held or waited for; dropping it releases the lock or stops waiting.
pub struct Lock {
    /// Resolving the promise the grant callback returned releases the lock.
    release: Rc<RefCell<Option<Function>>>,
    dropped: Rc<Cell<bool>>,
    waiting: web_sys::AbortController,
}

fn lock_manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &"locks".into())
        .ok()
        .filter(|locks| locks.is_object())
}

/// Whether this browser can coordinate tabs with locks.
pub fn available() -> bool {
    lock_manager().is_some()
}

/// Asks for the lock `name`; `on_granted` runs once this tab holds it (at once when no
/// other tab does). The lock is held until the returned value is dropped.
pub fn hold(name: &str, on_granted: impl FnOnce() + 'static) -> Option<Lock> {
    let locks = lock_manager()?;
    let request: Function = Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let waiting = web_sys::AbortController::new().ok()?;
    let options = Object::new();
    Reflect::set(&options, &"signal".into(), &waiting.signal()).ok()?;
    let release = Rc::new(RefCell::new(None::<Function>));
    let dropped = Rc::new(Cell::new(false));
    let (slot, gone) = (release.clone(), dropped.clone());
    let granted =
        Closure::<dyn FnMut(JsValue) -> Promise>::once_into_js(move |_lock: JsValue| -> Promise {
            if gone.get() {
                return Promise::resolve(&JsValue::UNDEFINED); // released at once
            }
            let held = Promise::new(&mut |resolve, _reject| *slot.borrow_mut() = Some(resolve));
            on_granted();
            held
        });
    let pending: Promise = request
        .call3(&locks, &name.into(), &options, &granted)
        .ok()?
        .dyn_into()
        .ok()?;
    // An abandoned wait rejects (AbortError): expected, not an error to report.
    let ignore = Closure::<dyn FnMut(JsValue)>::once_into_js(|_: JsValue| {});
    if let Ok(catch) =
        Reflect::get(&pending, &"catch".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = catch.call1(&pending, &ignore);
    }
    Some(Lock {
        release,
        dropped,
        waiting,
    })
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.dropped.set(true);
        match self.release.borrow_mut().take() {
            Some(release) => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
            None => self.waiting.abort(),
        }
    }
}

/// Waits until this tab holds the lock `name`; `None` at once when the browser has no
/// Web Locks (then nothing is coordinated).
pub async fn acquire(name: &str) -> Option<Lock> {
    let mut resolve = None;
    let granted = Promise::new(&mut |done, _| resolve = Some(done));
    let resolve = resolve?;
    let lock = hold(name, move || {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    })?;
    wasm_bindgen_futures::JsFuture::from(granted).await.ok()?;
    Some(lock)
}
