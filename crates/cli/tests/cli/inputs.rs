//! Hostile input to the commands: huge names, nonsensical numbers, errors with causes.

use crate::lakeflow_command;

#[test]
fn a_destination_name_too_long_for_a_file_system_is_a_spec_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(70_000);
    std::fs::write(
        dir.path().join("spec.yaml"),
        format!(
            "connection_name: example\nobjects:\n  - table:\n      source_table: events\n      destination_table: {long}\n"
        ),
    )
    .unwrap();
    for command in ["validate", "run", "status"] {
        let out = lakeflow_command(dir.path(), &[command, "spec.yaml"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command}");
        assert!(!err.contains("panicked"), "{command}: {err}");
        assert!(
            err.starts_with("error: spec.yaml:5: objects[0].table.destination_table: `xxx")
                && err.contains("70000 bytes"),
            "{command}: {err}"
        );
        assert!(err.len() < 300, "{command}: a short message: {err}");
    }
    assert!(!dir.path().join("warehouse").exists());
}

#[test]
fn nonsensical_counts_are_rejected_when_arguments_are_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/pipelines/example.yaml"
    );
    for flag in [
        "--max-reads",
        "--parallelism",
        "--commit-rows",
        "--commit-bytes",
        "--read-partitions",
    ] {
        for value in ["0", "many"] {
            let out = lakeflow_command(dir.path(), &["run", spec, flag, value])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            // Exit code 2: a usage error, found before anything runs.
            assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
            assert!(
                err.contains(&format!("invalid value '{value}' for '{flag}")),
                "{flag} {value}: {err}"
            );
            if value == "0" {
                assert!(err.contains("must be at least 1"), "{err}");
            }
        }
    }
    assert!(!dir.path().join("warehouse").exists());
}

#[test]
fn an_error_s_cause_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("spec.yaml")).unwrap();
    let out = lakeflow_command(dir.path(), &["validate", "spec.yaml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("os error 21").count(), 1, "{err}");
    assert_eq!(
        err,
        "error: cannot read `spec.yaml`: Is a directory (os error 21)\n"
    );
}
