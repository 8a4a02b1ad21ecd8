//! A spec as `serde_json::Value` plus the line of every node, loaded through `lakeflow-yaml` so
//! errors can point at the line of the key serde rejects.

use std::collections::HashMap;

use lakeflow_yaml::{Node, SpecError, Value, join_path};

/// A parsed document and the line of each node, keyed by its dotted path (`endpoints[2].params`).
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub(crate) root: serde_json::Value,
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

    /// Records the line of `node` at `path` and of everything below it; a mapping entry's line
    /// is its key's.
    fn index(&mut self, node: &Node, path: String) {
        match &node.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.index(item, format!("{path}[{i}]"));
                }
            }
            Value::Map(entries) => {
                for entry in entries {
                    let key_path = join_path(&path, &entry.key);
                    self.lines.insert(key_path.clone(), entry.line);
                    self.index(&entry.value, key_path);
                }
            }
        }
        self.lines.entry(path).or_insert(node.line);
    }
}

/// Parses one document; `file` names it in errors.
pub(crate) fn parse(text: &str, file: &str) -> Result<Doc, SpecError> {
    let root = lakeflow_yaml::parse(text, file)
        .map_err(|error| SpecError {
            // Places in a simulator spec are named by endpoint and key, not by dotted path; the
            // line says where.
            path: String::new(),
            ..error
        })?
        .ok_or_else(|| SpecError::new(file, 0, "", "the spec is empty"))?;
    let mut doc = Doc {
        root: root.to_json(),
        lines: HashMap::new(),
    };
    doc.index(&root, String::new());
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_scalars_and_remembers_lines() {
        let doc = parse(
            "name: x\nn: 3\nf: 1.5\nq: \"3\"\nb: true\nz: ~\nlist:\n  - a: 1\n",
            "spec.yaml",
        )
        .unwrap();
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
            parse("a: 1\na: 2\n", "spec.yaml")
                .unwrap_err()
                .message
                .contains("duplicate key `a`")
        );
        assert!(parse("a: &x 1\nb: *x\n", "spec.yaml").is_err());
    }
}
