//! Secrets stay out of errors, and off the command line (`-o key=@FILE`, `-o key=env:NAME`).

use std::process::Output;

use crate::lakeflow_command;

const SECRET: &str = "ghp_e2e_s3cr3t_value";

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_secret_referenced_from_a_non_secret_option_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lakeflow.toml"),
        "[connections.gh]\nsource = \"github\"\ntoken = \"${GITHUB_TOKEN}\"\n\
         base_url = \"${GITHUB_TOKEN}\"\n\n\
         [connections.ex]\nsource = \"example\"\nseed = \"${GITHUB_TOKEN}\"\n",
    )
    .unwrap();
    for connection in ["gh", "ex"] {
        std::fs::write(
            dir.path().join("spec.yaml"),
            format!(
                "connection_name: {connection}\nobjects:\n  - table:\n      source_table: events\n"
            ),
        )
        .unwrap();
        let out = lakeflow_command(dir.path(), &["validate", "spec.yaml"])
            .env("GITHUB_TOKEN", SECRET)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{connection}: {err}");
        assert!(!err.contains("s3cr3t"), "{connection}: {err}");
        assert!(
            err.contains("invalid value \"***\" for option `"),
            "{connection}: {err}"
        );
    }
}

#[test]
fn option_values_can_come_from_a_file_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), format!("{SECRET}\n")).unwrap();
    let read = |args: &[&str]| {
        let mut all = vec![
            "read", "example", "events", "--limit", "2", "--format", "ndjson",
        ];
        all.extend_from_slice(args);
        lakeflow_command(dir.path(), &all)
            .env("LAKEFLOW_TEST_PAGE_SIZE", "5")
            .env("LAKEFLOW_TEST_SEED", SECRET)
            .output()
            .unwrap()
    };
    let out = read(&[
        "-o",
        "api_key=@key",
        "-o",
        "page_size=env:LAKEFLOW_TEST_PAGE_SIZE",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);

    // A value from the environment given for a non-secret option is not echoed either.
    let out = read(&["-o", "seed=env:LAKEFLOW_TEST_SEED"]);
    let err = stderr_of(&out);
    assert!(!out.status.success() && !err.contains("s3cr3t"), "{err}");
    assert!(
        err.contains("invalid value \"***\" for option `seed`"),
        "{err}"
    );

    // What is missing is named: the option and the file or variable, never a value.
    let err = stderr_of(&read(&["-o", "api_key=@missing-file"]));
    assert!(
        err.starts_with("error: option `api_key`: cannot read `missing-file`"),
        "{err}"
    );
    let err = stderr_of(&read(&["-o", "api_key=env:LAKEFLOW_TEST_UNSET"]));
    assert_eq!(
        err.trim_end(),
        "error: option `api_key`: environment variable `LAKEFLOW_TEST_UNSET` is not set"
    );
}
