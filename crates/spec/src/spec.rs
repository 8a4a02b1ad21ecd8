//! The pipeline spec: which connection, and which tables to ingest where.

use std::collections::BTreeMap;
use std::path::Path;

use lakeflow_connect::TableOptions;
use lakeflow_yaml::{Entry, Node, ScalarKind, Value, join_path};

use crate::config::{ScdType, table_configuration};
use crate::destination::Destination;
use crate::error::{Error, Origin, Result, SpecError};

const TOP_KEYS: &[&str] = &["connection_name", "objects"];
const OBJECT_KEYS: &[&str] = &["table"];
const TABLE_KEYS: &[&str] = &[
    "source_table",
    "destination_catalog",
    "destination_schema",
    "destination_table",
    "table_configuration",
];

/// A pipeline spec: the connection to read from and the tables to ingest.
///
/// The format is the original Lakeflow Community Connectors pipeline spec, in YAML or JSON (JSON
/// is YAML flow syntax, so both go through the same parser):
///
/// ```yaml
/// connection_name: my_github        # non-blank string
/// objects:                          # non-empty list
///   - table:
///       source_table: issues        # required, non-blank
///       destination_catalog: main   # optional; needs destination_schema
///       destination_schema: raw     # optional
///       destination_table: gh_issues  # optional; defaults to source_table
///       table_configuration:        # optional mapping
///         scd_type: SCD_TYPE_2      # SCD_TYPE_1 (default) | SCD_TYPE_2 | APPEND_ONLY, any case
///         primary_keys: [id]        # a list, JSON list text '["a","b"]', or one name
///         sequence_by: updated_at   # one column name
///         cluster_by: "a, b"        # a list, JSON list text, comma-separated names, or one name
///         owner: octocat            # any other key is a table option for the connector
/// ```
///
/// Rules:
///
/// - Unknown keys are errors at every level: the top, each item of `objects` (whose only key is
///   `table`) and inside `table`. Duplicate keys in any mapping are errors.
/// - `scd_type`, `primary_keys`, `sequence_by` and `cluster_by` are consumed into typed fields of
///   [`ObjectSpec`]; every other `table_configuration` key becomes a string table option: strings
///   as written, integers in decimal, floats as written, booleans as `true`/`false`, lists and
///   mappings as compact JSON text. A key with no value (`key:` or `key: null`) is an error.
/// - Names (`connection_name`, `source_table`, destinations) must be strings (quote `"2024"`).
///   Destination names, including a `destination_table` defaulted from `source_table`, must be
///   usable as directory names and URL path segments: not `.` or `..`, not starting with `_` or
///   `.`, no `/`, `\`, `%`, `?`, `#`, `:` or control characters, at most 255 bytes each and 512
///   bytes together (`catalog.schema.table`).
/// - The same source table may be listed twice with different destinations (two flows); two
///   entries writing the same destination (catalog, schema and table compared case-insensitively)
///   are an error naming both lines.
/// - One document only; anchors, aliases and custom tags are not supported, and lists and
///   mappings nest at most 64 levels deep. Scalars follow the YAML 1.2 core schema: `yes` is a
///   string, `"123"` is a string, `123` is an integer.
///
/// Every error is a [`SpecError`] naming the file, the line and the key:
/// `pipeline.yaml:7: objects[0].table: unknown key `sorce_table` (expected one of ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSpec {
    /// The file name used in messages.
    pub origin: String,
    /// The connection to read with (see [`crate::Connections`]).
    pub connection_name: String,
    /// The line of `connection_name`.
    pub connection_line: usize,
    /// The tables to ingest, in spec order; never empty.
    pub objects: Vec<ObjectSpec>,
}

/// One entry of `objects`: a source table and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    /// The line the entry starts on.
    pub line: usize,
    /// The position in `objects` (0-based).
    pub index: usize,
    /// The table in the source.
    pub source_table: String,
    /// The line of `source_table`.
    pub source_line: usize,
    /// The destination catalog, when given.
    pub destination_catalog: Option<String>,
    /// The destination schema, when given.
    pub destination_schema: Option<String>,
    /// The destination table: `destination_table`, or `source_table` when not given.
    pub destination_table: String,
    /// How history is kept.
    pub scd_type: ScdType,
    /// Primary key columns overriding the connector's, when given.
    pub primary_keys: Option<Vec<String>>,
    /// The column ordering changes, overriding the connector's cursor, when given.
    pub sequence_by: Option<String>,
    /// Clustering columns; empty when not given.
    pub cluster_by: Vec<String>,
    /// The `table_configuration` keys for the connector (all but the special ones).
    pub table_options: TableOptions,
    /// The line of every `table_configuration` key, special ones included.
    pub option_lines: BTreeMap<String, usize>,
}

