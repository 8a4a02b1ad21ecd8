//! Discovery, schemas, metadata, the descriptor and the shape of records.

use lakeflow_connect::arrow_schema::DataType;
use lakeflow_connect::{ConnectionOptions, IngestionType, LakeflowConnect, TableOptions};
use lakeflow_example::DESCRIPTOR;
use serde_json::Value;

use crate::common::{INCREMENTAL, connector, options, quiet_source, read_all};

const ALL: [&str; 5] = ["products", "events", "users", "orders", "metrics"];

#[test]
fn discovery_lists_four_tables_and_hides_metrics() {
    let c = connector(&quiet_source(1));
    assert_eq!(
        c.list_tables().unwrap(),
        ["products", "events", "users", "orders"]
    );
}

#[test]
fn hidden_metrics_is_readable_by_name() {
    let c = connector(&quiet_source(1));
    let none = TableOptions::new();
    let schema = c.get_table_schema("metrics", &none).unwrap();
    let host = schema.field_with_name("host").unwrap();
    let DataType::Struct(children) = host.data_type() else {
        panic!("host is not a struct")
    };
    assert_eq!(
        children
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        ["name", "region"]
    );
    let meta = c.read_table_metadata("metrics", &none).unwrap();
    assert_eq!(meta.ingestion_type, IngestionType::Cdc);
    assert_eq!(meta.primary_keys, ["metric_id"]);
    let (records, end) = c
        .read_table("metrics", None, &none)
        .unwrap()
        .collect()
        .unwrap();
    assert!(end.is_some());
    // The first window is the oldest hour of the two hours of history the API keeps.
    assert!(records.len() >= 30, "{} samples", records.len());
    assert!(records.iter().all(|r| r["host"]["name"].is_string()));
}

#[test]
fn metadata_validates_against_schema_for_every_table() {
    let c = connector(&quiet_source(1));
    let none = TableOptions::new();
    let expected = [
        ("products", IngestionType::Snapshot),
        ("events", IngestionType::Append),
        ("users", IngestionType::Cdc),
        ("orders", IngestionType::CdcWithDeletes),
        ("metrics", IngestionType::Cdc),
    ];
    for (table, kind) in expected {
        let schema = c.get_table_schema(table, &none).unwrap();
        let meta = c.read_table_metadata(table, &none).unwrap();
        meta.validate(table, &schema).unwrap();
        assert_eq!(meta.ingestion_type, kind, "{table}");
        assert_eq!(
            meta.cursor_field.is_some(),
            kind.is_incremental(),
            "{table}"
        );
    }
}

#[test]
fn schemas_use_a_variety_of_arrow_types() {
    let c = connector(&quiet_source(1));
    let mut types = Vec::new();
    for table in ALL {
        let schema = c.get_table_schema(table, &TableOptions::new()).unwrap();
        types.extend(schema.fields().iter().map(|f| f.data_type().clone()));
    }
    let has = |pred: fn(&DataType) -> bool| types.iter().any(pred);
    assert!(has(|t| matches!(t, DataType::Int64)));
    assert!(has(|t| matches!(t, DataType::Utf8)));
    assert!(has(|t| matches!(t, DataType::Float64)));
    assert!(has(|t| matches!(t, DataType::Boolean)));
    assert!(has(|t| matches!(t, DataType::Date32)));
    assert!(has(|t| matches!(t, DataType::Decimal128(10, 2))));
    assert!(has(|t| matches!(t, DataType::List(_))));
    assert!(has(|t| matches!(t, DataType::Struct(_))));
    assert!(has(
        |t| matches!(t, DataType::Timestamp(_, Some(tz)) if tz.as_ref() == "UTC")
    ));
}

/// Every record field is a schema field, and a struct column is an object or null, never {}.
#[test]
fn records_fit_their_schema_and_absent_objects_are_null() {
    let c = connector(&quiet_source(3));
    let none = TableOptions::new();
    let mut nulls = 0;
    for table in ALL {
        let schema = c.get_table_schema(table, &none).unwrap();
        let records: Vec<_> = if table == "products" {
            c.read_table(table, None, &none)
                .unwrap()
                .collect()
                .unwrap()
                .0
        } else {
            read_all(&c, table, None, &none, false)
                .records()
                .cloned()
                .collect()
        };
        assert!(!records.is_empty(), "{table}");
        for record in &records {
            for (name, value) in record {
                let field = schema
                    .field_with_name(name)
                    .unwrap_or_else(|_| panic!("{table}.{name}"));
                if let DataType::Struct(_) = field.data_type() {
                    match value {
                        Value::Null => nulls += 1,
                        Value::Object(map) => assert!(!map.is_empty(), "{table}.{name} is {{}}"),
                        other => panic!("{table}.{name} is {other}"),
                    }
                }
            }
        }
    }
    assert!(nulls > 0, "some nested objects should be absent");
}

#[test]
fn descriptor_declares_options_and_builds_connectors() {
    assert_eq!(DESCRIPTOR.name, "example");
    assert!(!DESCRIPTOR.description.is_empty());
    let api_key = DESCRIPTOR
        .connection_options
        .iter()
        .find(|o| o.name == "api_key")
        .unwrap();
    assert!(api_key.secret && !api_key.required);
    assert!(DESCRIPTOR.connection_options.iter().all(|o| !o.required));
    for option in DESCRIPTOR.table_options {
        assert!(
            !option.tables.is_empty(),
            "{} applies to named tables",
            option.name
        );
        assert!(
            option.tables.iter().all(|t| ALL.contains(t)),
            "{}",
            option.name
        );
    }
    for table in INCREMENTAL {
        DESCRIPTOR
            .check_table_options(table, ["max_records_per_batch"])
            .unwrap();
    }
    let given: ConnectionOptions = [
        ("seed", "9"),
        ("error_rate", "0"),
        ("api_key", "sk_live_hunter2"),
    ]
    .into_iter()
    .collect();
    let c = DESCRIPTOR.connect(&given).unwrap();
    let (records, _) = c
        .read_table("products", None, &options(&[("category", "books")]))
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.iter().all(|r| r["category"] == "books"));
}

#[test]
fn secrets_never_show_in_debug_output() {
    let given: ConnectionOptions = [("api_key", "sk_live_hunter2")].into_iter().collect();
    let c = lakeflow_example::ExampleConnector::new(&given).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("***"), "{debug}");
}
