//! [`Probe`]: a wrapper around the connector under test that records every error it returns
//! (including errors inside record streams and partition reads) and its `Debug` output, so the
//! secrets check can scan everything the connector said during the run.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use arrow_schema::SchemaRef;
use lakeflow_connect::{
    ConnectionOptions, Error, LakeflowConnect, Namespaces, Offset, Partition, PartitionedRead,
    PartitionedStream, ReadOutput, RecordStream, Result, TableMetadata, TableOptions,
};

use crate::config::Factory;

/// What an offline run adds to an authentication error: offline, the credential is the suite's
/// fake secret, so an auth failure almost always means the simulator spec (or the in-process
/// source) does not accept it. The value itself is not quoted: the report redacts it.
pub(crate) const OFFLINE_AUTH_HINT: &str = "offline, the suite sets every secret connection \
    option left unset to `lakeflow_testkit::FAKE_SECRET`, and by convention the connector's \
    simulator spec accepts that value as its credential (bearer token, API key or basic \
    password); see \"The simulator\" in docs/connector-development.md";

/// `error`, with [`OFFLINE_AUTH_HINT`] added to an authentication error of an offline run.
pub(crate) fn explained(error: Error, offline: bool) -> Error {
    match error {
        Error::Auth { message } if offline => Error::Auth {
            message: format!("{message} ({OFFLINE_AUTH_HINT})"),
        },
        other => other,
    }
}

/// One piece of connector output: where it came from and its text.
#[derive(Debug, Clone)]
pub(crate) struct Said {
    /// The call, e.g. "read_table(`users`)".
    pub call: String,
    /// The error's Display and Debug, a panic message, or the connector's Debug.
    pub text: String,
}

/// Everything the connectors of one run said; shared by every probe of the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Transcript(Arc<Mutex<Vec<Said>>>);

impl Transcript {
    pub(crate) fn note(&self, call: impl Into<String>, text: impl Into<String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Said {
                call: call.into(),
                text: text.into(),
            });
    }

    pub(crate) fn error(&self, call: &str, error: &Error) {
        self.note(call, format!("{error}\n{error:?}"));
    }

    pub(crate) fn entries(&self) -> Vec<Said> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Runs `f`, turning a panic into its message (and noting the message in the transcript, since a
/// panic message is output too).
pub(crate) fn guard<T>(
    transcript: &Transcript,
    call: &str,
    f: impl FnOnce() -> T,
) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned());
        transcript.note(format!("panic in {call}"), message.clone());
        format!("panicked: {message}")
    })
}

/// Builds a connector with `factory` (a panic or an error is the returned text, noted in the
/// transcript) and wraps it in a probe playing `role`.
pub(crate) fn build(
    factory: &Factory,
    options: &ConnectionOptions,
    role: &str,
    offline: bool,
    transcript: &Transcript,
) -> Result<Probe, String> {
    let call = format!("building {role}");
    let connector = guard(transcript, &call, || factory(options))?.map_err(|error| {
        transcript.error(&call, &error);
        explained(error, offline).to_string()
    })?;
    Ok(Probe::new(connector, role, offline, transcript.clone()))
}

/// The connector under test, as every check sees it. Errors are noted in the transcript as the
/// connector returned them, then handed on (with [`OFFLINE_AUTH_HINT`] on offline auth errors).
/// Its `Debug` output is noted when the probe is dropped, after everything it was used for.
pub(crate) struct Probe {
    inner: Arc<dyn LakeflowConnect>,
    /// Which connector of the run this is ("the connector reading through faults"), for evidence.
    role: String,
    offline: bool,
    transcript: Transcript,
}

impl fmt::Debug for Probe {
    /// The connector's own `Debug` output: the probe adds nothing to show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if let Ok(text) = self.debug_text() {
            self.transcript
                .note(format!("the Debug output of {}", self.role), text);
        }
    }
}

impl Probe {
    pub(crate) fn new(
        connector: Arc<dyn LakeflowConnect>,
        role: impl Into<String>,
        offline: bool,
        transcript: Transcript,
    ) -> Self {
        Self {
            inner: connector,
            role: role.into(),
            offline,
            transcript,
        }
    }

