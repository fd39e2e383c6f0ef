//! What a request asks of the answer (`Prefer`, `Accept`) and how PostgREST shapes it:
//! status, `Content-Range`, `Location`, single objects.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::write::{InsertOptions, OnConflict};
use super::RestError;

pub const SINGLE_OBJECT: &str = "application/vnd.pgrst.object+json";

/// `Prefer: return=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    HeadersOnly,
    Representation,
}

/// What the `Prefer` and `Accept` headers ask for.
#[derive(Debug, Clone, Copy)]
pub struct Preferences {
    /// `None` when the request did not say; reads default to a body, writes to none.
    pub returning: Option<Return>,
    pub insert: InsertOptions,
    pub count: bool,
    pub single: bool,
}

impl Preferences {
    pub fn from(headers: &HeaderMap) -> Self {
        let prefer: Vec<String> = headers
            .get_all("prefer")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(',').map(|p| p.trim().to_string()))
            .collect();
        let has = |wanted: &str| prefer.iter().any(|p| p == wanted);
        let returning = if has("return=representation") {
            Some(Return::Representation)
        } else if has("return=headers-only") {
            Some(Return::HeadersOnly)
        } else if has("return=minimal") {
            Some(Return::Minimal)
        } else {
            None
        };
        Preferences {
            returning,
            insert: InsertOptions {
                on_conflict: if has("resolution=ignore-duplicates") {
                    OnConflict::Ignore
                } else if has("resolution=merge-duplicates") {
                    OnConflict::Merge
                } else {
                    OnConflict::Fail
                },
                missing_default: has("missing=default"),
            },
            // Planned and estimated counts are exact here: the tables are small.
            count: prefer.iter().any(|p| {
                matches!(
                    p.as_str(),
                    "count=exact" | "count=planned" | "count=estimated"
                )
            }),
            single: headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains(SINGLE_OBJECT)),
        }
    }

    /// Writes answer with rows only when asked to.
    pub fn write_body(&self) -> bool {
        self.returning == Some(Return::Representation)
    }

    /// A write reads its rows back: to answer them, or their keys for `Location`.
    pub fn write_reads_rows(&self) -> bool {
        matches!(
            self.returning,
            Some(Return::Representation | Return::HeadersOnly)
        )
    }
}

/// What a statement produced.
#[derive(Debug)]
pub struct Outcome {
    pub body: String,
    pub rows: i64,
    pub total: Option<i64>,
}

impl Outcome {
    /// `application/vnd.pgrst.object+json` needs exactly one row: PGRST116 otherwise.
    pub fn check_single(&self, preferences: &Preferences) -> Result<(), RestError> {
        if preferences.single && self.rows != 1 {
            return Err(RestError::not_single(self.rows));
        }
        Ok(())
    }
}

/// `Content-Range: first-last/total` (`*` where unknown or empty).
pub fn content_range(offset: i64, rows: i64, total: Option<i64>) -> String {
    let range = if rows == 0 {
        "*".to_string()
    } else {
        format!("{offset}-{}", offset + rows - 1)
    };
    let total = total.map_or_else(|| "*".to_string(), |t| t.to_string());
    format!("{range}/{total}")
}

/// A read's status: 206 when a count shows rows beyond the page, 416 past the end.
pub fn read_status(offset: i64, rows: i64, total: Option<i64>) -> Result<StatusCode, RestError> {
    match total {
        Some(total) if offset > total => Err(RestError::range_not_satisfiable(offset, total)),
        Some(total) if offset > 0 || offset + rows < total => Ok(StatusCode::PARTIAL_CONTENT),
        _ => Ok(StatusCode::OK),
    }
}

/// The response: a JSON body (an object for single requests) or none, plus headers.
pub fn respond(
    status: StatusCode,
    outcome: Outcome,
    range: String,
    preferences: &Preferences,
    with_body: bool,
) -> Result<Response, RestError> {
    let mut response = if with_body {
        let (body, content_type) = if preferences.single {
            let value: Value = serde_json::from_str(&outcome.body).map_err(RestError::internal)?;
            let object = match value {
                Value::Array(mut items) => items.pop().unwrap_or(Value::Null),
                other => other,
            };
            (object.to_string(), SINGLE_OBJECT)
        } else {
            (outcome.body, "application/json; charset=utf-8")
        };
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    } else {
        status.into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&range) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_and_partial_status() {
        assert_eq!(content_range(0, 2, Some(5)), "0-1/5");
        assert_eq!(content_range(3, 2, None), "3-4/*");
        assert_eq!(content_range(0, 0, Some(0)), "*/0");
        assert_eq!(read_status(0, 5, Some(5)).unwrap(), StatusCode::OK);
        assert_eq!(
            read_status(0, 2, Some(5)).unwrap(),
            StatusCode::PARTIAL_CONTENT
        );
        assert_eq!(read_status(0, 2, None).unwrap(), StatusCode::OK);
        assert_eq!(read_status(9, 0, Some(5)).unwrap_err().code, "PGRST103");
    }

    #[test]
    fn prefer_values_combine_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            "prefer",
            HeaderValue::from_static("return=representation,count=exact"),
        );
        headers.append(
            "prefer",
            HeaderValue::from_static("resolution=merge-duplicates, missing=default"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static(SINGLE_OBJECT));
        let preferences = Preferences::from(&headers);
        assert_eq!(preferences.returning, Some(Return::Representation));
        assert!(preferences.count && preferences.single);
        assert!(preferences.insert.missing_default);
        assert_eq!(preferences.insert.on_conflict, OnConflict::Merge);
    }
}
