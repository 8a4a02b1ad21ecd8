//! YAML to `serde_json::Value`, remembering the line of every key so errors can point at it.
//!
//! Plain scalars resolve with the YAML 1.2 core schema (`123` is a number, `"123"` a string,
//! `true`/`false`, `null`/`~`). Rejected: several documents, anchors and aliases, non-scalar keys
//! and duplicate keys. JSON is YAML flow syntax, so JSON specs parse too.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A parsed document and the line of each node, keyed by its dotted path (`endpoints[2].params`).
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub(crate) root: Value,
    lines: HashMap<String, usize>,
}

impl Doc {
    /// The 1-based line of the node at `path`, or of its nearest ancestor; 0 when unknown.
    pub(crate) fn line(&self, path: &str) -> usize {
        let mut path = path;
        loop {
            if let Some(line) = self.lines.get(path) {
                return *line;
            }
            match path.rfind(['.', '[']) {
                Some(cut) => path = &path[..cut],
                None => return self.lines.get("").copied().unwrap_or(0),
            }
        }
    }
}

/// Joins a parent path and a key: `join("a", "b") == "a.b"`, `join("", "b") == "b"`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Parses one document. The error is the 1-based line and a message.
pub(crate) fn parse(text: &str) -> Result<Doc, (usize, String)> {
    let mut builder = Builder::default();
    let scanned = Parser::new_from_str(text).load(&mut builder, true);
    if let Some(error) = builder.error {
        return Err(error);
    }
    if let Err(e) = scanned {
        return Err((e.marker().line(), e.info().to_owned()));
    }
    match builder.root {
        Some(root) => Ok(Doc {
            root,
            lines: builder.lines,
        }),
        None => Err((0, "the spec is empty".to_owned())),
    }
}

enum Frame {
    Seq {
        path: String,
        items: Vec<Value>,
    },
    Map {
        path: String,
        entries: Map<String, Value>,
        key: Option<String>,
    },
}

impl Frame {
    fn child_path(&self) -> String {
        match self {
            Self::Seq { path, items } => format!("{path}[{}]", items.len()),
            Self::Map {
                path,
                key: Some(key),
                ..
            } => join(path, key),
            Self::Map { path, .. } => path.clone(),
        }
    }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    lines: HashMap<String, usize>,
    documents: usize,
    error: Option<(usize, String)>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        if let Err(message) = self.handle(event, mark.line()) {
            self.error = Some((mark.line(), message));
        }
    }
}

impl Builder {
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
                let value = resolve(text, style, tag.as_ref());
                self.push(value, line)?;
            }
            Event::SequenceStart(anchor, _) => {
                no_anchor(anchor)?;
                let path = self.open(line)?;
                self.stack.push(Frame::Seq {
                    path,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                no_anchor(anchor)?;
                let path = self.open(line)?;
                self.stack.push(Frame::Map {
                    path,
                    entries: Map::new(),
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let value = match self.stack.pop() {
                    Some(Frame::Seq { items, .. }) => Value::Array(items),
                    Some(Frame::Map { entries, .. }) => Value::Object(entries),
                    None => return Err("unbalanced collection end".into()),
                };
                self.attach(value)?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// Records the line of a collection about to be opened and returns its path.
    fn open(&mut self, line: usize) -> Result<String, String> {
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err("mapping keys must be plain scalars, not collections".into());
        }
        let path = self.stack.last().map(Frame::child_path).unwrap_or_default();
        self.lines.entry(path.clone()).or_insert(line);
        Ok(path)
    }

    /// A scalar arrived: it is a key, a mapping value, a sequence item or the root.
    fn push(&mut self, value: Value, line: usize) -> Result<(), String> {
        if let Some(Frame::Map {
            path,
            entries,
            key: key @ None,
        }) = self.stack.last_mut()
        {
            let name = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_owned(),
                Value::Array(_) | Value::Object(_) => unreachable!("scalars only"),
            };
            if entries.contains_key(&name) {
                return Err(format!("duplicate key `{name}`"));
            }
            self.lines.insert(join(path, &name), line);
            *key = Some(name);
            return Ok(());
        }
        let path = self.stack.last().map(Frame::child_path).unwrap_or_default();
        self.lines.entry(path).or_insert(line);
        self.attach(value)
    }

    /// A finished value goes into its parent (or becomes the root).
    fn attach(&mut self, value: Value) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { entries, key, .. }) => {
                let Some(name) = key.take() else {
                    return Err("mapping keys must be plain scalars, not collections".into());
                };
                entries.insert(name, value);
            }
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

/// Core-schema resolution of one scalar; quoted scalars and `!!str` are always strings.
fn resolve(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if style != TScalarStyle::Plain || tag.is_some_and(|t| t.suffix == "str") {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    let numeric = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if numeric && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_scalars_and_remembers_lines() {
        let doc =
            parse("name: x\nn: 3\nf: 1.5\nq: \"3\"\nb: true\nz: ~\nlist:\n  - a: 1\n").unwrap();
        assert_eq!(
            doc.root,
            serde_json::json!({"name": "x", "n": 3, "f": 1.5, "q": "3", "b": true, "z": null, "list": [{"a": 1}]})
        );
        assert_eq!(doc.line("n"), 2);
        assert_eq!(doc.line("list[0].a"), 8);
        assert_eq!(doc.line("list[0].a.missing"), 8);
    }

    #[test]
    fn rejects_duplicates_and_aliases() {
        assert!(
            parse("a: 1\na: 2\n")
                .unwrap_err()
                .1
                .contains("duplicate key `a`")
        );
        assert!(parse("a: &x 1\nb: *x\n").is_err());
    }
}
