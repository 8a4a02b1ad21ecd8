//! Connection options, table options, option declarations and the redacting [`Secret`] type.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// Per-table options (the spec's `table_configuration` minus the engine's own keys).
pub type TableOptions = BTreeMap<String, String>;

/// The option every incremental table honours: the most records one read returns.
pub const MAX_RECORDS_PER_BATCH: &str = "max_records_per_batch";

/// The name of the declaration that accepts any option ([`OptionSpec::any`]).
pub const ANY_OPTION: &str = "*";

/// A string that must never be shown: tokens, passwords, API keys.
///
/// `Debug` and `Display` print `***`; the value is reachable only through [`Secret::expose`], so
/// every place that uses the secret is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Use only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// The declaration of one option a connector reads: shared by the CLI, the docs and validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The option name as given by users.
    pub name: &'static str,
    /// Whether the option must be given.
    pub required: bool,
    /// Whether the value is a secret (never printed, logged or echoed in errors).
    pub secret: bool,
    /// One line for `--help` and docs.
    pub description: &'static str,
    /// For table options: the tables it applies to (empty means every table).
    pub tables: &'static [&'static str],
}

impl OptionSpec {
    /// An optional, non-secret option that applies everywhere.
    pub const fn optional(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            required: false,
            secret: false,
            description,
            tables: &[],
        }
    }

    /// A required option.
    pub const fn required(name: &'static str, description: &'static str) -> Self {
        Self {
            required: true,
            ..Self::optional(name, description)
        }
    }

    /// Marks the option as secret.
    pub const fn secret(self) -> Self {
        Self {
            secret: true,
            ..self
        }
    }

    /// Any option not declared otherwise: for connectors that pass options through to code
    /// that declares none (Python connectors written for the original take any string
    /// options). Its name is [`ANY_OPTION`].
    pub const fn any(description: &'static str) -> Self {
        Self::optional(ANY_OPTION, description)
    }

    /// Whether this declaration accepts the option `name`: it names it, or accepts any.
    pub fn accepts(&self, name: &str) -> bool {
        self.name == name || self.name == ANY_OPTION
    }

    /// Restricts a table option to the given tables.
    pub const fn for_tables(self, tables: &'static [&'static str]) -> Self {
        Self { tables, ..self }
    }

    /// Whether this table option applies to `table`.
    pub fn applies_to(&self, table: &str) -> bool {
        self.tables.is_empty() || self.tables.contains(&table)
    }
}

/// Connection options (the connection parameters a connector is constructed from).
///
/// A value set with [`ConnectionOptions::insert_secret`] (one read from an environment variable
/// or a file) is a secret whatever option it is given for: [`crate::ConnectorDescriptor::connect`]
/// scrubs it from every error and `Debug` output of the connector (see [`crate::Redactor`]).
///
/// `Debug` prints the keys only, so a secret can never leak through a stray `{:?}`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectionOptions {
    values: BTreeMap<String, String>,
    /// The keys whose values are secret because of where they came from.
    secret_keys: BTreeSet<String>,
}

impl fmt::Debug for ConnectionOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values.keys().map(|k| (k, "***")))
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ConnectionOptions {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            values: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            secret_keys: BTreeSet::new(),
        }
    }
}

impl ConnectionOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an option (replacing any value, and whether it was secret).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.secret_keys.remove(&key);
        self.values.insert(key, value.into());
    }

    /// Sets an option whose value is secret because of where it came from (an environment
    /// variable, a file), whether or not the connector declares the option secret.
    pub fn insert_secret(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.secret_keys.insert(key.clone());
        self.values.insert(key, value.into());
    }

    /// Whether the value of `key` was set with [`ConnectionOptions::insert_secret`].
    pub fn is_secret(&self, key: &str) -> bool {
        self.secret_keys.contains(key)
    }

    /// The value of an option.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value of a required option.
    pub fn require(&self, key: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| Error::MissingOption {
            option: key.to_owned(),
            table: None,
        })
    }

    /// The value of a secret option, wrapped so it cannot be printed.
    pub fn secret(&self, key: &str) -> Option<Secret> {
        self.get(key).map(Secret::new)
    }

    /// The option names given.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The options set with [`ConnectionOptions::insert_secret`], with their values.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.secret_keys
            .iter()
            .filter_map(|k| Some((k.as_str(), self.get(k)?)))
    }

    /// Removes an option, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.secret_keys.remove(key);
        self.values.remove(key)
    }
}

/// Reads a typed option from a string map, with a default and an error naming the option.
///
/// Works for table options and for connection options via [`ConnectionOptions::get`].
pub fn parse_option<T>(value: Option<&str>, name: &str, default: T) -> Result<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match value {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| Error::invalid_option(name, raw, e.to_string())),
    }
}

