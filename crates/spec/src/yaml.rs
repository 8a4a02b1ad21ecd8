//! A small YAML tree whose nodes remember their line, built from `yaml-rust2` parser events.
//!
//! Scalars are resolved with the YAML 1.2 core schema: a plain `123` is an integer, a quoted
//! `"123"` stays a string. JSON is YAML flow syntax, so JSON files parse here too. Rejected: more
//! than one document, anchors and aliases, tags other than the core ones, non-scalar keys,
//! duplicate keys and nesting deeper than [`MAX_DEPTH`].

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

/// A node and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) line: usize,
    pub(crate) value: Value,
}

/// The three kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` of a mapping; `line` is the key's line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) line: usize,
    pub(crate) value: Node,
}

/// A scalar's text as written (unquoted) and its resolved type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    pub(crate) text: String,
    pub(crate) kind: ScalarKind,
}

/// The core-schema type of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    Null,
    Bool(bool),
    Int,
    Float,
    Str,
}

impl Value {
    /// What this value is, for messages: `a string`, `a list`, ...
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Scalar(s) => match s.kind {
                ScalarKind::Null => "null",
                ScalarKind::Bool(_) => "a boolean",
                ScalarKind::Int => "an integer",
                ScalarKind::Float => "a number",
                ScalarKind::Str => "a string",
            },
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }
}

/// Parses one YAML (or JSON) document. `Ok(None)` when the text holds no document at all.
///
/// The error is the 1-based line, the dotted path of the enclosing collection and the message.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, (usize, String, String)> {
    let mut builder = Builder::default();
    // Events are pulled one by one rather than through `Parser::load`, which recurses once per
    // nesting level (a stack overflow on `- - - ...`) and keeps parsing after the first error.
    let mut parser = Parser::new_from_str(text);
    // At the end of the input the scanner marks the line after the last one.
    let last = last_line(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => {
                builder.on_event(event, mark.line().min(last));
                if let Some(error) = builder.error {
                    return Err(error);
                }
            }
            Err(e) => {
                let line = e.marker().line().min(last);
                return Err((line, String::new(), e.info().to_owned()));
            }
        }
    }
    Ok(builder.root)
}

/// The number of the last line of `text` (YAML line breaks: `\n`, `\r\n` and a lone `\r`).
fn last_line(text: &str) -> usize {
    1 + text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count()
}

/// The deepest nesting of lists and mappings accepted: far more than any spec needs, and
/// shallow enough that walking the tree recursively is safe.
pub(crate) const MAX_DEPTH: usize = 64;

/// A collection being built.
enum Frame {
    Seq {
        line: usize,
        path: String,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        path: String,
        entries: Vec<Entry>,
        /// The line of every key so far, to find duplicates without a quadratic scan.
        lines: HashMap<String, usize>,
        key: Option<(String, usize)>,
    },
}

impl Frame {
    fn path(&self) -> &str {
        match self {
            Self::Seq { path, .. } | Self::Map { path, .. } => path,
        }
    }

    /// The path of the next node added to this collection.
    fn child_path(&self) -> String {
        match self {
            Self::Seq { path, items, .. } => format!("{path}[{}]", items.len()),
            Self::Map {
                path,
                key: Some((key, _)),
                ..
            } => crate::error::join(path, key),
            Self::Map { path, .. } => path.clone(),
        }
    }
}

/// Receives parser events and builds the tree; keeps the first error only.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    error: Option<(usize, String, String)>,
}

impl Builder {
    fn on_event(&mut self, event: Event, line: usize) {
        if self.error.is_some() {
            return;
        }
        if let Err(message) = self.handle(event, line) {
            let path = self.stack.last().map(Frame::path).unwrap_or_default();
            self.error = Some((line, path.to_owned(), message));
        }
    }

