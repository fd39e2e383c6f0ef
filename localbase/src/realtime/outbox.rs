//! A connection's queue of frames to write, bounded in bytes as well as in frames. Every
//! subscriber gets the same encoded frame (shared, not copied), and a client that stops
//! reading cannot pin more than its budget: past it, the connection is closed with a
//! reason — as Phoenix drops a slow consumer — and the others carry on.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::ws::Message;
use tokio::sync::{mpsc, Notify};

/// Frames queued at most, whatever their size.
const MAX_FRAMES: usize = 1024;

struct Budget {
    queued: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
    notify: Notify,
}

/// The sending side; cheap to clone (one per subscription of the connection).
#[derive(Clone)]
pub struct Outbox {
    sender: mpsc::Sender<Message>,
    budget: Arc<Budget>,
}

/// The writing side, read by the connection's writer task.
pub struct Queue {
    receiver: mpsc::Receiver<Message>,
    budget: Arc<Budget>,
}

/// What the writer should do next.
pub enum Next {
    Write(Message),
    /// The client fell too far behind: close the connection.
    TooFarBehind {
        queued: usize,
    },
    /// Every sender is gone.
    Done,
}

fn size_of(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}

/// A new outbox that holds at most `limit_bytes` not yet written.
pub fn outbox(limit_bytes: usize) -> (Outbox, Queue) {
    let (sender, receiver) = mpsc::channel(MAX_FRAMES);
    let budget = Arc::new(Budget {
        queued: AtomicUsize::new(0),
        limit: limit_bytes,
        overflowed: AtomicBool::new(false),
        notify: Notify::new(),
    });
    (
        Outbox {
            sender,
            budget: budget.clone(),
        },
        Queue { receiver, budget },
    )
}

impl Outbox {
    /// Queues a frame; false (and the connection marked too far behind) when it does not
    /// fit. Close frames always fit.
    pub fn push(&self, message: Message) -> bool {
        let size = size_of(&message);
        let before = self.budget.queued.fetch_add(size, Ordering::AcqRel);
        let fits = before + size <= self.budget.limit || size == 0;
        if fits && self.sender.try_send(message).is_ok() {
            return true;
        }
        self.budget.queued.fetch_sub(size, Ordering::AcqRel);
        if !self.budget.overflowed.swap(true, Ordering::AcqRel) {
            self.budget.notify.notify_one();
        }
        false
    }
}

impl Queue {
    pub async fn next(&mut self) -> Next {
        if self.budget.overflowed.load(Ordering::Acquire) {
            return self.too_far_behind();
        }
        tokio::select! {
            message = self.receiver.recv() => match message {
                Some(message) => {
                    self.budget.queued.fetch_sub(size_of(&message), Ordering::AcqRel);
                    Next::Write(message)
                }
                None => Next::Done,
            },
            _ = self.budget.notify.notified() => self.too_far_behind(),
        }
    }

    fn too_far_behind(&self) -> Next {
        Next::TooFarBehind {
            queued: self.budget.queued.load(Ordering::Acquire),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_fit_the_budget_and_an_overflow_ends_the_queue() {
        let (outbox, mut queue) = outbox(10);
        assert!(outbox.push(Message::Text("12345".into())));
        assert!(outbox.push(Message::Text("67890".into())));
        assert!(
            !outbox.push(Message::Text("x".into())),
            "11 bytes do not fit 10"
        );
        assert!(matches!(
            queue.next().await,
            Next::TooFarBehind { queued: 10 }
        ));
    }

    #[tokio::test]
    async fn written_frames_free_their_bytes() {
        let (outbox, mut queue) = outbox(10);
        for _ in 0..5 {
            assert!(outbox.push(Message::Text("1234567890".into())));
            assert!(matches!(queue.next().await, Next::Write(_)));
        }
        drop(outbox);
        assert!(matches!(queue.next().await, Next::Done));
    }
}