impl ObjectSpec {
    /// Where the table is written.
    pub fn destination(&self) -> Destination {
        Destination {
            catalog: self.destination_catalog.clone(),
            schema: self.destination_schema.clone(),
            table: self.destination_table.clone(),
        }
    }

    /// The dotted path of this entry's `table` mapping: `objects[3].table`.
    pub fn path(&self) -> String {
        format!("objects[{}].table", self.index)
    }
}

impl PipelineSpec {
    /// Parses a spec (YAML or JSON). `origin` names the file in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let o = Origin(origin);
        let root = lakeflow_yaml::parse(text, origin)?.ok_or_else(|| {
            o.err(
                1,
                "",
                "the spec is empty (expected connection_name and objects)",
            )
        })?;
        let entries = mapping(o, &root, root.line, "")?;
        check_keys(o, entries, "", TOP_KEYS)?;
        let conn = required(o, entries, root.line, "", "connection_name")?;
        let connection_name = name(o, conn, "connection_name")?;
        let list = required(o, entries, root.line, "", "objects")?;
        let items = match &list.value.value {
            Value::Seq(items) if items.is_empty() => {
                return Err(o.err(list.line, "objects", "must list at least one table"));
            }
            Value::Seq(items) => items,
            other => {
                let found = other.describe();
                return Err(o.err(
                    list.line,
                    "objects",
                    format!("expected a list, found {found}"),
                ));
            }
        };
        let objects = items
            .iter()
            .enumerate()
            .map(|(index, item)| object(o, item, index))
            .collect::<Result<Vec<_>>>()?;
        check_destinations(o, &objects)?;
        Ok(Self {
            origin: origin.to_owned(),
            connection_name,
            connection_line: conn.line,
            objects,
        })
    }

    /// Reads and parses a spec file; messages name the file as `path` is written.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|cause| Error::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// An error at `line` of this spec, about the key at `path`.
    pub fn error_at(&self, line: usize, path: &str, message: impl Into<String>) -> SpecError {
        SpecError::new(&self.origin, line, path, message)
    }

    /// An error about the `table_configuration` key `key` of `object`, at that key's line (or
    /// the entry's line when the key is not in the spec); e.g. an option the connector does not
    /// know.
    pub fn option_error(
        &self,
        object: &ObjectSpec,
        key: &str,
        message: impl Into<String>,
    ) -> SpecError {
        match object.option_lines.get(key) {
            Some(&line) => self.error_at(
                line,
                &join_path(&object.path(), "table_configuration"),
                message,
            ),
            None => self.error_at(object.line, &object.path(), message),
        }
    }
}

