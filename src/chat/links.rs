//! Web addresses in a message become links; everything else stays text. Only `http://`
//! and `https://` addresses are links (never `javascript:` or `data:`), and the text is
//! never read as HTML: the view puts each segment into a text node or an `href`.

/// A piece of a message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Punctuation that ends a sentence rather than an address ("see https://x.bg.").
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', '"', '\'', '»', '“', '”'];

/// Splits `body` into text and links, in order; joined again they are `body`.
pub fn segments(body: &str) -> Vec<Segment<'_>> {
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut text_from = 0; // where the text not yet pushed begins
    let mut at = 0;
    while at < bytes.len() {
        let Some(scheme) = scheme_at(bytes, at) else {
            at += 1;
            continue;
        };
        // An address ends at white space or an angle bracket (all ASCII, so `end` is a
        // character boundary), minus what ends the sentence around it.
        let end = bytes[at..]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'<' || b == b'>')
            .map_or(bytes.len(), |n| at + n);
        let link = trim_address(&body[at..end]);
        if link.len() <= scheme {
            at += scheme; // "http://" alone is text
            continue;
        }
        if at > text_from {
            out.push(Segment::Text(&body[text_from..at]));
        }
        out.push(Segment::Link(link));
        at += link.len();
        text_from = at;
    }
    if text_from < bytes.len() {
        out.push(Segment::Text(&body[text_from..]));
    }
    out
}

/// The length of `http://` or `https://` (any case) if one starts at `at`, at the start
/// of a word. (Byte checks only: the text around may be any script.)
fn scheme_at(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = &bytes[at..];
    let starts = |prefix: &[u8]| {
        rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let length = if starts(b"https://") {
        8
    } else if starts(b"http://") {
        7
    } else {
        return None;
    };
    let word_start = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
    word_start.then_some(length)
}

/// Drops sentence punctuation after an address, and a closing bracket it did not open.
fn trim_address(mut link: &str) -> &str {
    loop {
        let Some(last) = link.chars().next_back() else {
            return link;
        };
        let count = |wanted: u8| link.bytes().filter(|&b| b == wanted).count();
        let unbalanced_close = last == ')' && count(b'(') < count(b')');
        if TRAILING.contains(&last) || unbalanced_close {
            link = &link[..link.len() - last.len_utf8()];
        } else {
            return link;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::{Link, Text};

    #[test]
    fn addresses_become_links_and_sentence_punctuation_stays_text() {
        assert_eq!(
            segments("План: https://coach.bg/plan?week=2. Виж и (http://x.bg/a_(b)) !"),
            [
                Text("План: "),
                Link("https://coach.bg/plan?week=2"),
                Text(". Виж и ("),
                Link("http://x.bg/a_(b)"),
                Text(") !"),
            ]
        );
    }

    #[test]
    fn only_http_and_https_are_links() {
        for body in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://files.bg",
            "myhttps://x.bg",
            "http://",
            "<img src=x onerror=alert(1)>",
        ] {
            let found = segments(body);
            assert!(
                found.iter().all(|s| matches!(s, Text(_))),
                "{body}: {found:?}"
            );
            let joined: String = found
                .iter()
                .map(|s| match s {
                    Text(t) | Link(t) => *t,
                })
                .collect();
            assert_eq!(joined, body);
        }
        assert_eq!(segments("HTTPS://X.BG"), [Link("HTTPS://X.BG")]);
    }

    #[test]
    fn text_without_addresses_is_one_segment() {
        assert_eq!(segments("Здравей!"), [Text("Здравей!")]);
        assert!(segments("").is_empty());
    }
}
