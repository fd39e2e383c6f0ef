//! The person's own account in the database: their profile (name, role) and, for a
//! trainer, the invitations that bring clients in. What the database refuses comes back
//! as an `ApiError` whose `text()` names it (`invitation_used`, …).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::fetch::Abort;
use super::rest::{get, patch_profile, post};
use super::{encode_component, ApiError};
use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub full_name: String,
    /// `trainer` or `client`.
    pub role: String,
}

impl Profile {
    pub fn is_trainer(&self) -> bool {
        self.role == "trainer"
    }
}

/// A trainer's invitation as they see it (never its token, which only its link holds).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Invitation {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    pub expires_at: String,
}

/// A new invitation: its token is in this answer only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewInvitation {
    pub invitation_id: String,
    pub token: String,
}

pub async fn profile(config: &Config, token: &str, user_id: &str) -> Result<Profile, ApiError> {
    let path = format!(
        "profiles?id=eq.{}&select=full_name,role",
        encode_component(user_id)
    );
    let rows: Vec<Profile> = get(config, token, &path).await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| ApiError::Decode("no profile".into()))
}

/// The name the people one talks to see.
pub async fn rename(
    config: &Config,
    token: &str,
    user_id: &str,
    full_name: &str,
) -> Result<(), ApiError> {
    patch_profile(
        config,
        token,
        user_id,
        &json!({ "full_name": full_name.trim() }),
    )
    .await
}

/// The trainer's invitations nobody has used, revoked or let expire, newest first.
pub async fn pending_invitations(
    config: &Config,
    token: &str,
    now_iso: &str,
) -> Result<Vec<Invitation>, ApiError> {
    let path = format!(
        "invitations?select=id,email,expires_at&used_at=is.null&revoked_at=is.null\
         &expires_at=gt.{}&order=created_at.desc&limit=100",
        encode_component(now_iso)
    );
    get(config, token, &path).await
}

pub async fn create_invitation(
    config: &Config,
    token: &str,
    client_email: &str,
) -> Result<NewInvitation, ApiError> {
    let args = match client_email.trim() {
        "" => json!({}),
        email => json!({ "client_email": email }),
    };
    let rows: Vec<NewInvitation> = post(
        config,
        token,
        "rpc/create_invitation",
        None,
        &args,
        Abort::new(),
    )
    .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| ApiError::Decode("no invitation".into()))
}

pub async fn revoke_invitation(
    config: &Config,
    token: &str,
    invitation_id: &str,
) -> Result<(), ApiError> {
    let args = json!({ "invitation": invitation_id });
    post::<serde_json::Value>(
        config,
        token,
        "rpc/revoke_invitation",
        None,
        &args,
        Abort::new(),
    )
    .await
    .map(drop)
}

/// Joins the trainer who sent `invitation_token`: the conversation's id.
pub async fn accept_invitation(
    config: &Config,
    token: &str,
    invitation_token: &str,
) -> Result<String, ApiError> {
    let args = json!({ "token": invitation_token });
    post(
        config,
        token,
        "rpc/accept_invitation",
        None,
        &args,
        Abort::new(),
    )
    .await
}
