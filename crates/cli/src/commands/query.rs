//! `lakeflow query "<SQL>"`: read-only SQL over the warehouse's Delta tables.

use anyhow::Result;
use clap::Args;
use lakeflow_pipeline::Warehouse;

use crate::pipeline::runtime;

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// One read-only statement (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE); tables are named
    /// `catalog.schema.table` (or `table` at the warehouse root).
    pub sql: String,
    /// The warehouse root: a directory, or an object-store URL (s3://, gs://, az://).
    #[arg(long, default_value = "warehouse", env = "LAKEFLOW_WAREHOUSE")]
    pub warehouse: String,
}

pub fn run(args: &QueryArgs) -> Result<()> {
    let warehouse = Warehouse::new(&args.warehouse)?;
    let batches = runtime()?.block_on(lakeflow_pipeline::query(&warehouse, &args.sql))?;
    println!("{}", arrow_cast::pretty::pretty_format_batches(&batches)?);
    Ok(())
}
