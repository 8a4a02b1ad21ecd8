//! Errors: [`SpecError`] for anything wrong inside a file (with its line), [`Error`] for the rest.

use std::path::PathBuf;

pub use lakeflow_yaml::SpecError;

/// Result alias used throughout this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong loading a pipeline spec or a connections file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file's content is wrong at a known place.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The file could not be read.
    #[error("cannot read `{}`: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (shown in the message, so not also the error's source).
        cause: std::io::Error,
    },
    /// A connections file that was asked for by name does not exist.
    #[error("connections file `{}` ({via}) does not exist", path.display())]
    MissingConnectionsFile {
        /// The file.
        path: PathBuf,
        /// Who named it: `given explicitly` or `named by $LAKEFLOW_CONFIG`.
        via: &'static str,
    },
}

impl Error {
    /// The located error, when the problem is in a file's content.
    pub fn as_spec(&self) -> Option<&SpecError> {
        match self {
            Self::Spec(e) => Some(e),
            _ => None,
        }
    }
}

/// Builds [`SpecError`]s for one file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a>(pub(crate) &'a str);

impl Origin<'_> {
    /// An error at `line` about `path`.
    pub(crate) fn err(self, line: usize, path: &str, message: impl Into<String>) -> Error {
        Error::Spec(SpecError::new(self.0, line, path, message))
    }
}
