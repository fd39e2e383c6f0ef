//! One listener at a time for something a session-long hook hears and the open
//! conversation wants at once (the inbox's rows, the outbox's stored messages). A newer
//! conversation's listener replaces the older one; stopping with an old ticket leaves the
//! newer listener alone.

use std::rc::Rc;

use leptos::prelude::*;

/// The last ticket given out, and the current listener with its ticket. Tickets only
/// grow, so an old one never matches a later listener.
type Current<T> = (u64, Option<(u64, Rc<dyn Fn(&T)>)>);

pub struct Listener<T: 'static>(StoredValue<Current<T>, LocalStorage>);

impl<T: 'static> Clone for Listener<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Listener<T> {}

impl<T: 'static> Listener<T> {
    pub fn new() -> Listener<T> {
        Listener(StoredValue::new_local((0, None)))
    }

    /// Hands everything heard to `handler` (instead of the previous listener); returns
    /// the ticket to `stop` with.
    pub fn listen(self, handler: impl Fn(&T) + 'static) -> u64 {
        let handler: Rc<dyn Fn(&T)> = Rc::new(handler);
        self.0
            .try_update_value(|(last, current)| {
                *last += 1;
                *current = Some((*last, handler));
                *last
            })
            .unwrap_or(0)
    }

    /// Stops handing things to the listener of `ticket` (a later listener stays).
    pub fn stop(self, ticket: u64) {
        let _ = self.0.try_update_value(|(_, current)| {
            if current.as_ref().is_some_and(|(t, _)| *t == ticket) {
                *current = None;
            }
        });
    }

    /// Hands `value` to the listener, if there is one.
    pub fn hand(self, value: &T) {
        let handler = self
            .0
            .try_with_value(|(_, current)| current.as_ref().map(|(_, h)| h.clone()))
            .flatten();
        if let Some(handler) = handler {
            handler(value);
        }
    }
}

impl<T: 'static> Default for Listener<T> {
    fn default() -> Self {
        Listener::new()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn the_newest_listener_hears_and_an_old_ticket_cannot_stop_it() {
        Owner::new().with(|| {
            let heard = Rc::new(RefCell::new(Vec::new()));
            let listener = Listener::<u32>::new();
            listener.hand(&1); // nobody listens yet: nothing happens
            let log = heard.clone();
            let first = listener.listen(move |n| log.borrow_mut().push(("first", *n)));
            listener.hand(&2);
            let log = heard.clone();
            let second = listener.listen(move |n| log.borrow_mut().push(("second", *n)));
            listener.hand(&3);
            listener.stop(first); // the first conversation closes after the second opened
            listener.hand(&4);
            listener.stop(second);
            listener.hand(&5);
            // A third listens after nobody did; the first's ticket still cannot stop it.
            let log = heard.clone();
            listener.listen(move |n| log.borrow_mut().push(("third", *n)));
            listener.stop(first);
            listener.hand(&6);
            assert_eq!(
                *heard.borrow(),
                [("first", 2), ("second", 3), ("second", 4), ("third", 6)]
            );
        });
    }
}
