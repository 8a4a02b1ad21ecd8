//! `lakeflow read <source> <table>`: read batches until caught up and print typed rows.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow_array::RecordBatch;
use clap::Args;
use lakeflow_connect::arrow_schema::{Schema, SchemaRef};
use lakeflow_connect::{LakeflowConnect, Offset, ReadOutput, Record, TableOptions};
use lakeflow_records::Converter;

use crate::options::{SourceOptions, check_table_options, table_context};
use crate::output::ReadFormat;

/// Records are converted and printed in chunks of this many, so memory stays bounded by the
/// chunk size for the streaming formats however large a read is.
const CHUNK_ROWS: usize = 4096;

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The source (see `lakeflow sources`).
    pub source: String,
    /// The table (see `lakeflow tables <source>`); hidden tables work too.
    pub table: String,
    #[command(flatten)]
    pub options: SourceOptions,
    /// Stop after printing this many rows (the resume offset printed is then the end of the last
    /// read, which may lie past the last printed row).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Start after this offset, a JSON object as printed by a previous read.
    #[arg(long, value_name = "JSON")]
    pub offset: Option<String>,
    /// Read the table's deleted records (`read_table_deletes`) instead of its records.
    #[arg(long)]
    pub deletes: bool,
    /// Give up if the table is not caught up after this many reads.
    #[arg(long, default_value_t = 10_000)]
    pub max_reads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReadFormat::Table)]
    pub format: ReadFormat,
}

pub fn run(args: &ReadArgs) -> Result<()> {
    let (connector, table_options, descriptor) = args.options.connect(&args.source)?;
    let table = args.table.as_str();
    let context = || table_context(&args.source, table);
    check_table_options(descriptor, table, &table_options).with_context(context)?;
    let schema = connector
        .get_table_schema(table, &table_options)
        .with_context(context)?;
    let metadata = connector
        .read_table_metadata(table, &table_options)
        .with_context(context)?;
    metadata.validate(table, &schema).with_context(context)?;
    let schema = if args.deletes {
        deletes_schema(&schema)
    } else {
        schema
    };
    let start = args.offset.as_deref().map(parse_offset).transpose()?;

    let mut sink = Sink::new(args.format, schema.clone(), args.deletes);
    let converter = Converter::new(schema).with_context(context)?;
    let reader = TableReader {
        connector: connector.as_ref(),
        table,
        options: &table_options,
        deletes: args.deletes,
    };
    let summary = reader.read_all(start, args, &converter, &mut sink)?;
    sink.finish()?;

    let end = summary.end_offset.map_or_else(
        || "none".to_owned(),
        |o| serde_json::Value::Object(o).to_string(),
    );
    eprintln!(
        "{} rows from {} read(s) of `{table}`{}; {}; next offset: {end}",
        summary.rows,
        summary.reads,
        if args.deletes { " (deletes)" } else { "" },
        if summary.caught_up {
            "caught up"
        } else {
            "stopped at --limit"
        },
    );
    Ok(())
}

fn parse_offset(raw: &str) -> Result<Offset> {
    match serde_json::from_str(raw) {
        Ok(serde_json::Value::Object(offset)) => Ok(offset),
        Ok(other) => bail!("invalid --offset: expected a JSON object, got {other}"),
        Err(err) => bail!("invalid --offset {raw:?}: malformed JSON: {err}"),
    }
}

/// Deleted records carry the keys and the cursor, not every column: every top-level column
/// becomes nullable.
fn deletes_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new(fields))
}

struct TableReader<'a> {
    connector: &'a dyn LakeflowConnect,
    table: &'a str,
    options: &'a TableOptions,
    deletes: bool,
}

struct Summary {
    rows: usize,
    reads: usize,
    caught_up: bool,
    end_offset: Option<Offset>,
}

