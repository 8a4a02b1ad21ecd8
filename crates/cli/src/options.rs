//! `--option key=value` parsing and routing to connection or table options.
//!
//! A value on the command line is visible to every user through `ps`, so a value can also be
//! read from a file (`key=@/path`, one trailing newline dropped) or from an environment variable
//! (`key=env:NAME`). A value that really starts with `@` or `env:` is written with one more `@`
//! in front: `@@abc` is `@abc`, `@env:abc` is `env:abc`. Values read from a file or the
//! environment are secret whatever option they are given for: errors show `***` instead.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use lakeflow_connect::{ConnectionOptions, ConnectorDescriptor, LakeflowConnect, TableOptions};

/// Options shared by every command that talks to a source.
#[derive(Debug, Args)]
pub struct SourceOptions {
    /// A connection or table option, `key=value` (repeatable). Which options a source
    /// understands is listed by `lakeflow sources --format json`. Keep secrets off the command
    /// line (`ps` shows it): `key=@FILE` reads the value from a file, `key=env:NAME` from an
    /// environment variable; `@@` and `@env:` start a literal value with `@` or `env:`.
    #[arg(long = "option", short = 'o', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub options: Vec<(String, OptionValue)>,
    /// A table option, `key=value` (repeatable): for sources that take any option both ways
    /// (source `python`), where `--option` goes to the connection. Written like `--option`.
    #[arg(long = "table-option", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub table_options: Vec<(String, OptionValue)>,
}

/// An `-o` value as written: the value itself, or where to read it from.
#[derive(Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// The value, as given (escapes removed).
    Literal(String),
    /// `@PATH`: the contents of a file.
    File(PathBuf),
    /// `env:NAME`: the value of an environment variable.
    Env(String),
}

/// Never shows a literal value: it may be a secret given on the command line.
impl fmt::Debug for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(_) => f.write_str("Literal(***)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Env(name) => f.debug_tuple("Env").field(name).finish(),
        }
    }
}

impl OptionValue {
    /// Reads how a value is written: `@PATH`, `env:NAME`, the escapes `@@...` and `@env:...`,
    /// or a literal value.
    fn parse(value: &str) -> Result<Self, String> {
        if let Some(after_at) = value.strip_prefix('@') {
            if after_at.starts_with('@') || after_at.starts_with("env:") {
                return Ok(Self::Literal(after_at.to_owned()));
            }
            if after_at.is_empty() {
                return Err("`@` must be followed by a file name (`@@` is a literal `@`)".into());
            }
            return Ok(Self::File(PathBuf::from(after_at)));
        }
        if let Some(name) = value.strip_prefix("env:") {
            if name.is_empty() {
                return Err(
                    "`env:` must be followed by an environment variable name (`@env:` is a \
                     literal `env:`)"
                        .into(),
                );
            }
            return Ok(Self::Env(name.to_owned()));
        }
        Ok(Self::Literal(value.to_owned()))
    }

    /// The value, read from its file or variable when it names one. Errors name the option
    /// and the file or variable, never the value.
    fn resolve(&self, key: &str, env: &dyn Fn(&str) -> Option<OsString>) -> Result<String> {
        match self {
            Self::Literal(value) => Ok(value.clone()),
            Self::File(path) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("option `{key}`: cannot read `{}`", path.display()))?;
                let Ok(mut text) = String::from_utf8(bytes) else {
                    bail!("option `{key}`: `{}` is not UTF-8 text", path.display());
                };
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                Ok(text)
            }
            Self::Env(name) => match env(name) {
                None => bail!("option `{key}`: environment variable `{name}` is not set"),
                Some(value) => value.into_string().map_err(|_| {
                    anyhow::anyhow!("option `{key}`: environment variable `{name}` is not UTF-8")
                }),
            },
        }
    }

    /// Whether the value comes from outside the command line (and is therefore secret).
    fn is_indirect(&self) -> bool {
        !matches!(self, Self::Literal(_))
    }
}

fn parse_key_value(raw: &str) -> Result<(String, OptionValue), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            let value =
                OptionValue::parse(value).map_err(|e| format!("option `{}`: {e}", key.trim()))?;
            Ok((key.trim().to_owned(), value))
        }
        // Only the key is shown: what follows `=` may be a secret.
        Some(_) => Err("expected KEY=VALUE, got an empty key".to_owned()),
        None => Err("expected KEY=VALUE (no `=` given)".to_owned()),
    }
}

