//! Helpers: running a spec against a connector into a temp warehouse, reading tables back.

use std::sync::Arc;

use lakeflow_connect::{ConnectionOptions, ConnectorDescriptor, LakeflowConnect};
use lakeflow_pipeline::{NoProgress, RunOptions, TableSummary, Warehouse};
use lakeflow_spec::PipelineSpec;

/// The example connector with no injected errors (the engine's tests are about the engine).
pub fn example_connector() -> Arc<dyn LakeflowConnect> {
    let options: ConnectionOptions = [("error_rate", "0")].into_iter().collect();
    Arc::from(lakeflow_example::DESCRIPTOR.connect(&options).unwrap())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Plans and runs `yaml` against the example connector's descriptor into `warehouse`.
pub fn run_spec(
    rt: &tokio::runtime::Runtime,
    yaml: &str,
    connector: &Arc<dyn LakeflowConnect>,
    warehouse: &Warehouse,
    options: &RunOptions,
) -> Vec<TableSummary> {
    run_spec_with(
        rt,
        yaml,
        connector,
        &lakeflow_example::DESCRIPTOR,
        warehouse,
        options,
    )
}

/// Plans and runs `yaml` into `warehouse`, returning the summaries.
pub fn run_spec_with(
    rt: &tokio::runtime::Runtime,
    yaml: &str,
    connector: &Arc<dyn LakeflowConnect>,
    descriptor: &ConnectorDescriptor,
    warehouse: &Warehouse,
    options: &RunOptions,
) -> Vec<TableSummary> {
    let spec = PipelineSpec::parse(yaml, "test.yaml").unwrap();
    let plans = lakeflow_pipeline::plan(&spec, connector.as_ref(), descriptor, warehouse).unwrap();
    rt.block_on(lakeflow_pipeline::run(
        plans,
        connector.clone(),
        options,
        Arc::new(NoProgress),
    ))
}

/// Rows of a query as JSON lines, in query order.
pub fn json_lines(rt: &tokio::runtime::Runtime, warehouse: &Warehouse, sql: &str) -> Vec<String> {
    let batches = rt
        .block_on(lakeflow_pipeline::query(warehouse, sql))
        .unwrap();
    let mut rows = Vec::new();
    for batch in &batches {
        let mut buf = Vec::new();
        let mut writer = arrow_json::LineDelimitedWriter::new(&mut buf);
        writer.write(batch).unwrap();
        writer.finish().unwrap();
        rows.extend(String::from_utf8(buf).unwrap().lines().map(str::to_owned));
    }
    rows
}

/// Rows of a warehouse table as sorted JSON lines (a stable, type-independent comparison).
pub fn table_rows(rt: &tokio::runtime::Runtime, warehouse: &Warehouse, sql: &str) -> Vec<String> {
    let mut rows = json_lines(rt, warehouse, sql);
    rows.sort();
    rows
}

/// A count from SQL.
pub fn count(rt: &tokio::runtime::Runtime, warehouse: &Warehouse, table: &str) -> usize {
    let rows = table_rows(rt, warehouse, &format!("SELECT COUNT(*) AS n FROM {table}"));
    let value: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
    usize::try_from(value["n"].as_i64().unwrap()).unwrap()
}
