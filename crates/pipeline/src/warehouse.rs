//! The warehouse root and where each destination table lives under it.

use std::fmt;
use std::path::Path;

use url::Url;

use crate::error::{PipelineError, Result};

/// The root under which destination tables live: `<root>/<catalog>/<schema>/<table>`, or
/// `<root>/<table>` without catalog and schema. A local directory or an object-store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    root: Url,
}

impl Warehouse {
    /// Parses a location: a URL with a scheme (`s3://bucket/prefix`, `file:///data`), or a local
    /// path, relative to the current directory. Object-store schemes need the matching cargo
    /// feature (`s3`, `gcs`, `azure`).
    pub fn new(location: &str) -> Result<Self> {
        let invalid = |reason: String| PipelineError::Warehouse {
            location: location.to_owned(),
            reason,
        };
        let looks_like_url = location
            .split_once("://")
            .is_some_and(|(scheme, _)| scheme.len() > 1);
        let mut root = if looks_like_url {
            Url::parse(location).map_err(|e| invalid(e.to_string()))?
        } else {
            let path = Path::new(location);
            let absolute = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir()
                    .map_err(|e| invalid(e.to_string()))?
                    .join(path)
            };
            Url::from_directory_path(&absolute)
                .map_err(|()| invalid("not a valid directory path".to_owned()))?
        };
        if !root.path().ends_with('/') {
            let path = format!("{}/", root.path());
            root.set_path(&path);
        }
        Ok(Self { root })
    }

    /// The root URL (ends with `/`).
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The URL of a table given its path segments (catalog, schema, table).
    pub fn table_url<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Result<Url> {
        let mut relative = String::new();
        for segment in segments {
            relative.push_str(segment);
            relative.push('/');
        }
        self.root
            .join(&relative)
            .map_err(|e| PipelineError::Warehouse {
                location: format!("{}{relative}", self.root),
                reason: e.to_string(),
            })
    }
}

impl fmt::Display for Warehouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.root.to_file_path() {
            Ok(path) if self.root.scheme() == "file" => write!(f, "{}", path.display()),
            _ => write!(f, "{}", self.root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_and_urls() {
        let w = Warehouse::new("/tmp/wh").unwrap();
        assert_eq!(w.root().as_str(), "file:///tmp/wh/");
        assert_eq!(
            w.table_url(["main", "raw", "orders"]).unwrap().as_str(),
            "file:///tmp/wh/main/raw/orders/"
        );
        assert_eq!(w.to_string(), "/tmp/wh/");
        let s3 = Warehouse::new("s3://bucket/lake").unwrap();
        assert_eq!(s3.table_url(["t"]).unwrap().as_str(), "s3://bucket/lake/t/");
        let relative = Warehouse::new("warehouse").unwrap();
        assert!(relative.root().path().ends_with("/warehouse/"));
    }
}
