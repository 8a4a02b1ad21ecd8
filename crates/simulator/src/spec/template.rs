//! Path templates: `/repos/{owner}/{repo}/issues`, `/api/v2/tickets/{id}.json`. A segment holds at
//! most one `{param}`, with optional literal text before and after it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param {
        prefix: String,
        name: String,
        suffix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathTemplate {
    text: String,
    segments: Vec<Segment>,
}

impl PathTemplate {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!("path `{text}` must start with `/`"));
        }
        let mut segments = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for raw in split(text) {
            let segment = match (raw.find('{'), raw.find('}')) {
                (None, None) => Segment::Literal(raw.to_owned()),
                (Some(open), Some(close)) if open < close => {
                    let name = &raw[open + 1..close];
                    let suffix = &raw[close + 1..];
                    if name.is_empty() || suffix.contains(['{', '}']) {
                        return Err(format!(
                            "path `{text}`: segment `{raw}` must hold one `{{name}}`"
                        ));
                    }
                    if names.iter().any(|n| n == name) {
                        return Err(format!("path `{text}`: parameter `{name}` appears twice"));
                    }
                    names.push(name.to_owned());
                    Segment::Param {
                        prefix: raw[..open].to_owned(),
                        name: name.to_owned(),
                        suffix: suffix.to_owned(),
                    }
                }
                _ => return Err(format!("path `{text}`: unbalanced braces in `{raw}`")),
            };
            segments.push(segment);
        }
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The parameter names, in order.
    pub(crate) fn params(&self) -> Vec<&str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param { name, .. } => Some(name.as_str()),
                Segment::Literal(_) => None,
            })
            .collect()
    }

    /// Whether both templates match the same paths (`/rows` and `/rows/` do).
    pub(crate) fn same_paths(&self, other: &Self) -> bool {
        self.segments == other.segments
    }

    /// How many segments are fixed text; more specific templates win when several match.
    pub(crate) fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// The parameter values when `path` (already percent-decoded per segment by the caller, no
    /// query) matches.
    pub(crate) fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let parts: Vec<String> = split(path).map(percent_decode).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut values = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(text) => {
                    if text != part {
                        return None;
                    }
                }
                Segment::Param {
                    prefix,
                    name,
                    suffix,
                } => {
                    let value = part
                        .strip_prefix(prefix.as_str())?
                        .strip_suffix(suffix.as_str())?;
                    if value.is_empty() {
                        return None;
                    }
                    values.push((name.clone(), value.to_owned()));
                }
            }
        }
        Some(values)
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Path segments, ignoring a trailing slash (`/items/` is `/items`).
fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_params_with_prefix_and_suffix() {
        let t = PathTemplate::parse("/api/v2/tickets/{id}.json").unwrap();
        assert_eq!(
            t.matches("/api/v2/tickets/42.json").unwrap(),
            vec![("id".into(), "42".into())]
        );
        assert!(t.matches("/api/v2/tickets/.json").is_none());
        assert!(t.matches("/api/v2/tickets/42").is_none());
        let t = PathTemplate::parse("/repos/{owner}/{repo}/issues").unwrap();
        assert_eq!(t.params(), vec!["owner", "repo"]);
        assert_eq!(t.matches("/repos/a%20b/r/issues/").unwrap()[0].1, "a b");
        assert!(PathTemplate::parse("/x/{a}{b}").is_err());
        assert!(PathTemplate::parse("x").is_err());
        assert!(PathTemplate::parse("/{a}/{a}").is_err());
    }
}
