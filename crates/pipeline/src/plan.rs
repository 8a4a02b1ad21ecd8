//! From a spec object and the connector's metadata to a flow the engine can run, with every
//! configuration error found before anything runs.

use arrow_schema::{DataType, SchemaRef, TimeUnit};
use lakeflow_connect::{ConnectorDescriptor, IngestionType, LakeflowConnect, TableOptions};
use lakeflow_spec::{ObjectSpec, PipelineSpec, ScdType};
use url::Url;

use crate::delta::{END_AT, START_AT, history_schema};
use crate::error::{PipelineError, Result};
use crate::warehouse::Warehouse;

/// How a flow changes its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Every record appended once.
    Append,
    /// Changes upserted by key (plus deletes for `cdc_with_deletes`).
    Cdc,
    /// The destination made equal to the latest full read.
    Snapshot,
}

/// One spec object, resolved against the connector: what to read, where to write, and how.
#[derive(Debug, Clone)]
pub struct FlowPlan {
    /// The destination as users name it (`catalog.schema.table` or `table`).
    pub name: String,
    /// The spec object's line, for messages.
    pub line: usize,
    /// The connector table read.
    pub source_table: String,
    /// Where the Delta table lives.
    pub url: Url,
    /// How records land.
    pub kind: FlowKind,
    /// The SCD type of the spec.
    pub scd_type: ScdType,
    /// The connector's ingestion type.
    pub ingestion_type: IngestionType,
    /// Primary keys (spec override, else the connector's).
    pub keys: Vec<String>,
    /// The column ordering changes (spec `sequence_by`, else the connector's cursor).
    pub sequence_by: Option<String>,
    /// Whether a second flow applies the connector's deleted records.
    pub with_deletes: bool,
    /// Options passed to the connector.
    pub table_options: TableOptions,
    /// The connector's schema of the table.
    pub schema: SchemaRef,
    /// Clustering columns from the spec (recorded; see docs/ingestion-semantics.md).
    pub cluster_by: Vec<String>,
}

impl FlowPlan {
    /// Whether the destination keeps history (SCD type 2 over cdc or snapshot).
    pub fn keeps_history(&self) -> bool {
        self.scd_type == ScdType::Type2 && self.kind != FlowKind::Append
    }

    /// The type of `__START_AT`/`__END_AT`: the sequence column's, or a timestamp of the run
    /// for snapshots.
    pub fn version_type(&self) -> DataType {
        match (&self.kind, &self.sequence_by) {
            (FlowKind::Cdc, Some(seq)) => self
                .schema
                .field_with_name(seq)
                .map_or(DataType::Null, |f| f.data_type().clone()),
            _ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }

    /// The columns whose change makes a new version: all but the keys and the sequence column.
    pub fn tracked_columns(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| {
                !self.keys.contains(n)
                    && (self.kind != FlowKind::Cdc || Some(n) != self.sequence_by.as_ref())
            })
            .collect()
    }

    /// The destination table's schema.
    pub fn destination_schema(&self) -> SchemaRef {
        if self.keeps_history() {
            history_schema(&self.schema, &self.version_type())
        } else {
            self.schema.clone()
        }
    }
}

/// Resolves every object of `spec`. The first error is returned; `lakeflow validate` reports
/// each object's error through [`plan_object`].
pub fn plan(
    spec: &PipelineSpec,
    connector: &dyn LakeflowConnect,
    descriptor: &ConnectorDescriptor,
    warehouse: &Warehouse,
) -> Result<Vec<FlowPlan>> {
    spec.objects
        .iter()
        .map(|object| plan_object(spec, object, connector, descriptor, warehouse))
        .collect()
}

