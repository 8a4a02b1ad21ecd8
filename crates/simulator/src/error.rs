//! The crate's error type: spec problems name the file, the line, the endpoint and the key.

use std::path::PathBuf;

pub use lakeflow_yaml::SpecError;

/// Result alias used throughout this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong configuring or starting a simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec (or a corpus file it names) is wrong at a known place.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A file could not be read or written.
    #[error("cannot access `{}`: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why (shown in the message, so not also the error's source).
        cause: std::io::Error,
    },
    /// `with_fault_profile` named a profile the spec does not define.
    #[error(
        "unknown fault profile `{name}`; known profiles: {}",
        list_or_none(known)
    )]
    UnknownFaultProfile {
        /// The name asked for.
        name: String,
        /// The profiles the spec defines.
        known: Vec<String>,
    },
    /// A fault profile given programmatically is invalid (a rate outside 0..=1, ...).
    #[error("invalid fault profile: {0}")]
    InvalidFaults(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why (shown in the message, so not also the error's source).
        cause: std::io::Error,
    },
    /// A cassette file is malformed.
    #[error("cassette `{}`: {message}", path.display())]
    Cassette {
        /// The cassette file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The upstream base URL given to [`crate::Simulator::record`] is unusable.
    #[error("upstream base URL `{url}`: {message}")]
    Upstream {
        /// The URL as given, without its user info (`user:password@`).
        url: String,
        /// What is wrong.
        message: String,
    },
    /// An operation that needs a spec was called on a record or replay simulator.
    #[error("{0}")]
    Mode(String),
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none: the spec has no `faults:` section)".to_owned()
    } else {
        names.join(", ")
    }
}
