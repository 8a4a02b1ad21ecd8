//! The generic conformance suite on a Python connector written for the original (the sample
//! connector in `host/tests/connectors/`, with every ingestion type and partitioned reads),
//! run through the `python` source.

use lakeflow_connect::ConnectionOptions;
use lakeflow_testkit::Conformance;

#[test]
fn a_python_connector_passes_every_check() {
    let class = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/host/tests/connectors/sample_source.py"
    );
    let options: ConnectionOptions = [("class", class)].into_iter().collect();
    let report = Conformance::new(&lakeflow_pyhost::DESCRIPTOR)
        .connection(options)
        .run();
    println!("{report}");
    report.assert_passed();
}