/// The options split by what the connector declares them to be.
pub struct RoutedOptions {
    pub connection: ConnectionOptions,
    pub table: TableOptions,
}

impl SourceOptions {
    /// Splits `--option`s into connection and table options using the descriptor, reading
    /// `@FILE` and `env:NAME` values. An option the connector declares neither way is an error
    /// naming it and listing what is known.
    pub fn route(&self, descriptor: &ConnectorDescriptor) -> Result<RoutedOptions> {
        self.route_with_env(descriptor, &|name| std::env::var_os(name))
    }

    /// [`SourceOptions::route`], looking environment variables up with `env`.
    fn route_with_env(
        &self,
        descriptor: &ConnectorDescriptor,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<RoutedOptions> {
        let mut connection = ConnectionOptions::new();
        let mut table = TableOptions::new();
        for (key, written) in &self.table_options {
            let route = descriptor.route_option(key).filter(|r| r.table);
            let Some(route) = route else {
                let known: Vec<&str> = descriptor.table_options.iter().map(|o| o.name).collect();
                bail!(
                    "unknown table option `{key}` for source `{}`; known table options: {}",
                    descriptor.name,
                    known.join(", ")
                );
            };
            table.insert(route.name, written.resolve(key, env)?);
        }
        for (key, written) in &self.options {
            let Some(route) = descriptor.route_option(key) else {
                let known: Vec<&str> = descriptor
                    .connection_options
                    .iter()
                    .chain(descriptor.table_options)
                    .map(|o| o.name)
                    .collect();
                bail!(
                    "unknown option `{key}` for source `{}`; known options: {}",
                    descriptor.name,
                    known.join(", ")
                );
            };
            let value = written.resolve(key, env)?;
            if route.table {
                table.insert(route.name.clone(), value.clone());
            }
            match (route.connection, written.is_indirect()) {
                (true, true) => connection.insert_secret(route.name, value),
                (true, false) => connection.insert(route.name, value),
                (false, _) => {}
            }
        }
        Ok(RoutedOptions { connection, table })
    }

    /// Finds the source, routes the options and builds the connector.
    pub fn connect(
        &self,
        source: &str,
    ) -> Result<(
        Box<dyn LakeflowConnect>,
        TableOptions,
        &'static ConnectorDescriptor,
    )> {
        let descriptor = lakeflow_connectors::find(source)?;
        let routed = self.route(descriptor)?;
        let connector = descriptor
            .connect(&routed.connection)
            .with_context(|| format!("cannot connect to source `{source}`"))?;
        Ok((connector, routed.table, descriptor))
    }
}

/// Rejects table options the connector does not declare for this table.
pub fn check_table_options(
    descriptor: &ConnectorDescriptor,
    table: &str,
    options: &TableOptions,
) -> Result<()> {
    descriptor.check_table_options(table, options.keys().map(String::as_str))?;
    Ok(())
}

/// Error context naming the source and table a command works on.
pub fn table_context(source: &str, table: &str) -> String {
    format!("source `{source}`, table `{table}`")
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use lakeflow_connect::{OptionSpec, Result as ConnectResult};

    use super::*;

    fn literal(key: &str, value: &str) -> (String, OptionValue) {
        (key.to_owned(), OptionValue::Literal(value.to_owned()))
    }

    #[test]
    fn key_value_parsing() {
        assert_eq!(parse_key_value("a=b=c").unwrap(), literal("a", "b=c"));
        assert_eq!(parse_key_value("k=").unwrap(), literal("k", ""));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }

    #[test]
    fn values_can_name_a_file_or_a_variable_and_escapes_keep_literals() {
        let parsed = |raw: &str| parse_key_value(raw).unwrap().1;
        assert_eq!(
            parsed("token=@/run/secrets/gh"),
            OptionValue::File("/run/secrets/gh".into())
        );
        assert_eq!(
            parsed("token=env:GITHUB_TOKEN"),
            OptionValue::Env("GITHUB_TOKEN".into())
        );
        assert_eq!(parsed("k=@@x"), OptionValue::Literal("@x".into()));
        assert_eq!(parsed("k=@@@x"), OptionValue::Literal("@@x".into()));
        assert_eq!(parsed("k=@env:x"), OptionValue::Literal("env:x".into()));
        assert_eq!(
            parsed("k=a@b env:c"),
            OptionValue::Literal("a@b env:c".into())
        );
        assert_eq!(parsed("k=ENV:X"), OptionValue::Literal("ENV:X".into()));
        let err = parse_key_value("token=@").unwrap_err();
        assert_eq!(
            err,
            "option `token`: `@` must be followed by a file name (`@@` is a literal `@`)"
        );
        let err = parse_key_value("token=env:").unwrap_err();
        assert!(
            err.starts_with("option `token`: `env:` must be followed by"),
            "{err}"
        );
        // Debug never shows a literal value.
        let debug = format!("{:?}", parsed("token=ghp_literal"));
        assert_eq!(debug, "Literal(***)");
    }

    fn construct(_: &ConnectionOptions) -> ConnectResult<Box<dyn LakeflowConnect>> {
        Err(lakeflow_connect::Error::Protocol {
            message: "not used".into(),
        })
    }

    const CONNECTION: &[OptionSpec] = &[
        OptionSpec::required("token", "API token").secret(),
        OptionSpec::optional("base_url", "API root"),
    ];
    const TABLE: &[OptionSpec] = &[OptionSpec::optional("owner", "repository owner")];
    const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
        name: "fake",
        description: "a source for option tests",
        connection_options: CONNECTION,
        table_options: TABLE,
        auth: &[],
        constructor: construct,
        simulator: None,
    };

