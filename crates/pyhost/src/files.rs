//! The host script and the compatibility modules, compiled into the binary and written out once
//! per version to a directory the user owns, for the interpreter to run.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// (path under the host directory, contents).
const FILES: &[(&str, &str)] = &[
    ("lakeflow_host.py", include_str!("../host/lakeflow_host.py")),
    (
        "shim/interface/databricks/labs/community_connector/interface/__init__.py",
        include_str!(
            "../host/shim/interface/databricks/labs/community_connector/interface/__init__.py"
        ),
    ),
    (
        "shim/interface/databricks/labs/community_connector/interface/lakeflow_connect.py",
        include_str!(
            "../host/shim/interface/databricks/labs/community_connector/interface/lakeflow_connect.py"
        ),
    ),
    (
        "shim/interface/databricks/labs/community_connector/interface/supports_namespaces.py",
        include_str!(
            "../host/shim/interface/databricks/labs/community_connector/interface/supports_namespaces.py"
        ),
    ),
    (
        "shim/interface/databricks/labs/community_connector/interface/supports_partition.py",
        include_str!(
            "../host/shim/interface/databricks/labs/community_connector/interface/supports_partition.py"
        ),
    ),
    (
        "shim/pyspark/pyspark/__init__.py",
        include_str!("../host/shim/pyspark/pyspark/__init__.py"),
    ),
    (
        "shim/pyspark/pyspark/sql/__init__.py",
        include_str!("../host/shim/pyspark/pyspark/sql/__init__.py"),
    ),
    (
        "shim/pyspark/pyspark/sql/types.py",
        include_str!("../host/shim/pyspark/pyspark/sql/types.py"),
    ),
];

/// Written last: its presence says every other file is complete.
const MARKER: &str = ".complete";

/// The path of the host script, writing the files out on first use.
pub(crate) fn host_script() -> std::io::Result<PathBuf> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| write_out(&base_dir()).map_err(|e| e.to_string()))
        .clone()
        .map(|dir| dir.join(FILES[0].0))
        .map_err(std::io::Error::other)
}

/// `~/.cache/lakeflow-rs/pyhost` (or `$XDG_CACHE_HOME/...`): a directory only the user can
/// write, so nobody else can swap the code the interpreter runs.
fn base_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(|| std::env::temp_dir().join(format!("lakeflow-{}", std::process::id())));
    cache.join("lakeflow-rs").join("pyhost")
}

/// Writes the files under `base/<hash of their contents>/` unless they are there already;
/// each file goes to a temporary name first, so concurrent processes never see half a file.
fn write_out(base: &Path) -> std::io::Result<PathBuf> {
    let mut hasher = DefaultHasher::new();
    FILES.hash(&mut hasher);
    let dir = base.join(format!("{:016x}", hasher.finish()));
    if dir.join(MARKER).is_file() {
        return Ok(dir);
    }
    for (path, contents) in FILES {
        let target = dir.join(path);
        let parent = target.parent().unwrap_or(&dir);
        std::fs::create_dir_all(parent)?;
        let partial = parent.join(format!(".{}.{}", std::process::id(), file_name(&target)));
        std::fs::write(&partial, contents)?;
        std::fs::rename(&partial, &target)?;
    }
    std::fs::write(dir.join(MARKER), b"")?;
    Ok(dir)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_once_and_completely() {
        let base = tempfile::tempdir().unwrap();
        let dir = write_out(base.path()).unwrap();
        for (path, contents) in FILES {
            assert_eq!(std::fs::read_to_string(dir.join(path)).unwrap(), *contents);
        }
        // A second writer finds them complete and leaves them alone.
        std::fs::write(dir.join(FILES[0].0), "edited").unwrap();
        assert_eq!(write_out(base.path()).unwrap(), dir);
        assert_eq!(
            std::fs::read_to_string(dir.join(FILES[0].0)).unwrap(),
            "edited"
        );
    }
}
