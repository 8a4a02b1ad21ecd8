//! The connections file: named connections, each a source and its connection options.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use lakeflow_connect::ConnectionOptions;
use lakeflow_yaml::join_path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::env::{ExpandError, expand, find_connections_file};
use crate::error::{Error, Origin, Result};

/// The named connections a spec's `connection_name` refers to, read from a TOML file.
///
/// ```toml
/// # lakeflow.toml
/// [connections.my_github]
/// source = "github"                  # required: the connector to use
/// token = "${GITHUB_TOKEN}"          # environment reference, expanded when resolved
/// base_url = "https://api.github.com"
///
/// [connections.local_example]
/// source = "example"
/// seed = 7                           # strings, integers, floats and booleans; all become strings
/// ```
///
/// Rules:
///
/// - The only top-level table is `connections`; each `[connections.NAME]` must have a non-blank
///   string `source`. Every other key is a connection option; its value must be a string, an
///   integer (written in decimal), a float or a boolean (`true`/`false`). Arrays, tables and
///   dates are errors.
/// - `${VAR}` anywhere in a string value is replaced by the environment variable `VAR` when the
///   connection is resolved; `$${` stands for a literal `${`. A variable that is not set is an
///   error naming the connection, the key and the variable, never a value. A value that
///   references the environment is a secret whatever the option
///   ([`ConnectionOptions::insert_secret`]): connectors never echo it. `source` is written out,
///   not referenced.
/// - Errors name the file, the line and the key, like [`crate::SpecError`]s of a spec.
///
/// The file is searched for in this order, the first found wins (see [`find_connections_file`]):
///
/// 1. an explicit path (e.g. `--connections FILE`), which must exist;
/// 2. `lakeflow.toml` in the spec's directory;
/// 3. the file named by `$LAKEFLOW_CONFIG`, which must exist when the variable is set;
/// 4. `$XDG_CONFIG_HOME/lakeflow/lakeflow.toml`, or when `XDG_CONFIG_HOME` is not set,
///    `$HOME/.config/lakeflow/lakeflow.toml`.
///
/// No file at all is fine: there are then no connections, and a caller typically treats an
/// undefined `connection_name` as a source of that name with no options
/// ([`ResolvedConnection::implicit`]).
///
/// `Debug` shows connection names, sources and option keys, never option values.
#[derive(Clone, Default)]
pub struct Connections {
    origin: Option<String>,
    connections: BTreeMap<String, Connection>,
}

/// One `[connections.NAME]` table, values unexpanded.
#[derive(Clone)]
struct Connection {
    line: usize,
    source: Setting,
    options: BTreeMap<String, Setting>,
}

/// One value and its line; `expand` for strings (numbers and booleans are never expanded).
#[derive(Clone)]
struct Setting {
    value: String,
    line: usize,
    expand: bool,
}

/// A connection ready to use: its source and expanded options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedConnection {
    /// The connection name.
    pub name: String,
    /// The source (connector) name.
    pub source: String,
    /// The connection options, `source` excluded; `Debug` redacts the values.
    pub options: ConnectionOptions,
}

impl ResolvedConnection {
    /// The connection used when `name` is not defined: the source `name`, with no options.
    pub fn implicit(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            source: name.to_owned(),
            options: ConnectionOptions::new(),
        }
    }
}

impl Connections {
    /// No connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// Finds (see the search order above) and reads the connections file, looking up
    /// `LAKEFLOW_CONFIG`, `XDG_CONFIG_HOME` and `HOME` in the process environment.
    pub fn load(explicit: Option<&Path>, spec_dir: Option<&Path>) -> Result<Self> {
        Self::load_with_env(explicit, spec_dir, |name| std::env::var(name).ok())
    }

