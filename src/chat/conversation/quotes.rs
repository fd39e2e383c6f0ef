//! What replies quote: the original from the conversation when it is loaded, otherwise
//! fetched by id once (an answer to last month's plan must still show the plan).

use leptos::prelude::*;

use super::Conversation;
use crate::api::rest;
use crate::chat::model::MessageRow;

/// Most originals asked for in one request.
const BATCH: usize = 50;

impl Conversation {
    /// The message `id` as the quote shows it (tracked: the quote follows edits and
    /// deletion), if it is known yet.
    pub fn quoted(self, id: &str) -> Option<MessageRow> {
        let loaded = self
            .store
            .with(|store| store.get(id).map(|m| m.row.clone()));
        loaded.or_else(|| self.quotes.with(|q| q.get(id).cloned().flatten()))
    }

    /// Asks for the originals of replies whose original is not loaded (once each).
    pub(super) fn fetch_missing_quotes(self) {
        let missing: Vec<String> = self.store.with(|store| {
            self.quotes.with_untracked(|asked| {
                let mut missing = Vec::new();
                for message in store.messages() {
                    if let Some(original) = &message.row.reply_to {
                        let known = store.get(original).is_some() || asked.contains_key(original);
                        if !known && !missing.contains(original) && missing.len() < BATCH {
                            missing.push(original.clone());
                        }
                    }
                }
                missing
            })
        });
        if missing.is_empty() {
            return;
        }
        self.quotes.update(|asked| {
            for id in &missing {
                asked.insert(id.clone(), None);
            }
        });
        let (Some(id), Some(token), config) = (self.id(), self.app.token(), self.app.config())
        else {
            return;
        };
        self.spawn(async move {
            match rest::messages_by_id(&config, &token, &id, &missing).await {
                Ok(rows) => {
                    self.quotes.try_update(|quotes| {
                        for row in rows {
                            quotes.insert(row.id.clone(), Some(row));
                        }
                    });
                }
                // Asked again with the next change of the conversation.
                Err(_) => {
                    self.quotes.try_update(|quotes| {
                        for id in &missing {
                            quotes.remove(id);
                        }
                    });
                }
            }
        });
    }
}
