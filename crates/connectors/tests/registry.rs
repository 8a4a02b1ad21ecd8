//! Every registered connector runs the conformance suite: adding a descriptor to `CONNECTORS`
//! without `connectors/<name>/tests/conformance.rs` calling `lakeflow_testkit` fails CI.

use std::path::PathBuf;

use lakeflow_connectors::CONNECTORS;

#[test]
fn every_registered_connector_has_a_conformance_test() {
    // crates/connectors -> the workspace root.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut missing = Vec::new();
    for descriptor in CONNECTORS {
        let path = root
            .join("connectors")
            .join(descriptor.name)
            .join("tests/conformance.rs");
        match std::fs::read_to_string(&path) {
            Ok(text) if text.contains("lakeflow_testkit") => {}
            Ok(_) => missing.push(format!(
                "{}: {} does not use lakeflow_testkit",
                descriptor.name,
                path.display()
            )),
            Err(error) => missing.push(format!(
                "{}: cannot read {}: {error}",
                descriptor.name,
                path.display()
            )),
        }
    }
    assert!(
        missing.is_empty(),
        "connectors without a conformance test (see docs/connector-development.md):\n{}",
        missing.join("\n")
    );
    assert!(!CONNECTORS.is_empty());
}
