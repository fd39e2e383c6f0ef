//! The chat's data: message model, the id-keyed store, and the per-conversation hook.

pub mod conversation;
pub mod delivery;
pub mod model;
pub mod outbox;
pub mod store;