    fn handle(&mut self, event: Event, line: usize) -> Result<(), String> {
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err("only one document is allowed (found a second `---`)".into());
                }
            }
            Event::Alias(_) => return Err("aliases (`*name`) are not supported".into()),
            Event::Scalar(text, style, anchor, tag) => {
                no_anchor(anchor)?;
                let kind = resolve(&text, style, tag.as_ref())?;
                self.push(Node {
                    line,
                    value: Value::Scalar(Scalar { text, kind }),
                })?;
            }
            Event::SequenceStart(anchor, tag) => {
                no_anchor(anchor)?;
                no_tag(tag.as_ref(), "seq")?;
                self.check_depth()?;
                self.stack.push(Frame::Seq {
                    line,
                    path: self.next_path(),
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, tag) => {
                no_anchor(anchor)?;
                no_tag(tag.as_ref(), "map")?;
                self.check_depth()?;
                self.stack.push(Frame::Map {
                    line,
                    path: self.next_path(),
                    entries: Vec::new(),
                    lines: HashMap::new(),
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq { line, items, .. }) => Node {
                        line,
                        value: Value::Seq(items),
                    },
                    Some(Frame::Map { line, entries, .. }) => Node {
                        line,
                        value: Value::Map(entries),
                    },
                    None => return Err("unbalanced collection end".into()),
                };
                self.push(node)?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn check_depth(&self) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!(
                "lists and mappings are nested more than {MAX_DEPTH} levels deep"
            ));
        }
        Ok(())
    }

    fn next_path(&self) -> String {
        self.stack.last().map(Frame::child_path).unwrap_or_default()
    }

    /// Adds a finished node to the collection being built, or makes it the root.
    fn push(&mut self, node: Node) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                lines,
                key,
                ..
            }) => match key.take() {
                Some((key, line)) => entries.push(Entry {
                    key,
                    line,
                    value: node,
                }),
                None => {
                    let Value::Scalar(scalar) = node.value else {
                        return Err(format!(
                            "a mapping key must be a plain name, not {}",
                            node.value.describe()
                        ));
                    };
                    if let Some(first) = lines.insert(scalar.text.clone(), node.line) {
                        return Err(format!(
                            "duplicate key `{}` (first given on line {first})",
                            scalar.text
                        ));
                    }
                    *key = Some((scalar.text, node.line));
                }
            },
        }
        Ok(())
    }
}

fn no_anchor(anchor: usize) -> Result<(), String> {
    if anchor == 0 {
        Ok(())
    } else {
        Err("anchors (`&name`) are not supported".into())
    }
}

/// The core-schema tag suffix of `tag`, when it is one (`!!str` -> `str`).
fn core_tag(tag: &Tag) -> Option<&str> {
    (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!").then_some(tag.suffix.as_str())
}

fn no_tag(tag: Option<&Tag>, allowed: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if core_tag(t) == Some(allowed) => Ok(()),
        Some(t) => Err(format!("unsupported tag `{}{}`", t.handle, t.suffix)),
    }
}

