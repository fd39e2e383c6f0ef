//! JSON text is read in one way only: into a `serde_json::Value`, then typed from there.
//! `serde_json::from_str::<T>` compiles the whole text parser again for every `T`; going
//! through `Value` compiles it once (scripts/size.sh measured the difference; BENCHMARKS.md).

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses JSON text.
pub fn parse(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str(text)
}

/// Parses JSON bytes (UTF-8).
pub fn parse_bytes(bytes: &[u8]) -> Option<Value> {
    parse(std::str::from_utf8(bytes).ok()?).ok()
}

/// Parses JSON text as a `T`.
pub fn from_text<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_value(parse(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_bytes_parse_alike_and_bad_input_is_an_error() {
        let text = r#"{"a":[1,"é"]}"#;
        assert_eq!(parse_bytes(text.as_bytes()), parse(text).ok());
        assert_eq!(parse_bytes(b"\xff"), None);
        assert!(from_text::<Vec<u8>>("[1,2").is_err());
        assert_eq!(from_text::<Vec<u8>>("[1,2]").unwrap(), vec![1, 2]);
    }
}
