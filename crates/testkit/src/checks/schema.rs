//! Checks 3 and 4: the schema and the metadata of each table.

use std::collections::BTreeSet;

use arrow_schema::{DataType, Fields};
use lakeflow_connect::{IngestionType, LakeflowConnect};

use crate::context::{Run, TableCtx, Verdict, fail, verdict};
use crate::probe::guard;

/// Check 3: The schema is non-empty, has no duplicate field names at any depth, can be converted to by
/// the records crate, and is the same on a second call.
pub(super) fn schema(run: &Run, t: &TableCtx) -> Verdict {
    let schema = run
        .schema_result(t)
        .as_ref()
        .map_err(|e| fail(format!("get_table_schema(`{}`) failed: {e}", t.name)))?;
    let mut problems = Vec::new();
    if schema.fields().is_empty() {
        problems.push("the schema has no field".to_owned());
    }
    let mut count = 0;
    duplicates(schema.fields(), "", &mut problems, &mut count);
    if let Some(error) = run.converter_error(t) {
        problems.push(format!("the records crate cannot convert to it: {error}"));
    }
    let call = format!("get_table_schema(`{}`)", t.name);
    match guard(&run.transcript, &call, || {
        run.main.get_table_schema(&t.name, &t.options)
    }) {
        Ok(Ok(again)) if again == *schema => {}
        Ok(Ok(again)) => problems.push(format!(
            "a second call returned another schema:\nfirst:  {schema:?}\nsecond: {again:?}"
        )),
        Ok(Err(error)) => problems.push(format!("a second call failed: {error}")),
        Err(panic) => problems.push(format!("a second call {panic}")),
    }
    verdict(&problems, || {
        format!(
            "{} columns, {count} fields at any depth, no duplicate names; convertible; stable",
            schema.fields().len()
        )
    })
}

/// Records duplicate names among `fields` and, recursively, inside structs, list items and map
/// entries. `prefix` is the path of the enclosing field (`a.b`, `tags[]`).
fn duplicates(fields: &Fields, prefix: &str, problems: &mut Vec<String>, count: &mut usize) {
    let mut seen = BTreeSet::new();
    for field in fields {
        *count += 1;
        let path = if prefix.is_empty() {
            field.name().clone()
        } else {
            format!("{prefix}.{}", field.name())
        };
        if !seen.insert(field.name()) {
            problems.push(format!("field `{path}` appears more than once"));
        }
        nested(field.data_type(), &path, problems, count);
    }
}

fn nested(data_type: &DataType, path: &str, problems: &mut Vec<String>, count: &mut usize) {
    match data_type {
        DataType::Struct(children) => duplicates(children, path, problems, count),
        DataType::List(item)
        | DataType::LargeList(item)
        | DataType::FixedSizeList(item, _)
        | DataType::ListView(item)
        | DataType::LargeListView(item) => {
            nested(item.data_type(), &format!("{path}[]"), problems, count);
        }
        DataType::Map(entries, _) => {
            nested(entries.data_type(), &format!("{path}{{}}"), problems, count);
        }
        _ => {}
    }
}

/// Check 4: The metadata is the same on a second call, complete for its ingestion type, names keys
/// and cursor that exist in the schema (nested paths allowed), and a `cdc_with_deletes` table
/// implements `read_table_deletes`.
pub(super) fn metadata(run: &Run, t: &TableCtx) -> Verdict {
    let meta = run
        .metadata_result(t)
        .as_ref()
        .map_err(|e| fail(format!("read_table_metadata(`{}`) failed: {e}", t.name)))?;
    let mut problems = Vec::new();
    let call = format!("read_table_metadata(`{}`)", t.name);
    match guard(&run.transcript, &call, || {
        run.main.read_table_metadata(&t.name, &t.options)
    }) {
        Ok(Ok(again)) if again == *meta => {}
        Ok(Ok(again)) => problems.push(format!(
            "a second call returned other metadata: {meta:?} then {again:?}"
        )),
        Ok(Err(error)) => problems.push(format!("a second call failed: {error}")),
        Err(panic) => problems.push(format!("a second call {panic}")),
    }
    if !problems.is_empty() {
        return verdict(&problems, String::new);
    }
    let schema = run.schema(t)?;
    if let Err(error) = meta.validate(&t.name, schema) {
        problems.push(error.to_string());
    }
    if meta.ingestion_type == IngestionType::CdcWithDeletes && !run.deletes_supported(t) {
        problems.push(format!(
            "`{}` is cdc_with_deletes but read_table_deletes is not supported",
            t.name
        ));
    }
    verdict(&problems, || {
        let cursor = meta
            .cursor_field
            .as_deref()
            .map_or_else(|| "no cursor".to_owned(), |c| format!("cursor `{c}`"));
        format!(
            "{}, keys [{}], {cursor}; stable; keys and cursor are fields of the schema",
            meta.ingestion_type,
            meta.primary_keys.join(", ")
        )
    })
}