/// Resolves one object of `spec` (see [`plan`]).
pub fn plan_object(
    spec: &PipelineSpec,
    object: &ObjectSpec,
    connector: &dyn LakeflowConnect,
    descriptor: &ConnectorDescriptor,
    warehouse: &Warehouse,
) -> Result<FlowPlan> {
    let destination = object.destination();
    let name = destination.to_string();
    let fail = |line: usize, reason: String| PipelineError::Plan {
        origin: spec.origin.clone(),
        line,
        table: name.clone(),
        reason,
    };
    let source = object.source_table.as_str();
    let options = &object.table_options;
    if let Err(e) = descriptor.check_table_options(source, options.keys().map(String::as_str)) {
        let line = match &e {
            lakeflow_connect::Error::UnknownOption { option, .. } => object
                .option_lines
                .get(option)
                .copied()
                .unwrap_or(object.line),
            _ => object.line,
        };
        return Err(fail(line, e.to_string()));
    }
    let schema = connector
        .get_table_schema(source, options)
        .map_err(|e| fail(object.line, e.to_string()))?;
    let metadata = connector
        .read_table_metadata(source, options)
        .map_err(|e| fail(object.line, e.to_string()))?;
    metadata
        .validate(source, &schema)
        .map_err(|e| fail(object.line, e.to_string()))?;

    let keys = object
        .primary_keys
        .clone()
        .unwrap_or_else(|| metadata.primary_keys.clone());
    let sequence_by = object
        .sequence_by
        .clone()
        .or_else(|| metadata.cursor_field.clone());
    let ingestion_type = metadata.ingestion_type;
    let kind = match (object.scd_type, ingestion_type) {
        (ScdType::AppendOnly, _) | (_, IngestionType::Append) => FlowKind::Append,
        (_, IngestionType::Snapshot) => FlowKind::Snapshot,
        (_, IngestionType::Cdc | IngestionType::CdcWithDeletes) => FlowKind::Cdc,
    };
    if kind == FlowKind::Snapshot && object.scd_type == ScdType::Type2 && keys.is_empty() {
        return Err(fail(
            object.line,
            "an SCD_TYPE_2 snapshot flow needs primary keys: set `primary_keys` in table_configuration".to_owned(),
        ));
    }
    let keeps_history = object.scd_type == ScdType::Type2 && kind != FlowKind::Append;
    for reserved in [START_AT, END_AT].into_iter().filter(|_| keeps_history) {
        if schema.field_with_name(reserved).is_ok() {
            return Err(fail(
                object.line,
                format!(
                    "the source table has a column named `{reserved}`, which SCD type 2 reserves"
                ),
            ));
        }
    }
    if kind == FlowKind::Cdc {
        if keys.is_empty() {
            return Err(fail(
                object.line,
                format!(
                    "a {ingestion_type} flow needs primary keys: set `primary_keys` in table_configuration"
                ),
            ));
        }
        if sequence_by.is_none() {
            return Err(fail(
                object.line,
                format!(
                    "a {ingestion_type} flow needs a sequence column: set `sequence_by` in table_configuration"
                ),
            ));
        }
    }
    let needs_columns =
        kind == FlowKind::Cdc || (kind == FlowKind::Snapshot && object.scd_type == ScdType::Type2);
    for column in keys
        .iter()
        .chain(sequence_by.iter())
        .filter(|_| needs_columns)
    {
        match schema.field_with_name(column) {
            Ok(field)
                if matches!(
                    field.data_type(),
                    DataType::Struct(_) | DataType::List(_) | DataType::Map(_, _)
                ) =>
            {
                return Err(fail(
                    object.line,
                    format!(
                        "column `{column}` is {}; keys and sequence columns must be scalar",
                        field.data_type()
                    ),
                ));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(fail(
                    object.line,
                    format!(
                        "column `{column}` (a key or the sequence column) is not a top-level column of `{source}`; columns: {}",
                        schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    for column in &object.cluster_by {
        if schema.field_with_name(column).is_err() {
            return Err(fail(
                object.line,
                format!("cluster_by column `{column}` is not a column of `{source}`"),
            ));
        }
    }
    let segments = destination.path_segments();
    let url = warehouse.table_url(segments.iter().copied())?;
    Ok(FlowPlan {
        name,
        line: object.line,
        source_table: source.to_owned(),
        url,
        kind,
        scd_type: object.scd_type,
        ingestion_type,
        keys,
        sequence_by,
        with_deletes: kind == FlowKind::Cdc && ingestion_type == IngestionType::CdcWithDeletes,
        table_options: options.clone(),
        schema,
        cluster_by: object.cluster_by.clone(),
    })
}
