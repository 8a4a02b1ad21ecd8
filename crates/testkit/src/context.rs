//! What the checks share during a run: the connector under test, its effective connection, and
//! per-table results computed once on first use (schema, metadata, passes).

use std::cell::OnceCell;

use arrow_schema::SchemaRef;
use lakeflow_connect::{
    ConnectionOptions, Error, IngestionType, LakeflowConnect, MAX_RECORDS_PER_BATCH, TableMetadata,
    TableOptions,
};
use lakeflow_records::Converter;

use crate::config::{Conformance, Factory};
use crate::pass::{Feed, Pass, read_pass};
use crate::probe::{Probe, Transcript, build, guard};
use crate::report::{Check, Mode};

/// The outcome of one check for one table (or the connector), before it becomes a report row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub outcome: crate::Outcome,
    pub evidence: String,
}

/// A check's result; `Err` is an early return (usually a skip because a prerequisite failed).
pub(crate) type Verdict = Result<Finding, Finding>;

pub(crate) fn pass(evidence: impl Into<String>) -> Finding {
    Finding {
        outcome: crate::Outcome::Pass,
        evidence: evidence.into(),
    }
}

pub(crate) fn fail(evidence: impl Into<String>) -> Finding {
    Finding {
        outcome: crate::Outcome::Fail,
        evidence: evidence.into(),
    }
}

pub(crate) fn skip(evidence: impl Into<String>) -> Finding {
    Finding {
        outcome: crate::Outcome::Skip,
        evidence: evidence.into(),
    }
}

/// A skip because `owner` (the check that reports the underlying problem) failed.
pub(crate) fn blocked(what: &str, owner: Check) -> Finding {
    skip(format!("needs {what}, which failed (see `{owner}`)"))
}

/// Passes if `problems` is empty, else fails listing the first few.
pub(crate) fn verdict(problems: &[String], passed: impl FnOnce() -> String) -> Verdict {
    const SHOWN: usize = 5;
    if problems.is_empty() {
        return Ok(pass(passed()));
    }
    let mut evidence = problems
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    if problems.len() > SHOWN {
        evidence.push_str(&format!("\n… and {} more", problems.len() - SHOWN));
    }
    Err(fail(evidence))
}

/// `n` and the noun, plural unless `n` is 1 ("1 read", "3 reads").
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// One table under test.
pub(crate) struct TableCtx {
    pub name: String,
    pub options: TableOptions,
    schema: OnceCell<Result<SchemaRef, String>>,
    converter: OnceCell<Result<Converter, String>>,
    metadata: OnceCell<Result<TableMetadata, String>>,
    deletes_supported: OnceCell<bool>,
    natural: OnceCell<Pass>,
    small: OnceCell<Option<Pass>>,
    deletes: OnceCell<Pass>,
    deletes_small: OnceCell<Option<Pass>>,
}

impl TableCtx {
    /// The table options with `max_records_per_batch` set to `size`.
    pub(crate) fn options_with_batch(&self, size: usize) -> TableOptions {
        let mut options = self.options.clone();
        options.insert(MAX_RECORDS_PER_BATCH.to_owned(), size.to_string());
        options
    }

    pub(crate) fn new(name: String, options: TableOptions) -> Self {
        Self {
            name,
            options,
            schema: OnceCell::new(),
            converter: OnceCell::new(),
            metadata: OnceCell::new(),
            deletes_supported: OnceCell::new(),
            natural: OnceCell::new(),
            small: OnceCell::new(),
            deletes: OnceCell::new(),
            deletes_small: OnceCell::new(),
        }
    }
}

/// The run: configuration, connector, and what the checks have found out so far.
pub(crate) struct Run {
    pub config: Conformance,
    pub transcript: Transcript,
    /// The connection options every connector of the run is built with.
    pub connection: ConnectionOptions,
    /// Secret option values to look for in the connector's output.
    pub secrets: Vec<(String, String)>,
    pub factory: Factory,
    pub main: Probe,
    pub listed: Result<Vec<String>, String>,
    pub tables: Vec<TableCtx>,
}