impl TableReader<'_> {
    fn read_once(&self, start: Option<&Offset>) -> Result<ReadOutput<'_>> {
        let output = if self.deletes {
            self.connector
                .read_table_deletes(self.table, start, self.options)
        } else {
            self.connector.read_table(self.table, start, self.options)
        };
        Ok(output?)
    }

    /// Reads from `start` until the end offset equals the start offset (or there is none), or
    /// the row limit is reached.
    fn read_all(
        &self,
        mut start: Option<Offset>,
        args: &ReadArgs,
        converter: &Converter,
        sink: &mut Sink,
    ) -> Result<Summary> {
        let limit = args.limit.unwrap_or(usize::MAX);
        let mut summary = Summary {
            rows: 0,
            reads: 0,
            caught_up: false,
            end_offset: start.clone(),
        };
        while summary.rows < limit {
            if summary.reads == args.max_reads {
                bail!(
                    "table `{}` is not caught up after {} reads (raise --max-reads)",
                    self.table,
                    args.max_reads
                );
            }
            let output = self.read_once(start.as_ref())?;
            summary.reads += 1;
            let mut chunk: Vec<Record> = Vec::with_capacity(CHUNK_ROWS.min(limit));
            let mut records = output.records;
            loop {
                let next = records.next().transpose()?;
                let full = chunk.len() == CHUNK_ROWS || summary.rows + chunk.len() == limit;
                if (next.is_none() || full) && !chunk.is_empty() {
                    let batch = converter
                        .convert(&chunk)
                        .map_err(|e| e.into_connect_error(self.table))?;
                    summary.rows += batch.num_rows();
                    sink.write(&batch)?;
                    chunk.clear();
                }
                match next {
                    Some(_) if summary.rows == limit => break,
                    Some(record) => chunk.push(record),
                    None => break,
                }
            }
            let end = output.end_offset;
            let caught_up = end.is_none() || end == start;
            summary.end_offset.clone_from(&end);
            if caught_up {
                summary.caught_up = true;
                break;
            }
            start = end;
        }
        Ok(summary)
    }
}

/// Where converted batches go: streamed for JSON formats, gathered for the boxed table.
enum Sink {
    Table {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        drop_null_columns: bool,
    },
    Json(arrow_json::ArrayWriter<std::io::Stdout>),
    Ndjson(arrow_json::LineDelimitedWriter<std::io::Stdout>),
}

impl Sink {
    fn new(format: ReadFormat, schema: SchemaRef, deletes: bool) -> Self {
        match format {
            ReadFormat::Table => Self::Table {
                schema,
                batches: Vec::new(),
                drop_null_columns: deletes,
            },
            ReadFormat::Json => Self::Json(arrow_json::ArrayWriter::new(std::io::stdout())),
            ReadFormat::Ndjson => {
                Self::Ndjson(arrow_json::LineDelimitedWriter::new(std::io::stdout()))
            }
        }
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Self::Table { batches, .. } => batches.push(batch.clone()),
            Self::Json(writer) => writer.write(batch)?,
            Self::Ndjson(writer) => writer.write(batch)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Self::Table {
                schema,
                mut batches,
                drop_null_columns,
            } => {
                if batches.is_empty() {
                    batches.push(RecordBatch::new_empty(schema.clone()));
                } else if drop_null_columns {
                    batches = drop_all_null_columns(&schema, &batches)?;
                }
                let text = arrow_cast::pretty::pretty_format_batches(&batches)?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{text}")?;
            }
            Self::Json(mut writer) => {
                writer.finish()?;
                let mut out = writer.into_inner();
                // An empty read still prints a valid JSON document.
                writeln!(out)?;
            }
            Self::Ndjson(mut writer) => writer.finish()?,
        }
        Ok(())
    }
}

/// For people reading deleted records, the columns a tombstone does not carry are noise.
fn drop_all_null_columns(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<RecordBatch>> {
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| {
            !schema.field(i).is_nullable()
                || batches
                    .iter()
                    .any(|b| b.column(i).null_count() < b.num_rows())
        })
        .collect();
    Ok(batches
        .iter()
        .map(|b| b.project(&keep))
        .collect::<Result<_, _>>()?)
}