    /// Which connector of the run this is.
    pub(crate) fn role(&self) -> &str {
        &self.role
    }

    /// The connector's `Debug` output, or the message of a panic while rendering it.
    pub(crate) fn debug_text(&self) -> Result<String, String> {
        let call = format!("Debug of {}", self.role);
        guard(&self.transcript, &call, || format!("{:?}", self.inner))
    }

    fn noted<T>(&self, call: impl FnOnce() -> String, result: Result<T>) -> Result<T> {
        result.map_err(|error| {
            self.transcript.error(&call(), &error);
            explained(error, self.offline)
        })
    }

    fn stream<'a>(&self, call: String, records: RecordStream<'a>) -> RecordStream<'a> {
        let transcript = self.transcript.clone();
        let offline = self.offline;
        Box::new(records.map(move |item| {
            item.map_err(|error| {
                transcript.error(&call, &error);
                explained(error, offline)
            })
        }))
    }

    fn output<'a>(&self, call: String, result: Result<ReadOutput<'a>>) -> Result<ReadOutput<'a>> {
        let output = self.noted(|| call.clone(), result)?;
        Ok(ReadOutput {
            records: self.stream(call, output.records),
            end_offset: output.end_offset,
        })
    }
}

// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl LakeflowConnect for Probe {
    fn list_tables(&self) -> Result<Vec<String>> {
        self.noted(|| "list_tables".into(), self.inner.list_tables())
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        let result = self.inner.get_table_schema(table, options);
        self.noted(|| format!("get_table_schema(`{table}`)"), result)
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        let result = self.inner.read_table_metadata(table, options);
        self.noted(|| format!("read_table_metadata(`{table}`)"), result)
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let result = self.inner.read_table(table, start, options);
        self.output(format!("read_table(`{table}`)"), result)
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let result = self.inner.read_table_deletes(table, start, options);
        self.output(format!("read_table_deletes(`{table}`)"), result)
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        self.inner
            .partitioned_reads()
            .map(|_| self as &dyn PartitionedRead)
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        self.inner
            .partitioned_streams()
            .map(|_| self as &dyn PartitionedStream)
    }

    fn namespaces(&self) -> Option<&dyn Namespaces> {
        self.inner.namespaces()
    }
}

impl Probe {
    /// The inner connector's partitioned reads: the probe offers its own only when they exist.
    fn inner_reads(&self) -> &dyn PartitionedRead {
        self.inner
            .partitioned_reads()
            .expect("checked by partitioned_reads")
    }

    /// The inner connector's partitioned streams: the probe offers its own only when they exist.
    fn inner_streams(&self) -> &dyn PartitionedStream {
        self.inner
            .partitioned_streams()
            .expect("checked by partitioned_streams")
    }
}

/// Only reachable through `partitioned_reads`, which returns it when the inner connector has the
/// capability; the `expect`s restate that.
// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl PartitionedRead for Probe {
    fn get_partitions(&self, table: &str, options: &TableOptions) -> Result<Vec<Partition>> {
        let inner = self.inner_reads();
        let result = inner.get_partitions(table, options);
        self.noted(|| format!("get_partitions(`{table}`)"), result)
    }

    fn read_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let inner = self.inner_reads();
        let call = format!("read_partition(`{table}`)");
        let records = self.noted(
            || call.clone(),
            inner.read_partition(table, partition, options),
        )?;
        Ok(self.stream(call, records))
    }
}

// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl PartitionedStream for Probe {
    fn latest_offset(&self, table: &str, options: &TableOptions) -> Result<Offset> {
        let inner = self.inner_streams();
        let result = inner.latest_offset(table, options);
        self.noted(|| format!("latest_offset(`{table}`)"), result)
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        let inner = self.inner_streams();
        let result = inner.partitions_between(table, start, end, options);
        self.noted(|| format!("partitions_between(`{table}`)"), result)
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let inner = self.inner_streams();
        let call = format!("read_stream_partition(`{table}`)");
        let result = inner.read_stream_partition(table, partition, options);
        let records = self.noted(|| call.clone(), result)?;
        Ok(self.stream(call, records))
    }
}
