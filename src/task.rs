//! Async work that belongs to a component or hook. A task spawned through its owner's
//! [`Tasks`] is dropped at its next `await` once the owner is cleaned up (the person
//! switched conversation, went Back, signed out), so the code after an `await` never runs
//! against disposed signals — in WebAssembly such a panic aborts mid-update.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
