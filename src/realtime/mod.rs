//! Supabase Realtime client: pure protocol and channel logic, plus the browser glue.

pub mod backoff;
pub mod channel;
pub mod client;
pub mod protocol;
pub mod socket;

pub use channel::{ChangesFilter, ChannelEvent, JoinConfig, Status};
pub use client::{ChannelHandle, RealtimeClient};
