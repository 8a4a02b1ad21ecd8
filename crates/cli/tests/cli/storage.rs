//! A warehouse on a disk that fills up or turns read-only: every table fails with the storage
//! error (never "failed to read" for a write), the run exits non-zero, and no panic reaches the
//! user. The disk is a small tmpfs mounted by the test, which needs root (CI runs as root;
//! elsewhere the test says it did not run).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLE_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/pipelines/example.yaml"
);

/// A tmpfs of `size` mounted on a temp dir, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Self { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount read-only");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run_into(warehouse: &Path, extra: &[&str]) -> Output {
    super::lakeflow_command(warehouse, &["run", EXAMPLE_SPEC, "--warehouse"])
        .arg(warehouse.join("wh"))
        .args(extra)
        .output()
        .unwrap()
}

fn assert_clean_storage_failure(out: &Output, cause: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the run fails: {stderr}");
    assert!(
        stderr.contains(cause),
        "names the cause `{cause}`: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic shown: {stderr}");
    assert!(!stderr.contains("Already shut down"), "{stderr}");
    assert!(
        !stderr.contains("Failed to read delta log object"),
        "a failed write is not called a read: {stderr}"
    );
}

#[test]
fn a_full_or_read_only_disk_fails_tables_cleanly() {
    if !is_root() {
        eprintln!("not run: mounting a small disk needs root");
        return;
    }
    let disk = SmallDisk::mount("300k").expect("root can mount a tmpfs");
    let first = run_into(&disk.path(), &[]);
    // The example needs more than 300 KiB with its reload: the refresh writes every table anew.
    let refresh = if first.status.success() {
        run_into(&disk.path(), &["--full-refresh"])
    } else {
        first
    };
    assert_clean_storage_failure(&refresh, "No space left on device");
    let again = SmallDisk::mount("4m").expect("root can mount a tmpfs");
    assert!(run_into(&again.path(), &[]).status.success());
    again.remount_read_only();
    let read_only = run_into(&again.path(), &["--full-refresh"]);
    assert_clean_storage_failure(&read_only, "Read-only file system");
}
