//! A small YAML loader whose nodes remember their line, and [`SpecError`], the error that points
//! at a line and key of a spec file. The pipeline spec (`lakeflow-spec`) and the simulator spec
//! (`lakeflow-simulator`) both load through it, so their errors read the same.
//!
//! Scalars are resolved with the YAML 1.2 core schema: a plain `123` is an integer, a quoted
//! `"123"` stays a string. JSON is YAML flow syntax, so JSON files parse here too. Rejected: more
//! than one document, anchors and aliases, tags other than the core ones, non-scalar keys,
//! duplicate keys and nesting deeper than [`MAX_DEPTH`].
//!
//! # Example
//!
//! ```
//! use lakeflow_yaml::{ScalarKind, Value, parse};
//!
//! let root = parse("name: issues\nlimit: 100\n", "spec.yaml")?.expect("a document");
//! let Value::Map(entries) = &root.value else { unreachable!() };
//! assert_eq!((entries[1].key.as_str(), entries[1].line), ("limit", 2));
//! assert!(matches!(&entries[1].value.value, Value::Scalar(s) if s.kind == ScalarKind::Int));
//! assert_eq!(root.to_json(), serde_json::json!({"name": "issues", "limit": 100}));
//!
//! let err = parse("a: 1\nb:\n  - c: 2\n    c: 3\n", "spec.yaml").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "spec.yaml:4: b[0]: duplicate key `c` (first given on line 3)"
//! );
//! # Ok::<(), lakeflow_yaml::SpecError>(())
//! ```

mod error;
mod load;
mod node;
mod scalar;

pub use error::{Result, SpecError, join_path};
pub use load::{MAX_DEPTH, parse};
pub use node::{Entry, Node, Scalar, ScalarKind, Value};