    /// [`Connections::load`], looking environment variables up with `env`.
    pub fn load_with_env(
        explicit: Option<&Path>,
        spec_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let Some(path) = find_connections_file(explicit, spec_dir, env)? else {
            return Ok(Self::new());
        };
        let text = std::fs::read_to_string(&path).map_err(|cause| Error::Read {
            path: path.clone(),
            cause,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a connections file; `origin` names it in messages. `${VAR}` references are kept
    /// as they are until [`Connections::resolve`].
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let o = Origin(origin);
        let lines = Lines::new(text);
        let line = |span: std::ops::Range<usize>| lines.line_of(span.start);
        let root = DeTable::parse(text).map_err(|e| {
            let at = e.span().map_or(0, |s| lines.line_of(s.start));
            o.err(at, "", e.message().trim_end().to_owned())
        })?;
        let mut connections = BTreeMap::new();
        for (key, value) in in_file_order(root.get_ref()) {
            if key.get_ref() != "connections" {
                let message = format!(
                    "unknown key `{}` (expected one of connections)",
                    key.get_ref()
                );
                return Err(o.err(line(key.span()), "", message));
            }
            let DeValue::Table(table) = value.get_ref() else {
                let found = describe(value.get_ref());
                return Err(o.err(
                    line(key.span()),
                    "connections",
                    format!("expected a table, found {found}"),
                ));
            };
            for (name, value) in in_file_order(table) {
                let path = join_path("connections", name.get_ref());
                let connection = connection(o, &lines, &path, line(name.span()), value)?;
                connections.insert(name.get_ref().to_string(), connection);
            }
        }
        Ok(Self {
            origin: Some(origin.to_owned()),
            connections,
        })
    }

    /// The file the connections were read from; `None` when there was none.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// Whether no connection is defined.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// The connection names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.connections.keys().map(String::as_str)
    }

    /// The line `[connections.NAME]` starts on, when defined.
    pub fn line(&self, name: &str) -> Option<usize> {
        self.connections.get(name).map(|c| c.line)
    }

    /// The connection `name` with `${VAR}` references expanded through `env`; `Ok(None)` when
    /// it is not defined.
    pub fn resolve(
        &self,
        name: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ResolvedConnection>> {
        let Some(connection) = self.connections.get(name) else {
            return Ok(None);
        };
        let o = Origin(self.origin.as_deref().unwrap_or_default());
        let path = join_path("connections", name);
        let mut options = ConnectionOptions::new();
        for (key, setting) in &connection.options {
            if !setting.expand {
                options.insert(key.clone(), setting.value.clone());
                continue;
            }
            let referenced = Cell::new(false);
            let value = expand(&setting.value, |var| {
                referenced.set(true);
                env(var)
            })
            .map_err(|e| o.err(setting.line, &join_path(&path, key), e.message()))?;
            // A value that took anything from the environment is a secret, whatever the option:
            // it is scrubbed from everything the connector reports.
            if referenced.get() {
                options.insert_secret(key.clone(), value);
            } else {
                options.insert(key.clone(), value);
            }
        }
        Ok(Some(ResolvedConnection {
            name: name.to_owned(),
            source: connection.source.value.clone(),
            options,
        }))
    }
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Keys<'a>(&'a Connection);
        impl fmt::Debug for Keys<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Connection")
                    .field("source", &self.0.source.value)
                    .field("options", &self.0.options.keys().collect::<Vec<_>>())
                    .finish()
            }
        }
        f.debug_struct("Connections")
            .field("origin", &self.origin)
            .field(
                "connections",
                &self
                    .connections
                    .iter()
                    .map(|(k, c)| (k, Keys(c)))
                    .collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

/// Parses one `[connections.NAME]` table at `path`, whose name is on `line`.
fn connection(
    o: Origin<'_>,
    lines: &Lines,
    path: &str,
    line: usize,
    value: &Spanned<DeValue<'_>>,
) -> Result<Connection> {
    let DeValue::Table(table) = value.get_ref() else {
        let found = describe(value.get_ref());
        return Err(o.err(
            line,
            path,
            format!("expected a table ([{path}]), found {found}"),
        ));
    };
    let mut source = None;
    let mut options = BTreeMap::new();
    for (key, value) in in_file_order(table) {
        let key_line = lines.line_of(key.span().start);
        let key_path = join_path(path, key.get_ref());
        let (value, expand) = match value.get_ref() {
            DeValue::String(s) => (s.to_string(), true),
            DeValue::Integer(i) => (
                i128::from_str_radix(i.as_str(), i.radix())
                    .map_or_else(|_| i.to_string(), |n| n.to_string()),
                false,
            ),
            DeValue::Float(f) => (f.as_str().to_owned(), false),
            DeValue::Boolean(b) => (b.to_string(), false),
            other => {
                let message = format!(
                    "expected a string, number or boolean, found {}",
                    describe(other)
                );
                return Err(o.err(key_line, &key_path, message));
            }
        };
        let setting = Setting {
            value,
            line: key_line,
            expand,
        };
        if key.get_ref() == "source" {
            if !setting.expand {
                return Err(o.err(key_line, &key_path, "expected a string (the source name)"));
            }
            if setting.value.trim().is_empty() {
                return Err(o.err(key_line, &key_path, "must not be blank"));
            }
            // The source is named in messages, so it is written out: a value from the
            // environment would be echoed there.
            let value = crate::env::expand(&setting.value, |_| None).map_err(|e| {
                let message = match e {
                    ExpandError::Missing(_) => {
                        "must name the source itself, not an environment variable".to_owned()
                    }
                    other => other.message(),
                };
                o.err(key_line, &key_path, message)
            })?;
            source = Some(Setting {
                value,
                expand: false,
                ..setting
            });
        } else {
            options.insert(key.get_ref().to_string(), setting);
        }
    }
    let source = source.ok_or_else(|| o.err(line, path, "missing required key `source`"))?;
    Ok(Connection {
        line,
        source,
        options,
    })
}

/// A table's entries in the order they appear in the file.
fn in_file_order<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// Where a text's lines start, so that finding the line of an offset is a binary search (a
/// count of newlines per key made a file of 100,000 keys take minutes).
struct Lines {
    /// The byte offset of every `\n`, in order.
    newlines: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == b'\n').then_some(i))
            .collect();
        Self { newlines }
    }

    /// The 1-based line of byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&newline| newline < offset) + 1
    }
}

fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_newlines() {
        let lines = Lines::new("a\nb\nc");
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.line_of(1), 1);
        assert_eq!(lines.line_of(2), 2);
        assert_eq!(lines.line_of(99), 3);
    }

    #[test]
    fn integers_are_decimal_and_floats_as_written() {
        let text =
            "[connections.x]\nsource = \"s\"\nhex = 0xff\nbig = 1_000\nf = 1.5e3\nb = true\n";
        let c = Connections::parse(text, "c.toml").unwrap();
        let r = c.resolve("x", |_| None).unwrap().unwrap();
        assert_eq!(r.options.get("hex"), Some("255"));
        assert_eq!(r.options.get("big"), Some("1000"));
        assert_eq!(r.options.get("f"), Some("1.5e3"));
        assert_eq!(r.options.get("b"), Some("true"));
        assert_eq!(c.line("x"), Some(1));
    }
}
