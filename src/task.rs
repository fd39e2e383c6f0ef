//! Async work that belongs to a component or hook. A task spawned through its owner's
//! [`Tasks`] is dropped at its next `await` once the owner is cleaned up (the person
//! switched conversation, went Back, signed out), so the code after an `await` never runs
//! against disposed signals — in WebAssembly such a panic aborts mid-update.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use leptos::prelude::{on_cleanup, Owner};
use leptos::reactive::owner::WeakOwner;
use leptos::task::spawn_local_scoped_with_cancellation;

/// The tasks of the reactive owner that created it. Cheap to clone.
#[derive(Clone)]
pub struct Tasks {
    owner: Option<WeakOwner>,
    ended: Arc<AtomicBool>,
}

impl Tasks {
    /// For the current owner: call while creating the component or hook.
    pub fn of_current_owner() -> Tasks {
        let ended = Arc::new(AtomicBool::new(false));
        let flag = ended.clone();
        on_cleanup(move || flag.store(true, Ordering::Relaxed));
        Tasks {
            owner: Owner::current().map(|owner| owner.downgrade()),
            ended,
        }
    }

    /// Runs `task` until it finishes or the owner is cleaned up, whichever comes first.
    /// Once the owner is gone nothing new starts.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        if self.ended.load(Ordering::Relaxed) {
            return;
        }
        match self.owner.as_ref().map(WeakOwner::upgrade) {
            Some(Some(owner)) => owner.with(|| spawn_local_scoped_with_cancellation(task)),
            Some(None) => {}                         // the owner is gone
            None => leptos::task::spawn_local(task), // created outside any owner (tests)
        }
    }

    /// Whether the owner is still there.
    pub fn alive(&self) -> bool {
        !self.ended.load(Ordering::Relaxed)
    }
}

/// Runs `future` up to its first `await` now — e.g. sends its request — and returns it to
/// be awaited later. A spawned task begins only after the synchronous work under way (such
/// as building a whole screen); a request started here travels meanwhile.
pub fn start_now<T: 'static>(
    future: impl Future<Output = T> + 'static,
) -> Pin<Box<dyn Future<Output = T>>> {
    let mut future: Pin<Box<dyn Future<Output = T>>> = Box::pin(future);
    // Whoever awaits it later polls it again, and that poll registers the real waker.
    match future
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(value) => Box::pin(std::future::ready(value)),
        Poll::Pending => future,
    }
}

/// One request of a kind at a time: what is asked for while one is out is remembered
/// (once, however often it was asked) and done after it.
#[derive(Debug, Default)]
pub struct Flight {
    /// `Some` while one is out; `true` inside when another was asked for meanwhile.
    out: Option<bool>,
}

impl Flight {
    /// Asks for a request: `true` when it is to start now, `false` when one is out and this
    /// ask waits for it.
    pub fn ask(&mut self) -> bool {
        match &mut self.out {
            Some(again) => {
                *again = true;
                false
            }
            None => {
                self.out = Some(false);
                true
            }
        }
    }

    /// The request ended: `true` when another was asked for meanwhile and is to start now
    /// (it is then out), `false` when nothing is out any more.
    pub fn land(&mut self) -> bool {
        match self.out.take() {
            Some(true) => {
                self.out = Some(false);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{start_now, Flight};
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn a_started_future_ran_to_its_first_await_and_still_gives_its_value() {
        let steps = Rc::new(Cell::new(0));
        let seen = steps.clone();
        let mut future = start_now(async move {
            seen.set(1);
            std::future::pending::<()>().await;
        });
        assert_eq!(steps.get(), 1, "started before anyone awaited it");
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        assert!(future.as_mut().poll(&mut context).is_pending());
        let mut done = start_now(async { 7 });
        assert_eq!(
            done.as_mut().poll(&mut context),
            std::task::Poll::Ready(7),
            "a value ready at once is kept"
        );
    }

    #[test]
    fn asks_while_one_is_out_become_one_more_request_after_it() {
        let mut flight = Flight::default();
        assert!(flight.ask(), "the first ask starts");
        assert!(!flight.ask(), "a second waits");
        assert!(!flight.ask(), "a third joins the second");
        assert!(flight.land(), "one more starts when the first lands");
        assert!(!flight.ask(), "and it is out");
        assert!(flight.land());
        assert!(!flight.land(), "then nothing is out");
        assert!(flight.ask(), "so the next ask starts at once");
    }

    #[test]
    fn a_request_that_lands_unasked_leaves_nothing_out() {
        let mut flight = Flight::default();
        assert!(flight.ask());
        assert!(!flight.land());
        assert!(flight.ask());
    }
}
