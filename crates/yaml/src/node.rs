//! The tree [`crate::parse`] builds: every node keeps the line it starts on.

/// A node and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The 1-based line the node starts on.
    pub line: usize,
    /// What the node holds.
    pub value: Value,
}

/// The three kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar: text and its core-schema type.
    Scalar(Scalar),
    /// A list, in order.
    Seq(Vec<Node>),
    /// A mapping, its entries in file order (keys are unique).
    Map(Vec<Entry>),
}

/// One `key: value` of a mapping; `line` is the key's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as written (unquoted).
    pub key: String,
    /// The 1-based line of the key.
    pub line: usize,
    /// The value.
    pub value: Node,
}

/// A scalar's text as written (unquoted) and its resolved type.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The text as written, without quotes.
    pub text: String,
    /// The YAML 1.2 core-schema type.
    pub kind: ScalarKind,
}

/// The core-schema type of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false` (in any of the core schema's three spellings).
    Bool(bool),
    /// An integer: decimal, `0o` octal or `0x` hexadecimal.
    Int,
    /// A floating-point number, `.inf` and `.nan` included.
    Float,
    /// Anything else, and every quoted or block scalar.
    Str,
}

impl Value {
    /// What this value is, for messages: `a string`, `a list`, ...
    pub fn describe(&self) -> &'static str {
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

impl Scalar {
    /// The value of an integer scalar (`-12`, `+7`, `0o17`, `0x1F`), when it fits an `i128`;
    /// `None` for other kinds.
    pub fn integer(&self) -> Option<i128> {
        if self.kind != ScalarKind::Int {
            return None;
        }
        let text = self.text.as_str();
        if let Some(octal) = text.strip_prefix("0o") {
            i128::from_str_radix(octal, 8).ok()
        } else if let Some(hex) = text.strip_prefix("0x") {
            i128::from_str_radix(hex, 16).ok()
        } else {
            text.parse().ok()
        }
    }

    /// The scalar as JSON: integers that fit 64 bits and finite floats as numbers, anything
    /// else that JSON cannot hold (`.inf`, a 30-digit integer) as its text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self.kind {
            ScalarKind::Null => J::Null,
            ScalarKind::Bool(b) => J::Bool(b),
            ScalarKind::Int => self
                .integer()
                .and_then(|i| {
                    i64::try_from(i)
                        .map(J::from)
                        .or_else(|_| u64::try_from(i).map(J::from))
                        .ok()
                })
                .unwrap_or_else(|| J::String(self.text.clone())),
            ScalarKind::Float => self
                .text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| J::String(self.text.clone()), J::Number),
            ScalarKind::Str => J::String(self.text.clone()),
        }
    }
}

impl Node {
    /// The node as JSON; scalars as [`Scalar::to_json`] converts them.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Scalar(s) => s.to_json(),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Self::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn int(text: &str) -> Scalar {
        Scalar {
            text: text.to_owned(),
            kind: ScalarKind::Int,
        }
    }

    #[test]
    fn integers_are_read_in_every_core_notation() {
        assert_eq!(int("0x1F").integer(), Some(31));
        assert_eq!(int("0o17").integer(), Some(15));
        assert_eq!(int("+7").integer(), Some(7));
        assert_eq!(int("-12").integer(), Some(-12));
        let huge = "1".repeat(60);
        assert_eq!(int(&huge).integer(), None);
        assert_eq!(int(&huge).to_json(), json!(huge));
    }

    #[test]
    fn converts_to_json() {
        let root = crate::parse(
            "a: [1, 0x10, 1.5, .inf, \"2\", true, ~]\nb: {c: 18446744073709551615}\n",
            "t.yaml",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            root.to_json(),
            json!({"a": [1, 16, 1.5, ".inf", "2", true, null], "b": {"c": u64::MAX}})
        );
    }
}