/// Resolves a scalar's type: quoted and block scalars are strings, plain ones follow the core
/// schema; the core tags `!!str`, `!!int`, `!!float`, `!!bool` and `!!null` force a type.
fn resolve(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<ScalarKind, String> {
    let plain = plain_kind(text);
    let Some(tag) = tag else {
        return Ok(if style == TScalarStyle::Plain {
            plain
        } else {
            ScalarKind::Str
        });
    };
    let wanted = core_tag(tag);
    match (wanted, plain) {
        (Some("str"), _) => Ok(ScalarKind::Str),
        (Some("null"), ScalarKind::Null)
        | (Some("bool"), ScalarKind::Bool(_))
        | (Some("int"), ScalarKind::Int)
        | (Some("float"), ScalarKind::Float) => Ok(plain),
        (Some("float"), ScalarKind::Int) => Ok(ScalarKind::Float),
        (Some(suffix @ ("null" | "bool" | "int" | "float")), _) => {
            Err(format!("`{text}` is not a valid !!{suffix}"))
        }
        _ => Err(format!("unsupported tag `{}{}`", tag.handle, tag.suffix)),
    }
}

/// The YAML 1.2 core schema type of a plain scalar.
pub(crate) fn plain_kind(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float,
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if is_digits(unsigned, 10)
        || text.strip_prefix("0o").is_some_and(|d| is_digits(d, 8))
        || text.strip_prefix("0x").is_some_and(|d| is_digits(d, 16))
    {
        return ScalarKind::Int;
    }
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || is_float(unsigned) {
        return ScalarKind::Float;
    }
    ScalarKind::Str
}

fn is_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, without a sign.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => is_digits(frac, 10),
        Some((int, frac)) => is_digits(int, 10) && (frac.is_empty() || is_digits(frac, 10)),
        None => is_digits(mantissa, 10),
    };
    let exponent_ok =
        exponent.is_none_or(|e| is_digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> ScalarKind {
        plain_kind(text)
    }

    #[test]
    fn core_schema_plain_scalars() {
        for t in ["", "~", "null", "NULL"] {
            assert_eq!(kinds(t), ScalarKind::Null, "{t}");
        }
        assert_eq!(kinds("True"), ScalarKind::Bool(true));
        assert_eq!(kinds("FALSE"), ScalarKind::Bool(false));
        for t in ["0", "-12", "+7", "0o17", "0x1F"] {
            assert_eq!(kinds(t), ScalarKind::Int, "{t}");
        }
        for t in ["1.5", "-.5", "1.", "1e3", "2.5E-3", ".inf", "-.Inf", ".nan"] {
            assert_eq!(kinds(t), ScalarKind::Float, "{t}");
        }
        // YAML 1.1 booleans and other look-alikes are strings in 1.2.
        for t in [
            "yes", "no", "on", "1_000", "0b1", "1.2.3", "e3", ".", "-", "0x", "1e",
        ] {
            assert_eq!(kinds(t), ScalarKind::Str, "{t}");
        }
    }

    #[test]
    fn tree_keeps_lines_styles_and_tags() {
        let text = "a: 1\nb: \"1\"\nc:\n  - x\n  - !!str 2\nd: {e: ~}\n";
        let root = parse(text).unwrap().unwrap();
        let Value::Map(entries) = root.value else {
            panic!("not a map")
        };
        let lines: Vec<_> = entries.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert_eq!(lines, [("a", 1), ("b", 2), ("c", 3), ("d", 6)]);
        let kind = |n: &Node| match &n.value {
            Value::Scalar(s) => s.kind,
            _ => panic!("not a scalar"),
        };
        assert_eq!(kind(&entries[0].value), ScalarKind::Int);
        assert_eq!(kind(&entries[1].value), ScalarKind::Str);
        let Value::Seq(items) = &entries[2].value.value else {
            panic!("not a seq")
        };
        assert_eq!((items[0].line, items[1].line), (4, 5));
        assert_eq!(kind(&items[1]), ScalarKind::Str);
    }

    #[test]
    fn rejects_what_the_spec_does_not_need() {
        let err = |t: &str| parse(t).unwrap_err();
        let (line, path, message) = err("a:\n  - b: 1\n    c: 2\n    b: 3\n");
        assert_eq!((line, path.as_str()), (4, "a[0]"));
        assert_eq!(message, "duplicate key `b` (first given on line 2)");
        assert_eq!(err("a: 1\n---\nb: 2\n").0, 2);
        assert!(err("a: &x 1\nb: *x\n").2.contains("anchors"));
        assert!(err("a: !custom 1\n").2.contains("unsupported tag"));
        assert!(err("? [a]\n: 1\n").2.contains("mapping key"));
        assert!(err("a: !!int x\n").2.contains("not a valid !!int"));
        assert_eq!(err("a: b\n c: d\n").0, 2);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
        // An error at the end of the input is on the last line, not the one after it.
        assert_eq!(err("[").0, 1);
        assert_eq!(err("a: 1\r\nb: [").0, 2);
        assert_eq!(last_line("a\rb\r\nc\n"), 4);
    }
}
