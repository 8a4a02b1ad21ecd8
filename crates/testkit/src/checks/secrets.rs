//! Check 16: no secret connection value appears in anything the connector says: error texts
//! (Display and Debug), panic messages, or the Debug output of any connector the suite built.

use lakeflow_connect::{IngestionType, LakeflowConnect, Offset, TableOptions};
use serde_json::Value;

use super::UNKNOWN_TABLE;
use crate::context::{Run, Verdict, count, skip, verdict};
use crate::pass::{Feed, read_once};
use crate::probe::guard;

/// A value no option accepts, used to provoke invalid-option errors.
const INVALID: &str = "lakeflow-conformance-invalid";
/// Secrets shorter than this are not searched for: they would match ordinary text.
const MIN_SECRET_CHARS: usize = 6;
/// Most tables and table options provoked, to keep a live run short.
const MAX_PROVOKED_TABLES: usize = 5;

/// Check 16: After every other check has run (their errors are in the transcript), provoke more errors
/// — unknown tables, offsets the connector never produced, invalid table and connection option
/// values — then search every error, panic message and Debug output for the secret values. Every
/// connector the suite built noted its `Debug` output when it was dropped; the main connector's
/// is rendered now, after all its use.
pub(super) fn secrets(run: &Run) -> Verdict {
    if run.secrets.is_empty() {
        return Ok(skip(
            "no secret connection option is set (the connector declares none, or a live run \
             was given none)",
        ));
    }
    provoke(run);
    // A panic while rendering is in the transcript already (`debug_text` guards it).
    if let Ok(text) = run.main.debug_text() {
        run.transcript
            .note(format!("the Debug output of {}", run.main.role()), text);
    }
    let outputs = run.transcript.entries();
    let debug_outputs = outputs
        .iter()
        .filter(|s| s.call.starts_with("the Debug output of "))
        .count();
    let mut problems = Vec::new();
    let mut searched = Vec::new();
    for (name, value) in &run.secrets {
        if value.chars().count() < MIN_SECRET_CHARS {
            searched.push(format!("`{name}` (too short to search for)"));
            continue;
        }
        searched.push(format!("`{name}`"));
        for said in outputs.iter().filter(|s| s.text.contains(value.as_str())) {
            let redacted = said.text.replace(value.as_str(), "***");
            let excerpt: String = redacted
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            problems.push(format!(
                "the value of secret option `{name}` appears in {}: {excerpt}",
                said.call
            ));
        }
    }
    verdict(&problems, || {
        format!(
            "{} outputs (errors, panics, and the Debug output of {}) searched for {}: no leak",
            outputs.len(),
            count(debug_outputs, "connector"),
            searched.join(", ")
        )
    })
}

/// Calls that should fail, through probes, so that their errors land in the transcript.
fn provoke(run: &Run) {
    let connector: &dyn LakeflowConnect = run.connector();
    let none = TableOptions::new();
    let _ = guard(&run.transcript, "provoking errors", || {
        let _ = connector.get_table_schema(UNKNOWN_TABLE, &none);
        let _ = connector.read_table_metadata(UNKNOWN_TABLE, &none);
        let _ = read_once(connector, UNKNOWN_TABLE, Feed::Records, None, &none, 10);
        let _ = read_once(connector, UNKNOWN_TABLE, Feed::Deletes, None, &none, 10);
    });
    let mut bogus = Offset::new();
    bogus.insert(
        "lakeflow_conformance_bogus".to_owned(),
        Value::String(INVALID.to_owned()),
    );
    for t in run.tables.iter().take(MAX_PROVOKED_TABLES) {
        let kind = run
            .metadata_result(t)
            .as_ref()
            .map(|m| m.ingestion_type)
            .ok();
        let _ = guard(&run.transcript, "provoking errors", || {
            let _ = read_once(
                connector,
                &t.name,
                Feed::Records,
                Some(&bogus),
                &t.options,
                10,
            );
            if kind == Some(IngestionType::CdcWithDeletes) {
                let _ = read_once(
                    connector,
                    &t.name,
                    Feed::Deletes,
                    Some(&bogus),
                    &t.options,
                    10,
                );
            }
            for spec in run.config.descriptor.table_options {
                if spec.secret || !spec.applies_to(&t.name) {
                    continue;
                }
                let mut options = t.options.clone();
                options.insert(spec.name.to_owned(), INVALID.to_owned());
                let _ = connector.get_table_schema(&t.name, &options);
                let _ = read_once(connector, &t.name, Feed::Records, None, &options, 10);
            }
        });
    }
    let descriptor = run.config.descriptor;
    let mut variants = Vec::new();
    for spec in descriptor.connection_options.iter().filter(|s| !s.secret) {
        let mut options = run.connection.clone();
        options.insert(spec.name, INVALID);
        variants.push(options);
    }
    let mut unknown = run.connection.clone();
    unknown.insert("lakeflow_conformance_unknown_option", INVALID);
    variants.push(unknown);
    for options in variants {
        // A connector that accepts the value gets a call that must reach the source; its Debug
        // output is noted when the probe is dropped.
        let role = "a connector built with an invalid connection option";
        if let Ok(probe) = run.build(&run.factory, &options, role) {
            let _ = guard(&run.transcript, "provoking errors", || probe.list_tables());
        }
    }
}
