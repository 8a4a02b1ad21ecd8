//! The environment: `${VAR}` expansion and the connections file search path.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The connections file name looked for next to the spec and in the config directory.
pub const CONNECTIONS_FILE: &str = "lakeflow.toml";

/// Why a value could not be expanded. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// `${NAME}` names a variable that is not set.
    Missing(String),
    /// `${` without a closing `}`.
    Unterminated,
    /// `${}`.
    Empty,
}

impl ExpandError {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Missing(name) => format!("environment variable `{name}` is not set"),
            Self::Unterminated => {
                "`${` without a closing `}` (write `$${` for a literal `${`)".into()
            }
            Self::Empty => "`${}` names no environment variable".into(),
        }
    }
}

/// Replaces every `${NAME}` in `value` with `env(NAME)`; `$${` stands for a literal `${`.
///
/// A `$` not followed by `{` is kept as it is. Substituted text is not expanded again.
pub(crate) fn expand(
    value: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let end = after.find('}').ok_or(ExpandError::Unterminated)?;
            let name = &after[..end];
            if name.trim().is_empty() {
                return Err(ExpandError::Empty);
            }
            let substituted = env(name).ok_or_else(|| ExpandError::Missing(name.to_owned()))?;
            out.push_str(&substituted);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Finds the connections file: the first of
///
/// 1. `explicit` (an error when it does not exist),
/// 2. `lakeflow.toml` in `spec_dir`,
/// 3. the file named by `$LAKEFLOW_CONFIG` (an error when set but missing),
/// 4. `$XDG_CONFIG_HOME/lakeflow/lakeflow.toml` when `XDG_CONFIG_HOME` is set, otherwise
///    `$HOME/.config/lakeflow/lakeflow.toml`.
///
/// `Ok(None)` when there is none. `env` looks up environment variables (empty counts as unset).
pub fn find_connections_file(
    explicit: Option<&Path>,
    spec_dir: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<PathBuf>> {
    if let Some(path) = explicit {
        if !path.is_file() {
            return Err(Error::MissingConnectionsFile {
                path: path.to_owned(),
                via: "given explicitly",
            });
        }
        return Ok(Some(path.to_owned()));
    }
    if let Some(dir) = spec_dir {
        let path = dir.join(CONNECTIONS_FILE);
        if path.is_file() {
            return Ok(Some(path));
        }
    }
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(path) = var("LAKEFLOW_CONFIG").map(PathBuf::from) {
        if !path.is_file() {
            return Err(Error::MissingConnectionsFile {
                path,
                via: "named by $LAKEFLOW_CONFIG",
            });
        }
        return Ok(Some(path));
    }
    let config_dir = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config")));
    Ok(config_dir
        .map(|dir| dir.join("lakeflow").join(CONNECTIONS_FILE))
        .filter(|path| path.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t0k".into()),
            "NESTED" => Some("${TOKEN}".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_references_and_escapes() {
        assert_eq!(expand("plain", env).unwrap(), "plain");
        assert_eq!(expand("${TOKEN}", env).unwrap(), "t0k");
        assert_eq!(expand("a-${TOKEN}-${TOKEN}b", env).unwrap(), "a-t0k-t0kb");
        assert_eq!(expand("$${TOKEN}", env).unwrap(), "${TOKEN}");
        assert_eq!(expand("cost $5, $$x, $", env).unwrap(), "cost $5, $$x, $");
        assert_eq!(expand("${NESTED}", env).unwrap(), "${TOKEN}");
        assert_eq!(expand("é${TOKEN}ü", env).unwrap(), "ét0kü");
    }

    #[test]
    fn expansion_errors_name_the_variable_only() {
        assert_eq!(
            expand("x${NOPE}", env),
            Err(ExpandError::Missing("NOPE".into()))
        );
        assert_eq!(expand("x${TOKEN", env), Err(ExpandError::Unterminated));
        assert_eq!(expand("${ }", env), Err(ExpandError::Empty));
        let message = ExpandError::Missing("NOPE".into()).message();
        assert_eq!(message, "environment variable `NOPE` is not set");
    }
}