    fn route(raw: &[&str], env: &dyn Fn(&str) -> Option<OsString>) -> Result<RoutedOptions> {
        let options = raw.iter().map(|r| parse_key_value(r).unwrap()).collect();
        SourceOptions {
            options,
            table_options: Vec::new(),
        }
        .route_with_env(&DESCRIPTOR, env)
    }

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn table_options_given_as_such_go_to_the_table_and_must_be_declared() {
        let given = SourceOptions {
            options: vec![parse_key_value("token=t").unwrap()],
            table_options: vec![parse_key_value("owner=acme").unwrap()],
        };
        let routed = given.route_with_env(&DESCRIPTOR, &no_env).unwrap();
        assert_eq!(routed.table["owner"], "acme");
        assert_eq!(routed.connection.get("token"), Some("t"));
        let given = SourceOptions {
            options: Vec::new(),
            table_options: vec![parse_key_value("token=t").unwrap()],
        };
        let err = given.route_with_env(&DESCRIPTOR, &no_env).err().unwrap();
        assert!(
            err.to_string().starts_with("unknown table option `token`"),
            "{err}"
        );
    }

    #[test]
    fn file_and_environment_values_are_read_and_held_as_secrets() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"ghp_from_file\r\n").unwrap();
        let at_file = format!("token=@{}", file.path().display());
        let env = |name: &str| (name == "GH_URL").then(|| OsString::from("https://h.test\n"));
        let routed = route(&[&at_file, "base_url=env:GH_URL", "owner=env:GH_URL"], &env).unwrap();
        assert_eq!(routed.connection.get("token"), Some("ghp_from_file"));
        // Only a file loses its trailing newline; a variable is taken as it is.
        assert_eq!(routed.connection.get("base_url"), Some("https://h.test\n"));
        assert!(routed.connection.is_secret("token") && routed.connection.is_secret("base_url"));
        assert_eq!(routed.table["owner"], "https://h.test\n");

        let routed = route(&["token=ghp_literal", "base_url=@@x"], &no_env).unwrap();
        assert_eq!(routed.connection.get("base_url"), Some("@x"));
        assert!(!routed.connection.is_secret("token"));
    }

    #[test]
    fn a_missing_file_or_variable_is_named_without_the_value() {
        let err = route(&["token=@/nonexistent/lakeflow-token"], &no_env)
            .err()
            .unwrap();
        let text = format!("{err:#}");
        assert!(
            text.starts_with("option `token`: cannot read `/nonexistent/lakeflow-token`: "),
            "{text}"
        );
        let err = route(&["base_url=env:LAKEFLOW_TEST_UNSET"], &no_env)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "option `base_url`: environment variable `LAKEFLOW_TEST_UNSET` is not set"
        );
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&[0xff, 0xfe, b's', b'e', b'c']).unwrap();
        let err = route(&[&format!("token=@{}", file.path().display())], &no_env)
            .err()
            .unwrap();
        assert!(err.to_string().ends_with("is not UTF-8 text"), "{err}");
        // An unknown option is rejected before its file is read.
        let err = route(&["color=@/nonexistent/x"], &no_env).err().unwrap();
        assert!(
            err.to_string().starts_with("unknown option `color`"),
            "{err}"
        );
    }
}
