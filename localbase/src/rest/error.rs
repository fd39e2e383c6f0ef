//! PostgREST's error body `{code, message, details, hint}` with its HTTP statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::jwt::Claims;

#[derive(Debug)]
pub struct RestError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
}

impl RestError {
    fn new(status: StatusCode, code: &str, message: String) -> Self {
        RestError {
            status,
            code: code.into(),
            message,
            details: None,
            hint: None,
        }
    }

    pub fn parse(message: String) -> Self {
        RestError::new(StatusCode::BAD_REQUEST, "PGRST100", message)
    }

    pub fn invalid_body(detail: &str) -> Self {
        let mut error = RestError::new(
            StatusCode::BAD_REQUEST,
            "PGRST102",
            "Empty or invalid json".into(),
        );
        error.details = Some(detail.to_string());
        error
    }

    pub fn unknown_table(table: &str) -> Self {
        RestError::new(
            StatusCode::NOT_FOUND,
            "PGRST205",
            format!("Could not find the table 'public.{table}' in the schema cache"),
        )
    }

    pub fn unknown_column(table: &str, column: &str) -> Self {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "42703",
            format!("column {table}.{column} does not exist"),
        )
    }

    /// Column named in an insert or update body that the table does not have.
    pub fn unknown_body_column(table: &str, column: &str) -> Self {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "PGRST204",
            format!("Could not find the '{column}' column of '{table}' in the schema cache"),
        )
    }

    /// No function of that name takes exactly the given argument names.
    pub fn unknown_function(name: &str, args: &[&str]) -> Self {
        let message = if args.is_empty() {
            format!(
                "Could not find the function public.{name} without parameters in the schema cache"
            )
        } else {
            let mut sorted = args.to_vec();
            sorted.sort_unstable();
            format!(
                "Could not find the function public.{name}({}) in the schema cache",
                sorted.join(", ")
            )
        };
        RestError::new(StatusCode::NOT_FOUND, "PGRST202", message)
    }

    pub fn no_relationship(parent: &str, embedded: &str) -> Self {
        let mut error = RestError::new(
            StatusCode::BAD_REQUEST,
            "PGRST200",
            format!(
                "Could not find a relationship between '{parent}' and '{embedded}' in the schema cache"
            ),
        );
        error.details = Some(format!(
            "Searched for a foreign key relationship between '{parent}' and '{embedded}' in the schema 'public', but no matches were found."
        ));
        error
    }

    pub fn ambiguous_relationship(parent: &str, embedded: &str) -> Self {
        let mut error = RestError::new(
            StatusCode::MULTIPLE_CHOICES,
            "PGRST201",
            format!(
                "Could not embed because more than one relationship was found for '{parent}' and '{embedded}'"
            ),
        );
        error.hint = Some(format!(
            "Try changing '{embedded}' to one of the foreign keys or their columns, e.g. '{embedded}!<column>'."
        ));
        error
    }

    pub fn range_not_satisfiable(offset: i64, total: i64) -> Self {
        let mut error = RestError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "PGRST103",
            "Requested range not satisfiable".into(),
        );
        error.details = Some(format!(
            "An offset of {offset} was requested, but there are only {total} rows."
        ));
        error
    }

    pub fn not_single(rows: i64) -> Self {
        let mut error = RestError::new(
            StatusCode::NOT_ACCEPTABLE,
            "PGRST116",
            "JSON object requested, multiple (or no) rows returned".into(),
        );
        error.details = Some(format!("The result contains {rows} rows"));
        error
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "rest request failed");
        RestError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PGRST000",
            "Database client error. Retrying the connection.".into(),
        )
    }

    /// Maps a PostgreSQL error to PostgREST's status for its SQLSTATE.
    pub fn from_database(error: tokio_postgres::Error, claims: &Claims) -> Self {
        let Some(db) = error.as_db_error() else {
            return RestError::internal(error);
        };
        let code = db.code().code();
        let status = match code {
            "23505" | "23503" => StatusCode::CONFLICT,
            "42501" if claims.database_role() == "anon" => StatusCode::UNAUTHORIZED,
            "42501" => StatusCode::FORBIDDEN,
            "42883" | "42P01" => StatusCode::NOT_FOUND,
            // A write inside a read-only (GET) transaction.
            "25006" => StatusCode::METHOD_NOT_ALLOWED,
            "53400" | "53300" => StatusCode::SERVICE_UNAVAILABLE,
            c if c.starts_with("08") || c.starts_with("XX") => StatusCode::SERVICE_UNAVAILABLE,
            c if c.starts_with("25") || c.starts_with("40") => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        RestError {
            status,
            code: code.to_string(),
            message: db.message().to_string(),
            details: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
        }
    }
}

impl From<super::caller::CallerError> for RestError {
    fn from(error: super::caller::CallerError) -> Self {
        let (code, message) = match &error {
            super::caller::CallerError::Expired => ("PGRST303", "JWT expired".to_string()),
            other => ("PGRST301", other.to_string()),
        };
        RestError::new(StatusCode::UNAUTHORIZED, code, message)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "hint": self.hint,
            })),
        )
            .into_response()
    }
}
