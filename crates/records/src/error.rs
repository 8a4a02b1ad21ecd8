//! The conversion error, and the cheap internal failure it is built from.
//!
//! Converting a value never formats anything on the happy path: a column converter that rejects a
//! value returns a boxed [`Fail`] holding the value and the expected type, and every enclosing
//! converter pushes its own path segment onto it while the error travels up. Only the top level,
//! which knows the record index, turns it into a [`ConvertError`].

use std::borrow::Cow;
use std::fmt::Write as _;

use arrow_schema::{ArrowError, DataType, TimeUnit};
use serde_json::Value;

/// Result alias used throughout the crate.
pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

/// Longest rendering of an offending value, in characters, before it is cut with `…`.
pub const MAX_VALUE_CHARS: usize = 80;

/// Why a page of records could not be converted.
///
/// Every per-value variant names the record index within the page, the column path (see the
/// crate docs for the notation) and the expected Arrow type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The schema has a type this crate cannot convert to (reported by [`crate::Converter::new`]).
    #[error("column `{path}`: unsupported type {data_type}: {reason}")]
    UnsupportedType {
        /// The column path.
        path: String,
        /// The type, as Arrow displays it.
        data_type: String,
        /// Why it is not supported.
        reason: String,
    },
    /// A value could not be converted to the column's type.
    #[error("record {record}, column `{path}`: cannot convert {value} to {expected}: {reason}")]
    InvalidValue {
        /// Index of the record within the page.
        record: usize,
        /// The column path.
        path: String,
        /// The offending value as compact JSON, cut to [`MAX_VALUE_CHARS`] characters.
        value: String,
        /// The expected type, e.g. `Timestamp(µs, UTC)`.
        expected: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A non-nullable field is absent from its object.
    #[error("record {record}, column `{path}`: missing value for non-nullable {expected}")]
    MissingField {
        /// Index of the record within the page.
        record: usize,
        /// The column path.
        path: String,
        /// The expected type.
        expected: String,
    },
    /// A non-nullable field, list item or map value is JSON `null`.
    #[error("record {record}, column `{path}`: null for non-nullable {expected}")]
    NullValue {
        /// Index of the record within the page.
        record: usize,
        /// The column path.
        path: String,
        /// The expected type.
        expected: String,
    },
    /// Arrow refused to assemble the converted columns (a bug if it ever happens).
    #[error("cannot assemble the record batch: {0}")]
    Arrow(ArrowError),
}

// By hand, not `#[from]`, which would make the Arrow error the source as well as print it.
impl From<ArrowError> for ConvertError {
    fn from(error: ArrowError) -> Self {
        Self::Arrow(error)
    }
}

impl ConvertError {
    /// The column path the error is about (empty for [`ConvertError::Arrow`]).
    pub fn path(&self) -> &str {
        match self {
            Self::UnsupportedType { path, .. }
            | Self::InvalidValue { path, .. }
            | Self::MissingField { path, .. }
            | Self::NullValue { path, .. } => path,
            Self::Arrow(_) => "",
        }
    }

    /// The index of the offending record within the page, when the error is about a value.
    pub fn record(&self) -> Option<usize> {
        match self {
            Self::InvalidValue { record, .. }
            | Self::MissingField { record, .. }
            | Self::NullValue { record, .. } => Some(*record),
            Self::UnsupportedType { .. } | Self::Arrow(_) => None,
        }
    }

    /// Turns the error into the connector interface's
    /// [`SchemaMismatch`](lakeflow_connect::Error::SchemaMismatch) for `table`: `field` is the
    /// column path, `reason` the rest of the message (record index, value, expected type, why).
    pub fn into_connect_error(self, table: &str) -> lakeflow_connect::Error {
        let field = self.path().to_owned();
        let reason = match self {
            Self::UnsupportedType {
                data_type, reason, ..
            } => format!("unsupported type {data_type}: {reason}"),
            Self::InvalidValue {
                record,
                value,
                expected,
                reason,
                ..
            } => format!("record {record}: cannot convert {value} to {expected}: {reason}"),
            Self::MissingField {
                record, expected, ..
            } => format!("record {record}: missing value for non-nullable {expected}"),
            Self::NullValue {
                record, expected, ..
            } => format!("record {record}: null for non-nullable {expected}"),
            Self::Arrow(e) => format!("cannot assemble the record batch: {e}"),
        };
        lakeflow_connect::Error::SchemaMismatch {
            table: table.to_owned(),
            field,
            reason,
        }
    }
}

