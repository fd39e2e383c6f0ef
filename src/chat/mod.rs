//! The chat's data: message model, the id-keyed store, and the per-conversation hook.

pub mod conversation;
pub mod model;
pub mod store;
