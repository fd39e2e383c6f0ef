//! The chat's data and the hooks that own the session-long work: the realtime
//! connection, the inbox channel, delivery of the outbox, the conversation list, and the
//! open conversation. Components only render what these hold.

pub mod account;
pub mod announcement;
pub mod auth_link;
pub mod conversation;
pub mod delivery;
pub mod here;
pub mod inbox;
pub mod invitation;
pub mod links;
pub mod list;
pub mod listener;
pub mod model;
pub mod notifications;
pub mod outbox;
pub mod realtime;
pub mod search;
pub mod store;
pub mod timeline;
pub mod typing;