impl Run {
    /// A connector built now (reads of a connector stop at its construction time, so checks
    /// that look for changes made during the run need a fresh one).
    pub(crate) fn fresh(&self, role: &str) -> Result<Probe, String> {
        self.build(&self.factory, &self.connection, role)
    }

    /// A connector built by `factory` from `options`, playing `role` in evidence ("the
    /// connector reading through faults").
    pub(crate) fn build(
        &self,
        factory: &Factory,
        options: &ConnectionOptions,
        role: &str,
    ) -> Result<Probe, String> {
        let offline = self.config.mode == Mode::Offline;
        build(factory, options, role, offline, &self.transcript)
    }

    pub(crate) fn schema<'a>(&self, t: &'a TableCtx) -> Result<&'a SchemaRef, Finding> {
        t.schema
            .get_or_init(|| {
                let call = format!("get_table_schema(`{}`)", t.name);
                guard(&self.transcript, &call, || {
                    self.main.get_table_schema(&t.name, &t.options)
                })
                .and_then(|r| r.map_err(|e| e.to_string()))
            })
            .as_ref()
            .map_err(|_| blocked("the schema", Check::Schema))
    }

    pub(crate) fn converter<'a>(&self, t: &'a TableCtx) -> Result<&'a Converter, Finding> {
        let schema = self.schema(t)?;
        t.converter
            .get_or_init(|| Converter::new(schema.clone()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|_| blocked("a converter for the schema", Check::Schema))
    }

    /// The converter's construction error, if any (reported by the schema check).
    pub(crate) fn converter_error(&self, t: &TableCtx) -> Option<String> {
        self.converter(t).err()?;
        t.converter.get()?.as_ref().err().cloned()
    }

    pub(crate) fn schema_result<'a>(&self, t: &'a TableCtx) -> &'a Result<SchemaRef, String> {
        let _ = self.schema(t);
        t.schema.get().expect("initialised by `schema`")
    }

    pub(crate) fn metadata_result<'a>(&self, t: &'a TableCtx) -> &'a Result<TableMetadata, String> {
        t.metadata.get_or_init(|| {
            let call = format!("read_table_metadata(`{}`)", t.name);
            guard(&self.transcript, &call, || {
                self.main.read_table_metadata(&t.name, &t.options)
            })
            .and_then(|r| r.map_err(|e| e.to_string()))
        })
    }

    pub(crate) fn metadata<'a>(&self, t: &'a TableCtx) -> Result<&'a TableMetadata, Finding> {
        self.metadata_result(t)
            .as_ref()
            .map_err(|_| blocked("the metadata", Check::Metadata))
    }

    pub(crate) fn kind(&self, t: &TableCtx) -> Result<IngestionType, Finding> {
        self.metadata(t).map(|m| m.ingestion_type)
    }

    /// The metadata, when it is also consistent with the schema (keys and cursor are fields of
    /// it). Checks that look records up by key or cursor need it; check 4 reports the rest.
    pub(crate) fn valid_metadata<'a>(&self, t: &'a TableCtx) -> Result<&'a TableMetadata, Finding> {
        let meta = self.metadata(t)?;
        let schema = self.schema(t)?;
        meta.validate(&t.name, schema)
            .map(|()| meta)
            .map_err(|_| blocked("metadata consistent with the schema", Check::Metadata))
    }

    /// Whether `read_table_deletes` from no offset answers anything but `NotSupported` (asked
    /// once per table; an error or a panic counts as supported, since the deletes pass then
    /// reports it).
    pub(crate) fn deletes_supported(&self, t: &TableCtx) -> bool {
        *t.deletes_supported.get_or_init(|| {
            let call = format!("read_table_deletes(`{}`)", t.name);
            let outcome = guard(&self.transcript, &call, || {
                self.main
                    .read_table_deletes(&t.name, None, &t.options)
                    .map(drop)
            });
            !matches!(outcome, Ok(Err(Error::NotSupported { .. })))
        })
    }

    /// Whether the checks read the table's deletes: a `cdc_with_deletes` table that implements
    /// them. One that does not fails check 4; the other checks then leave its deletes out
    /// instead of failing on them too.
    pub(crate) fn has_deletes(&self, t: &TableCtx) -> Result<bool, Finding> {
        Ok(self.kind(t)? == IngestionType::CdcWithDeletes && self.deletes_supported(t))
    }

    /// What the evidence of a check that left deletes out says, or `None` when it did not.
    pub(crate) fn deletes_left_out(&self, t: &TableCtx) -> Option<String> {
        (self.kind(t).ok()? == IngestionType::CdcWithDeletes && !self.deletes_supported(t)).then(
            || {
                format!(
                    "read_table_deletes not checked: not supported (see `{}`)",
                    Check::Metadata
                )
            },
        )
    }

    fn pass_with(&self, t: &TableCtx, feed: Feed, options: &TableOptions) -> Result<Pass, Finding> {
        let snapshot = !self.kind(t)?.is_incremental();
        Ok(read_pass(
            &self.main,
            &self.transcript,
            &t.name,
            feed,
            None,
            options,
            snapshot,
            &self.config.limits,
        ))
    }

    /// The pass with the caller's table options (converged or not: check 7 judges).
    pub(crate) fn natural<'a>(&self, t: &'a TableCtx) -> Result<&'a Pass, Finding> {
        if let Some(pass) = t.natural.get() {
            return Ok(pass);
        }
        let pass = self.pass_with(t, Feed::Records, &t.options)?;
        Ok(t.natural.get_or_init(|| pass))
    }

    /// The natural pass, when it converged.
    pub(crate) fn full<'a>(&self, t: &'a TableCtx) -> Result<&'a Pass, Finding> {
        let pass = self.natural(t)?;
        if pass.converged() {
            Ok(pass)
        } else {
            Err(blocked("a full read", Check::Termination))
        }
    }

    /// Whether the descriptor declares `max_records_per_batch` for this table.
    pub(crate) fn declares_batch_size(&self, t: &TableCtx) -> bool {
        self.config
            .descriptor
            .table_options
            .iter()
            .any(|o| o.accepts(MAX_RECORDS_PER_BATCH) && o.applies_to(&t.name))
    }

    /// The pass at `max_records_per_batch = small_batch` (`None` when the table does not declare
    /// the option or is a snapshot, and for deletes when the table has none to read).
    pub(crate) fn small<'a>(
        &self,
        t: &'a TableCtx,
        feed: Feed,
    ) -> Result<Option<&'a Pass>, Finding> {
        let cell = match feed {
            Feed::Records => &t.small,
            Feed::Deletes => &t.deletes_small,
        };
        if let Some(pass) = cell.get() {
            return Ok(pass.as_ref());
        }
        let feed_read = match feed {
            Feed::Records => true,
            Feed::Deletes => self.has_deletes(t)?,
        };
        let pass = if feed_read && self.kind(t)?.is_incremental() && self.declares_batch_size(t) {
            let options = t.options_with_batch(self.config.limits.small_batch);
            Some(self.pass_with(t, feed, &options)?)
        } else {
            None
        };
        Ok(cell.get_or_init(|| pass).as_ref())
    }

    /// The deletes pass with the caller's options (only `cdc_with_deletes` tables that
    /// implement deletes, see [`Run::has_deletes`]).
    pub(crate) fn deletes<'a>(&self, t: &'a TableCtx) -> Result<Option<&'a Pass>, Finding> {
        if !self.has_deletes(t)? {
            return Ok(None);
        }
        if let Some(pass) = t.deletes.get() {
            return Ok(Some(pass));
        }
        let pass = self.pass_with(t, Feed::Deletes, &t.options)?;
        Ok(Some(t.deletes.get_or_init(|| pass)))
    }

    /// The connector as a trait object, for helpers shared with fresh connectors.
    pub(crate) fn connector(&self) -> &dyn LakeflowConnect {
        &self.main
    }
}