/// One step of a column path, pushed while an error travels up the converter tree.
#[derive(Debug)]
pub(crate) enum Seg {
    /// A struct field or top-level column.
    Field(String),
    /// An element of a list.
    Index(usize),
    /// The value under a map key.
    Key(String),
    /// Any list item or map value, in schema (not value) errors.
    AnyItem,
}

#[derive(Debug)]
enum FailKind {
    Invalid {
        value: String,
        reason: Cow<'static, str>,
    },
    Missing,
    Null,
}

/// A value-level failure on its way up to the top level (boxed: the happy path stays small).
#[derive(Debug)]
pub(crate) struct Fail(Box<FailInner>);

#[derive(Debug)]
struct FailInner {
    kind: FailKind,
    expected: String,
    /// Path segments, innermost first.
    path: Vec<Seg>,
}

impl Fail {
    fn with(kind: FailKind, expected: &DataType) -> Self {
        Self(Box::new(FailInner {
            kind,
            expected: type_name(expected),
            path: Vec::new(),
        }))
    }

    /// `value` cannot be converted to `expected`, because of `reason`.
    #[cold]
    pub(crate) fn invalid(
        value: &Value,
        expected: &DataType,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        let kind = FailKind::Invalid {
            value: render_value(value),
            reason: reason.into(),
        };
        Self::with(kind, expected)
    }

    /// A value of the wrong JSON shape (e.g. an object for an integer column).
    #[cold]
    pub(crate) fn shape(value: &Value, expected: &DataType) -> Self {
        let got = lakeflow_connect::json_kind(value);
        Self::invalid(value, expected, format!("unexpected JSON value: {got}"))
    }

    /// A non-nullable field is absent.
    #[cold]
    pub(crate) fn missing(expected: &DataType) -> Self {
        Self::with(FailKind::Missing, expected)
    }

    /// A non-nullable slot holds `null`.
    #[cold]
    pub(crate) fn null(expected: &DataType) -> Self {
        Self::with(FailKind::Null, expected)
    }

    /// Prepends a path segment (called by each enclosing converter, innermost first).
    #[cold]
    #[must_use]
    pub(crate) fn at(mut self, seg: Seg) -> Self {
        self.0.path.push(seg);
        self
    }

    /// The public error for the record at index `record`.
    #[cold]
    pub(crate) fn into_error(self, record: usize) -> ConvertError {
        let FailInner {
            kind,
            expected,
            path,
        } = *self.0;
        let path = render_path(&path);
        match kind {
            FailKind::Invalid { value, reason } => ConvertError::InvalidValue {
                record,
                path,
                value,
                expected,
                reason: reason.into_owned(),
            },
            FailKind::Missing => ConvertError::MissingField {
                record,
                path,
                expected,
            },
            FailKind::Null => ConvertError::NullValue {
                record,
                path,
                expected,
            },
        }
    }
}

/// Renders innermost-first segments as `a.b[3].c["key"]` (or `a.b[].c` for [`Seg::AnyItem`]).
pub(crate) fn render_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs.iter().rev() {
        match seg {
            Seg::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Seg::Key(key) => {
                let _ = write!(out, "[{}]", Value::String(key.clone()));
            }
            Seg::AnyItem => out.push_str("[]"),
        }
    }
    out
}

/// Compact JSON of `value`, cut to [`MAX_VALUE_CHARS`] characters with a trailing `…`.
pub(crate) fn render_value(value: &Value) -> String {
    let mut text = value.to_string();
    if let Some((cut, _)) = text.char_indices().nth(MAX_VALUE_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A short, readable name for an Arrow type, as used in error messages.
pub(crate) fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Timestamp(unit, tz) => {
            let unit = match unit {
                TimeUnit::Second => "s",
                TimeUnit::Millisecond => "ms",
                TimeUnit::Microsecond => "µs",
                TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("Timestamp({unit}, {tz})"),
                None => format!("Timestamp({unit})"),
            }
        }
        DataType::Decimal128(p, s) => format!("Decimal128({p}, {s})"),
        DataType::Struct(_) => "Struct".to_owned(),
        DataType::List(item) => format!("List<{}>", type_name(item.data_type())),
        DataType::LargeList(item) => format!("LargeList<{}>", type_name(item.data_type())),
        DataType::Map(..) => "Map".to_owned(),
        other => other.to_string(),
    }
}
