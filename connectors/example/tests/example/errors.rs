//! Errors name the table, option, parameter or offset at fault.

use lakeflow_connect::{ConnectionOptions, Error, LakeflowConnect, TableOptions};
use lakeflow_example::{ExampleConnector, Request};
use serde_json::json;

use crate::common::{connector, options, quiet_source};

#[test]
fn unknown_tables_are_named_by_every_method() {
    let c = connector(&quiet_source(1));
    let none = TableOptions::new();
    let errors = [
        c.get_table_schema("customers", &none).err(),
        c.read_table_metadata("customers", &none).err(),
        c.read_table("customers", None, &none).err(),
        c.read_table_deletes("customers", None, &none).err(),
    ];
    for error in errors {
        let error = error.expect("unknown table must fail");
        assert!(
            matches!(&error, Error::UnknownTable { table, .. } if table == "customers"),
            "{error}"
        );
        let text = error.to_string();
        assert!(
            text.contains("`customers`") && text.contains("orders"),
            "{text}"
        );
    }
}

#[test]
fn unknown_and_invalid_table_options_are_named() {
    let c = connector(&quiet_source(1));
    let unknown = [
        ("products", "color"),
        ("products", "max_records_per_batch"),
        ("users", "window_seconds"),
        ("events", "lookback_seconds"),
    ];
    for (table, option) in unknown {
        let opts = options(&[(option, "1")]);
        for error in [
            c.get_table_schema(table, &opts).err(),
            c.read_table_metadata(table, &opts).err(),
            c.read_table(table, None, &opts).err(),
        ] {
            let error = error.unwrap();
            assert!(
                matches!(&error, Error::UnknownOption { option: o, .. } if o == option),
                "{error}"
            );
        }
    }
    let invalid = [
        ("users", "max_records_per_batch", "0"),
        ("events", "max_records_per_batch", "many"),
        ("metrics", "window_seconds", "-5"),
        ("users", "lookback_seconds", "soon"),
        // Validated by the source; its 400s are mapped back to the option.
        ("orders", "status", "flying"),
        ("orders", "user_id", "abc"),
        ("events", "limit", "500"),
    ];
    for (table, option, value) in invalid {
        let error = c
            .read_table(table, None, &options(&[(option, value)]))
            .err()
            .unwrap();
        assert!(
            matches!(&error, Error::InvalidOption { option: o, value: v, .. } if o == option && v == value),
            "{table} {option}: {error}"
        );
    }
}

#[test]
fn malformed_offsets_are_rejected() {
    let c = connector(&quiet_source(1));
    let none = TableOptions::new();
    for bad in [
        json!({"cursor": 12}),
        json!({"cursor": "later"}),
        json!({"page": 1}),
    ] {
        let offset = bad.as_object().cloned().unwrap();
        for table in ["events", "users", "orders", "metrics"] {
            let error = c.read_table(table, Some(&offset), &none).err().unwrap();
            assert!(
                matches!(&error, Error::InvalidOffset { table: t, .. } if t == table),
                "{error}"
            );
        }
        assert!(matches!(
            c.read_table_deletes("orders", Some(&offset), &none),
            Err(Error::InvalidOffset { .. })
        ));
    }
}

#[test]
fn deletes_are_only_supported_for_orders() {
    let c = connector(&quiet_source(1));
    for table in ["products", "events", "users", "metrics"] {
        let error = c
            .read_table_deletes(table, None, &TableOptions::new())
            .err()
            .unwrap();
        assert!(
            matches!(&error, Error::NotSupported { table: t, .. } if t == table),
            "{error}"
        );
    }
}

#[test]
fn the_api_rejects_unknown_parameters_endpoints_and_sizes() {
    let source = quiet_source(1);
    let error = source
        .get(&Request::new("users").param("color", "red"))
        .unwrap_err();
    assert_eq!((error.status, error.param.as_deref()), (400, Some("color")));
    assert!(error.message.contains("`color`"), "{error}");
    // `limit` belongs to events only; users pages with `page_size`.
    let error = source
        .get(&Request::new("users").param("limit", "5"))
        .unwrap_err();
    assert_eq!(error.param.as_deref(), Some("limit"));
    let error = source
        .get(&Request::new("users").param("page_size", "101"))
        .unwrap_err();
    assert_eq!(
        (error.status, error.param.as_deref()),
        (400, Some("page_size"))
    );
    let error = source
        .get(&Request::new("users").param("since", "yesterday"))
        .unwrap_err();
    assert_eq!(error.param.as_deref(), Some("since"));
    let error = source.get(&Request::new("customers")).unwrap_err();
    assert_eq!(error.status, 404);
    assert!(!error.is_retriable());
}

#[test]
fn invalid_connection_options_are_named() {
    for (option, value) in [
        ("error_rate", "2"),
        ("page_size", "0"),
        ("seed", "-1"),
        ("max_retries", "x"),
    ] {
        let given: ConnectionOptions = [(option, value)].into_iter().collect();
        let error = ExampleConnector::new(&given).err().unwrap();
        assert!(
            matches!(&error, Error::InvalidOption { option: o, .. } if o == option),
            "{error}"
        );
    }
    let given: ConnectionOptions = [("token", "x")].into_iter().collect();
    let error = ExampleConnector::new(&given).err().unwrap();
    assert!(
        matches!(&error, Error::UnknownOption { option, .. } if option == "token"),
        "{error}"
    );
}
