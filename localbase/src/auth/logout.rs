//! `POST /logout` with its scopes: `global` (default), `local`, `others`.

use super::*;

#[derive(Deserialize)]
pub(super) struct LogoutQuery {
    scope: Option<String>,
}

/// Ends the current session (`scope=local`), every session of the user (`global`, the
/// default), or all but the current one (`others`). Deleting a session deletes its
/// refresh tokens (foreign key cascade), so they stop working at once.
pub(super) async fn logout(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Response {
    answer(&headers, async {
        let client = state.pool.get().await.map_err(AuthError::internal)?;
        let caller = authenticate(&state, &client, &headers).await?;
        let scope = query.scope.as_deref().unwrap_or("global");
        let sql = match (scope, caller.session_id) {
            ("global", _) => "delete from auth.sessions where user_id = $1",
            ("local", Some(_)) => "delete from auth.sessions where user_id = $1 and id = $2",
            ("others", Some(_)) => "delete from auth.sessions where user_id = $1 and id <> $2",
            // A token without a session (minted by hand) has nothing local to end.
            ("local" | "others", None) => return Ok(StatusCode::NO_CONTENT),
            _ => {
                return Err(AuthError::bad_request(
                    "validation_failed",
                    format!("Unsupported logout scope {scope:?}"),
                ))
            }
        };
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = match &caller.session_id {
            Some(session_id) if scope != "global" => vec![&caller.user_id, session_id],
            _ => vec![&caller.user_id],
        };
        client
            .execute(sql, &params)
            .await
            .map_err(AuthError::internal)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
