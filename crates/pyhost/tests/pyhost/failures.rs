//! Each way a Python connector fails is an error naming the connector, the method and the
//! table; the connector stays usable afterwards, and secrets never show.

use lakeflow_connect::{Error, LakeflowConnect};

use crate::{connect, connection, table_options};

fn read_error(connector: &dyn LakeflowConnect, table: &str) -> Error {
    match connector.read_table(table, None, &table_options(&[])) {
        Err(e) => e,
        Ok(output) => output
            .records
            .filter_map(Result::err)
            .next()
            .expect("the read fails"),
    }
}

#[test]
fn an_exception_names_connector_method_and_table_and_the_connector_goes_on() {
    let raising = connect("raising_source.py", &[]);
    let err = read_error(raising.as_ref(), "boom").to_string();
    assert_eq!(
        err,
        "Python connector `raising_source.RaisingSource`: `read_table` of table `boom` raised \
         ValueError: boom at row 3"
    );
    let err = raising
        .get_table_schema("bad", &table_options(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`get_table_schema` of table `bad` raised KeyError"),
        "{err}"
    );
    // The process that raised is still the connector's.
    assert_eq!(raising.list_tables().unwrap(), ["boom", "bad"]);
}

#[test]
fn a_missing_module_is_named() {
    let err = lakeflow_pyhost::DESCRIPTOR
        .connect(&connection("broken_import", &[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be imported")
            && err.contains("module `a_module_that_does_not_exist` is missing"),
        "{err}"
    );
    let err = lakeflow_pyhost::DESCRIPTOR
        .connect(&connection(
            "sample_source.py",
            &[("python", "/no/such/python")],
        ))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot start Python `/no/such/python`"),
        "{err}"
    );
}

#[test]
fn a_hung_connector_fails_its_read_and_the_next_call_gets_a_fresh_process() {
    // The read never ends, whatever the timeout: no timing margin is involved.
    let hanging = connect("hanging_source.py", &[("timeout_seconds", "1")]);
    let err = read_error(hanging.as_ref(), "forever").to_string();
    assert_eq!(
        err,
        "Python connector `hanging_source.HangingSource`: `read_table` of table `forever` did \
         not answer within 1s; its process was stopped (raise the connection option \
         `timeout_seconds` if the source is just slow)"
    );
    assert_eq!(hanging.list_tables().unwrap(), ["forever", "fine"]);
}

#[test]
fn a_crashed_process_fails_its_read_with_its_last_words_and_no_secret() {
    let secret = "sk_live_0123456789abcdef";
    let crashing = connect("crashing_source.py", &[("api_key", secret)]);
    let err = read_error(crashing.as_ref(), "crash").to_string();
    assert!(
        err.starts_with(
            "Python connector `crashing_source.CrashingSource`: `read_table` of table `crash` \
             failed: the Python process exited"
        ) && err.contains("fatal: segfault while using ***"),
        "{err}"
    );
    assert!(!err.contains(secret), "{err}");
    let err = crashing
        .get_table_schema("leak", &table_options(&[]))
        .unwrap_err();
    let (text, debug) = (err.to_string(), format!("{err:?} {crashing:?}"));
    assert!(text.contains("refused key ***"), "{text}");
    assert!(!text.contains(secret) && !debug.contains(secret), "{debug}");
}

#[test]
fn bad_option_values_are_named() {
    let err = lakeflow_pyhost::DESCRIPTOR
        .connect(&connection("sample_source.py", &[("timeout_seconds", "0")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("timeout_seconds"), "{err}");
    let err = lakeflow_pyhost::DESCRIPTOR
        .connect(&lakeflow_connect::ConnectionOptions::new())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "missing required option `class`");
}
