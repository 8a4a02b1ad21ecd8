//! Check 13: deleted records carry the keys and the cursor and convert against the schema.

use std::sync::Arc;

use arrow_schema::Schema;
use lakeflow_connect::IngestionType;
use lakeflow_records::Converter;
use serde_json::Value;

use crate::context::{Run, TableCtx, Verdict, blocked, fail, skip, verdict};
use crate::pass::{short, value_at};
use crate::report::Check;

/// Check 13: Every record of a full deletes pass has non-null primary keys and cursor, and converts
/// against the table schema narrowed (as the pipeline narrows it) to the top-level columns that
/// hold the keys and the cursor.
pub(super) fn deletes(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    if kind != IngestionType::CdcWithDeletes {
        return Ok(skip(format!("not a cdc_with_deletes table ({kind})")));
    }
    // Keys and cursor are looked up in the deleted records: they must be fields of the schema.
    let meta = run.valid_metadata(t)?;
    let schema = run.schema(t)?;
    let Some(pass) = run.deletes(t)? else {
        return Err(blocked("a deletes feed", Check::Metadata));
    };
    if !pass.converged() {
        return Err(blocked("a full deletes read", Check::Termination));
    }
    let records: Vec<_> = pass.records().cloned().collect();
    if records.is_empty() {
        return Ok(skip(
            "the deletes feed returned no records: nothing to inspect",
        ));
    }
    let mut paths = meta.primary_keys.clone();
    paths.extend(meta.cursor_field.clone());
    let mut problems = Vec::new();
    for (index, record) in records.iter().enumerate() {
        for path in &paths {
            if value_at(record, path).is_none_or(Value::is_null) {
                problems.push(format!(
                    "`{}`: deleted record {index} has no `{path}`: {}",
                    t.name,
                    short(&Value::Object(record.clone()))
                ));
            }
        }
    }
    let tops: Vec<&str> = paths.iter().filter_map(|p| p.split('.').next()).collect();
    let narrowed = Schema::new(
        schema
            .fields()
            .iter()
            .filter(|f| tops.contains(&f.name().as_str()))
            .cloned()
            .collect::<Vec<_>>(),
    );
    match Converter::new(Arc::new(narrowed)) {
        Ok(converter) => {
            if let Err(error) = converter.convert(&records) {
                problems.push(format!("deleted records do not fit the schema: {error}"));
            }
        }
        Err(error) => {
            return Err(fail(format!(
                "cannot convert to the key and cursor columns: {error}"
            )));
        }
    }
    verdict(&problems, || {
        format!(
            "{} deleted records carry [{}] and convert against the schema",
            records.len(),
            paths.join(", ")
        )
    })
}
