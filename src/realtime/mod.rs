//! Supabase Realtime client: pure protocol, channel and connection logic, plus the thin
//! browser glue that carries it out.

pub mod backoff;
pub mod channel;
pub mod client;
pub mod connection;
pub mod presence;
pub mod protocol;
pub mod socket;

pub use channel::{ChangesFilter, ChannelEvent, JoinConfig, PresenceConfig, Status};
pub use client::{ChannelHandle, RealtimeClient};
pub use connection::ConnectionState;
