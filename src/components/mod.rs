//! UI components, one per file.

pub mod account_panel;
pub mod announcement;
pub mod channel_status;
pub mod chat_view;
pub mod composer;
pub mod conversation_list;
pub mod diagnostics;
pub mod invitations;
pub mod message_bubble;
pub mod message_list;
pub mod seen;
pub mod shell;
pub mod sign_in;
pub mod theme_toggle;
