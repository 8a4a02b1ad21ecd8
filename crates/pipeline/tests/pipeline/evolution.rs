//! Schema evolution, connectors that never converge, and full refresh.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use lakeflow_connect::{
    ConnectorDescriptor, Error, IngestionType, LakeflowConnect, Offset, ReadOutput, Record, Result,
    TableMetadata, TableOptions,
};
use lakeflow_pipeline::{FullRefresh, RunOptions, Warehouse};
use serde_json::{Value, json};

use super::common::{count, run_spec_with, runtime, table_rows};

/// One append table `t` with a given schema and records; offsets `{"pos": n}`. With
/// `drifting`, every read moves the offset and returns nothing: it never converges.
#[derive(Debug)]
struct Fixed {
    schema: SchemaRef,
    records: Vec<Record>,
    drifting: bool,
}

const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "fixed",
    description: "test",
    connection_options: &[],
    table_options: &[],
    auth: &[],
    constructor: |_| Err(Error::not_supported("t", "construct")),
    simulator: None,
};

impl LakeflowConnect for Fixed {
    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(vec!["t".to_owned()])
    }
    fn get_table_schema(&self, _: &str, _: &TableOptions) -> Result<SchemaRef> {
        Ok(self.schema.clone())
    }
    fn read_table_metadata(&self, _: &str, _: &TableOptions) -> Result<TableMetadata> {
        Ok(TableMetadata::new(IngestionType::Append, &[], Some("id")))
    }
    fn read_table(
        &self,
        _: &str,
        start: Option<&Offset>,
        _: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let pos = start.and_then(|o| o["pos"].as_u64()).unwrap_or(0);
        let end = if self.drifting {
            pos + 1
        } else {
            self.records.len() as u64
        };
        let records = if self.drifting {
            Vec::new()
        } else {
            self.records
                .iter()
                .skip(usize::try_from(pos).unwrap_or(usize::MAX))
                .cloned()
                .collect()
        };
        let Value::Object(offset) = json!({"pos": end}) else {
            unreachable!()
        };
        Ok(ReadOutput::from_records(records, Some(offset)))
    }
}

fn fixed(fields: Vec<Field>, records: &[Value]) -> Arc<dyn LakeflowConnect> {
    Arc::new(Fixed {
        schema: Arc::new(Schema::new(fields)),
        records: records
            .iter()
            .map(|r| r.as_object().cloned().unwrap())
            .collect(),
        drifting: false,
    })
}

const SPEC: &str = "connection_name: fixed\nobjects:\n  - table: {source_table: t}\n";

#[test]
fn new_nullable_columns_are_added_and_type_changes_are_named() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let id = Field::new("id", DataType::Int64, false);
    let a = Field::new("a", DataType::Utf8, true);
    let v1 = fixed(vec![id.clone(), a.clone()], &[json!({"id": 1, "a": "x"})]);
    let run = |c: &Arc<dyn LakeflowConnect>| {
        run_spec_with(
            &rt,
            SPEC,
            c,
            &DESCRIPTOR,
            &warehouse,
            &RunOptions::default(),
        )
    };
    assert!(!run(&v1)[0].failed());

    let b = Field::new("b", DataType::Int64, true);
    let v2 = fixed(
        vec![id.clone(), a.clone(), b],
        &[
            json!({"id": 1, "a": "x"}),
            json!({"id": 2, "a": "y", "b": 7}),
        ],
    );
    let second = run(&v2);
    assert!(!second[0].failed(), "{second:?}");
    assert_eq!(
        table_rows(&rt, &warehouse, "SELECT id, a, b FROM t ORDER BY id"),
        ["{\"id\":1,\"a\":\"x\"}", "{\"id\":2,\"a\":\"y\",\"b\":7}"]
    );

    let a_int = Field::new("a", DataType::Int64, true);
    let v3 = fixed(vec![id, a_int], &[json!({"id": 1, "a": 1})]);
    let third = run(&v3);
    let error = third[0].error.as_deref().unwrap_or_default();
    assert!(
        error.contains("`a`") && error.contains("incompatible"),
        "{error}"
    );
    assert_eq!(
        count(&rt, &warehouse, "t"),
        2,
        "the failed run changed nothing"
    );
}

#[test]
fn a_connector_that_never_converges_is_stopped() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let drifting: Arc<dyn LakeflowConnect> = Arc::new(Fixed {
        schema: Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
        records: Vec::new(),
        drifting: true,
    });
    let options = RunOptions {
        max_reads: 25,
        ..RunOptions::default()
    };
    let summary = run_spec_with(&rt, SPEC, &drifting, &DESCRIPTOR, &warehouse, &options);
    let error = summary[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("not caught up after 25 reads"), "{error}");
}

#[test]
fn full_refresh_reloads_a_table() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let id = Field::new("id", DataType::Int64, false);
    let connector = fixed(vec![id], &[json!({"id": 1}), json!({"id": 2})]);
    let run = |options: &RunOptions| {
        run_spec_with(&rt, SPEC, &connector, &DESCRIPTOR, &warehouse, options)
    };
    assert_eq!(run(&RunOptions::default())[0].counts.appended, 2);
    assert_eq!(run(&RunOptions::default())[0].commits, 0, "nothing new");
    let refreshed = run(&RunOptions {
        full_refresh: FullRefresh::Tables(vec!["t".to_owned()]),
        ..RunOptions::default()
    });
    assert_eq!(refreshed[0].counts.appended, 2, "{refreshed:?}");
    assert_eq!(count(&rt, &warehouse, "t"), 2, "reloaded, not duplicated");
}
