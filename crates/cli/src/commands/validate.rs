//! `lakeflow validate <spec>`: check a spec against its connector without running it.

use anyhow::{Result, bail};
use lakeflow_pipeline::plan_object;

use crate::pipeline::PipelineArgs;

pub fn run(args: &PipelineArgs) -> Result<()> {
    let pipeline = args.load()?;
    let mut errors = Vec::new();
    for object in &pipeline.spec.objects {
        match plan_object(
            &pipeline.spec,
            object,
            pipeline.connector.as_ref(),
            pipeline.descriptor,
            &pipeline.warehouse,
        ) {
            Ok(plan) => println!(
                "ok  {} <- {} ({}, {}, keys: {}, sequence: {})",
                plan.name,
                plan.source_table,
                plan.ingestion_type,
                plan.scd_type,
                if plan.keys.is_empty() {
                    "-".to_owned()
                } else {
                    plan.keys.join(", ")
                },
                plan.sequence_by.as_deref().unwrap_or("-"),
            ),
            Err(e) => errors.push(e.to_string()),
        }
    }
    match errors.split_last() {
        None => Ok(()),
        Some((last, others)) => {
            for e in others {
                eprintln!("error: {e}");
            }
            bail!("{last}")
        }
    }
}