/// Parses one item of `objects`.
fn object(o: Origin<'_>, item: &Node, index: usize) -> Result<ObjectSpec> {
    let item_path = format!("objects[{index}]");
    let entries = mapping(o, item, item.line, &item_path)?;
    check_keys(o, entries, &item_path, OBJECT_KEYS)?;
    let table = required(o, entries, item.line, &item_path, "table")?;
    let path = join_path(&item_path, "table");
    let entries = mapping(o, &table.value, table.line, &path)?;
    check_keys(o, entries, &path, TABLE_KEYS)?;
    let source = required(o, entries, table.line, &path, "source_table")?;
    let source_table = name(o, source, &join_path(&path, "source_table"))?;
    let optional = |key: &str| -> Result<Option<(String, usize)>> {
        match get(entries, key) {
            Some(e) if !is_null(&e.value) => {
                let key_path = join_path(&path, key);
                let value = name(o, e, &key_path)?;
                Destination::check_segment(&value).map_err(|m| o.err(e.line, &key_path, m))?;
                Ok(Some((value, e.line)))
            }
            _ => Ok(None),
        }
    };
    let catalog = optional("destination_catalog")?;
    let schema = optional("destination_schema")?;
    let destination_table = match optional("destination_table")? {
        Some((table, _)) => table,
        None => {
            Destination::check_segment(&source_table).map_err(|m| {
                let m = format!("{m}; set destination_table");
                o.err(source.line, &join_path(&path, "source_table"), m)
            })?;
            source_table.clone()
        }
    };
    if let (Some((_, line)), None) = (&catalog, &schema) {
        let message = "destination_catalog needs destination_schema as well";
        return Err(o.err(*line, &join_path(&path, "destination_catalog"), message));
    }
    let destination = Destination {
        catalog: catalog.as_ref().map(|(c, _)| c.clone()),
        schema: schema.as_ref().map(|(s, _)| s.clone()),
        table: destination_table.clone(),
    };
    destination
        .check()
        .map_err(|m| o.err(table.line, &path, m))?;
    let config = match get(entries, "table_configuration") {
        Some(e) => table_configuration(o, &e.value, &join_path(&path, "table_configuration"))?,
        None => crate::config::TableConfig::default(),
    };
    Ok(ObjectSpec {
        line: item.line,
        index,
        source_table,
        source_line: source.line,
        destination_catalog: catalog.map(|(c, _)| c),
        destination_schema: schema.map(|(s, _)| s),
        destination_table,
        scd_type: config.scd_type,
        primary_keys: config.primary_keys,
        sequence_by: config.sequence_by,
        cluster_by: config.cluster_by,
        table_options: config.options,
        option_lines: config.option_lines,
    })
}

/// Two entries must not write the same destination.
fn check_destinations(o: Origin<'_>, objects: &[ObjectSpec]) -> Result<()> {
    let mut seen: BTreeMap<_, &ObjectSpec> = BTreeMap::new();
    for object in objects {
        let destination = object.destination();
        if let Some(first) = seen.insert(destination.identity(), object) {
            let message = format!(
                "destination `{destination}` is also written by objects[{}] (line {})",
                first.index, first.line
            );
            return Err(o.err(object.line, &object.path(), message));
        }
    }
    Ok(())
}

/// The entries of a mapping node; `line` is where to report a wrong type.
fn mapping<'a>(o: Origin<'_>, node: &'a Node, line: usize, path: &str) -> Result<&'a [Entry]> {
    match &node.value {
        Value::Map(entries) => Ok(entries),
        other => Err(o.err(
            line,
            path,
            format!("expected a mapping, found {}", other.describe()),
        )),
    }
}

fn check_keys(o: Origin<'_>, entries: &[Entry], path: &str, allowed: &[&str]) -> Result<()> {
    match entries.iter().find(|e| !allowed.contains(&e.key.as_str())) {
        None => Ok(()),
        Some(e) => Err(o.err(
            e.line,
            path,
            format!(
                "unknown key `{}` (expected one of {})",
                e.key,
                allowed.join(", ")
            ),
        )),
    }
}

fn get<'a>(entries: &'a [Entry], key: &str) -> Option<&'a Entry> {
    entries.iter().find(|e| e.key == key)
}

/// The entry `key`, which must be present; `line` is the enclosing mapping's.
fn required<'a>(
    o: Origin<'_>,
    entries: &'a [Entry],
    line: usize,
    path: &str,
    key: &str,
) -> Result<&'a Entry> {
    get(entries, key).ok_or_else(|| o.err(line, path, format!("missing required key `{key}`")))
}

fn is_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
}

/// A non-blank string value, trimmed.
fn name(o: Origin<'_>, entry: &Entry, path: &str) -> Result<String> {
    match &entry.value.value {
        Value::Scalar(s) if s.kind == ScalarKind::Str && !s.text.trim().is_empty() => {
            Ok(s.text.trim().to_owned())
        }
        Value::Scalar(s) if s.kind == ScalarKind::Str || s.kind == ScalarKind::Null => {
            Err(o.err(entry.line, path, "must not be blank"))
        }
        Value::Scalar(s) => Err(o.err(
            entry.line,
            path,
            format!(
                "expected a string, found {} (quote it: \"{}\")",
                entry.value.value.describe(),
                s.text
            ),
        )),
        other => Err(o.err(
            entry.line,
            path,
            format!("expected a string, found {}", other.describe()),
        )),
    }
}
