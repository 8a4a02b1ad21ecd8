//! The loader: `yaml-rust2` parser events in, a [`Node`] tree out, the first problem as a
//! [`SpecError`].

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

use crate::error::{Result, SpecError, join_path};
use crate::node::{Entry, Node, Scalar, Value};
use crate::scalar::{no_anchor, no_tag, resolve};

/// The deepest nesting of lists and mappings accepted: far more than any spec needs, and
/// shallow enough that walking the tree recursively is safe.
pub const MAX_DEPTH: usize = 64;

/// Parses one YAML (or JSON) document; `origin` names the file in errors. `Ok(None)` when the
/// text holds no document at all.
///
/// An error carries the 1-based line and the dotted path of the enclosing collection.
pub fn parse(text: &str, origin: &str) -> Result<Option<Node>> {
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
                if let Some((line, path, message)) = builder.error {
                    return Err(SpecError::new(origin, line, path, message));
                }
            }
            Err(e) => {
                let line = e.marker().line().min(last);
                return Err(SpecError::new(origin, line, "", e.info()));
            }
        }
    }
    Ok(builder.root)
}

/// The number of the last line of `text` (YAML line breaks: `\n`, `\r\n` and a lone `\r`).
fn last_line(text: &str) -> usize {
    1 + text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count()
}

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
            } => join_path(path, key),
            Self::Map { path, .. } => path.clone(),
        }
    }
}

/// Receives parser events and builds the tree; keeps the first error only, as (line, path of
/// the enclosing collection, message).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::ScalarKind;

    #[test]
    fn tree_keeps_lines_styles_and_tags() {
        let text = "a: 1\nb: \"1\"\nc:\n  - x\n  - !!str 2\nd: {e: ~}\n";
        let root = parse(text, "t.yaml").unwrap().unwrap();
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
        let err = |t: &str| parse(t, "t.yaml").unwrap_err();
        let e = err("a:\n  - b: 1\n    c: 2\n    b: 3\n");
        assert_eq!((e.line, e.path.as_str()), (4, "a[0]"));
        assert_eq!(e.message, "duplicate key `b` (first given on line 2)");
        assert_eq!(err("a: 1\n---\nb: 2\n").line, 2);
        assert!(err("a: &x 1\nb: *x\n").message.contains("anchors"));
        assert!(err("a: !custom 1\n").message.contains("unsupported tag"));
        assert!(err("? [a]\n: 1\n").message.contains("mapping key"));
        assert!(err("a: !!int x\n").message.contains("not a valid !!int"));
        assert_eq!(err("a: b\n c: d\n").line, 2);
        assert_eq!(parse("# only a comment\n", "t.yaml").unwrap(), None);
        // An error at the end of the input is on the last line, not the one after it.
        assert_eq!(err("[").line, 1);
        assert_eq!(err("a: 1\r\nb: [").line, 2);
        assert_eq!(last_line("a\rb\r\nc\n"), 4);
    }

    #[test]
    fn errors_name_the_file() {
        let e = parse("a: 1\na: 2\n", "spec.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "spec.yaml:2: duplicate key `a` (first given on line 1)"
        );
    }
}