/// Reads a positive integer table option (`max_records_per_batch`, `limit`, `window_seconds`).
pub fn positive_option(options: &TableOptions, name: &str, default: u64) -> Result<u64> {
    let value = parse_option(options.get(name).map(String::as_str), name, default)?;
    if value == 0 {
        let raw = options.get(name).map_or("0", String::as_str);
        return Err(Error::invalid_option(name, raw, "must be at least 1"));
    }
    Ok(value)
}

/// Checks options against declarations: every required one present, no unknown one.
///
/// `table` is `None` for connection options; for table options, only the declarations that
/// apply to the table count.
pub fn check_options<'a>(
    given: impl IntoIterator<Item = &'a str>,
    specs: &[OptionSpec],
    table: Option<&str>,
) -> Result<()> {
    let applicable: Vec<&OptionSpec> = specs
        .iter()
        .filter(|s| table.is_none_or(|t| s.applies_to(t)))
        .collect();
    let given: Vec<&str> = given.into_iter().collect();
    for name in &given {
        if !applicable.iter().any(|s| s.accepts(name)) {
            return Err(Error::UnknownOption {
                option: (*name).to_owned(),
                table: table.map(str::to_owned),
                known: applicable.iter().map(|s| s.name.to_owned()).collect(),
            });
        }
    }
    if let Some(missing) = applicable
        .iter()
        .find(|s| s.required && !given.contains(&s.name))
    {
        return Err(Error::MissingOption {
            option: missing.name.to_owned(),
            table: table.map(str::to_owned),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catch_all_declaration_accepts_undeclared_options_but_keeps_required_ones() {
        let specs = [
            OptionSpec::required("class", "The connector."),
            OptionSpec::any("Passed to the connector."),
        ];
        check_options(["class", "api_key", "region"], &specs, None).unwrap();
        let err = check_options(["api_key"], &specs, None)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "missing required option `class`");
        let err = check_options(["x"], &specs[..1], Some("t"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown option `x` for table `t`"), "{err}");
    }

    #[test]
    fn secret_is_redacted_everywhere() {
        let s = Secret::new("ghp_supersecret");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "ghp_supersecret");
        let opts: ConnectionOptions = [("token", "ghp_supersecret"), ("owner", "me")]
            .into_iter()
            .collect();
        let debug = format!("{opts:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        assert!(!debug.contains("me\""), "{debug}");
        assert!(debug.contains("token"), "{debug}");
    }

    #[test]
    fn secret_marks_follow_the_value() {
        let mut opts = ConnectionOptions::new();
        opts.insert_secret("base_url", "https://from-env.test");
        opts.insert("owner", "me");
        assert!(opts.is_secret("base_url") && !opts.is_secret("owner"));
        assert_eq!(
            opts.secrets().collect::<Vec<_>>(),
            [("base_url", "https://from-env.test")]
        );
        let copy = opts.clone();
        opts.insert("base_url", "https://literal.test");
        assert!(!opts.is_secret("base_url") && copy.is_secret("base_url"));
        opts.insert_secret("owner", "x");
        opts.remove("owner");
        assert_eq!(opts.secrets().count(), 0);
    }

    #[test]
    fn check_options_names_unknown_and_missing() {
        const SPECS: &[OptionSpec] = &[
            OptionSpec::required("owner", "repository owner").for_tables(&["issues"]),
            OptionSpec::optional("category", "filter").for_tables(&["products"]),
        ];
        let err = check_options(["color"], SPECS, Some("products")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown option `color` for table `products`; known options: category"
        );
        let err = check_options(std::iter::empty(), SPECS, Some("issues")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required option `owner` for table `issues`"
        );
        check_options(["owner"], SPECS, Some("issues")).unwrap();
        // `owner` does not apply to products.
        assert!(check_options(["owner"], SPECS, Some("products")).is_err());
    }

    #[test]
    fn positive_option_rejects_zero_and_garbage() {
        let mut o = TableOptions::new();
        assert_eq!(positive_option(&o, MAX_RECORDS_PER_BATCH, 7).unwrap(), 7);
        o.insert(MAX_RECORDS_PER_BATCH.into(), "0".into());
        let e = positive_option(&o, MAX_RECORDS_PER_BATCH, 7).unwrap_err();
        assert!(e.to_string().contains("max_records_per_batch"), "{e}");
        o.insert(MAX_RECORDS_PER_BATCH.into(), "ten".into());
        let e = positive_option(&o, MAX_RECORDS_PER_BATCH, 7).unwrap_err();
        assert!(e.to_string().contains("\"ten\""), "{e}");
        o.insert(MAX_RECORDS_PER_BATCH.into(), " 25 ".into());
        assert_eq!(positive_option(&o, MAX_RECORDS_PER_BATCH, 7).unwrap(), 25);
    }
}
