//! [`PythonConnector`]: a connector written for the original, run in Python host processes.
//!
//! Calls go to an idle host (started on demand: the interpreter, the import of the connector,
//! its construction). A read keeps its host until its records are exhausted, so reads of
//! several tables at once each have their own process, and a connector that hangs or crashes
//! takes down its own process only: the call fails with an error naming the connector, the
//! method and the table, and the next call starts a fresh host.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    Error, LakeflowConnect, Namespaces, Offset, Partition, PartitionedRead, PartitionedStream,
    ReadOutput, Record, RecordStream, Redactor, Result, TableMetadata, TableOptions,
};
use serde_json::{Map, Value, json};

use crate::errors::{Call, failure_error};
use crate::process::{Failure, HostProcess};

/// Records asked for per `next`: large enough to amortize a round trip, small enough that
/// memory stays bounded by a few chunks.
const CHUNK: usize = 1024;

/// How a [`PythonConnector`] starts its hosts.
#[derive(Debug, Clone)]
pub struct PythonSettings {
    /// The interpreter (`python3`, a path).
    pub python: String,
    /// What to import: `package.module:Class`, a `.py` file or a directory.
    pub class: String,
    /// Directories put in front of `$PYTHONPATH` (separated like `PATH`).
    pub pythonpath: Option<String>,
    /// The longest one call may go unanswered before the connector is declared hung.
    pub timeout: Duration,
}

/// A Python connector.
pub struct PythonConnector {
    settings: PythonSettings,
    /// The options the connector is constructed with (values never shown).
    options: Map<String, Value>,
    redactor: Redactor,
    /// `module.Class` as the host reported it, for errors.
    class: String,
    mixins: Vec<String>,
    idle: Mutex<Vec<HostProcess>>,
    /// `list_tables`, asked once to check the table of every call.
    tables: Mutex<Option<Vec<String>>>,
}

impl std::fmt::Debug for PythonConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonConnector")
            .field("class", &self.class)
            .field("python", &self.settings.python)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl PythonConnector {
    /// Starts one host, imports and constructs the connector with `options` (passed to it as
    /// the original does: a dict of strings). Values of options that `redactor` knows as
    /// secret are scrubbed from every error and log line.
    ///
    /// # Errors
    /// [`Error::Connector`] when Python cannot start, the import fails (naming the missing
    /// module) or the constructor raises.
    pub fn start(
        settings: PythonSettings,
        options: Map<String, Value>,
        redactor: Redactor,
    ) -> Result<Self> {
        let mut connector = Self {
            class: settings.class.clone(),
            settings,
            options,
            redactor,
            mixins: Vec::new(),
            idle: Mutex::new(Vec::new()),
            tables: Mutex::new(None),
        };
        let (host, info) = connector.spawn()?;
        connector.class = info
            .get("class")
            .and_then(Value::as_str)
            .unwrap_or(&connector.settings.class)
            .to_owned();
        connector.mixins = info
            .get("mixins")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        tracing::debug!(class = %connector.class, mixins = ?connector.mixins, info = %info, "Python connector loaded");
        connector.put_back(host);
        Ok(connector)
    }

    /// A new host with the connector constructed in it, and what `init` answered.
    fn spawn(&self) -> Result<(HostProcess, Value)> {
        let call = Call::new(&self.class, "import", None);
        let script = crate::files::host_script().map_err(|e| Error::Connector {
            message: format!("cannot write the Python host's files: {e}"),
        })?;
        let settings = &self.settings;
        let mut host = HostProcess::spawn(
            &settings.python,
            &script,
            settings.pythonpath.as_deref(),
            settings.timeout,
        )
        .map_err(|f| self.error(&call, f))?;
        let request =
            json!({"op": "init", "connector": self.settings.class, "options": self.options});
        let info = host.call(&request).map_err(|f| self.error(&call, f))?;
        Ok((host, info))
    }

    fn take_host(&self) -> Result<HostProcess> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(host) => Ok(host),
            None => self.spawn().map(|(host, _)| host),
        }
    }

    fn put_back(&self, host: HostProcess) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(host);
    }

    fn error(&self, call: &Call<'_>, failure: Failure) -> Error {
        let error = failure_error(call, failure, &self.settings.python);
        self.redactor.redact_error(error)
    }

    /// One request and its answer. A host whose connector raised is kept; one that died or
    /// hung is gone.
    fn call(&self, call: &Call<'_>, request: &Value) -> Result<Value> {
        let mut host = self.take_host()?;
        match host.call(request) {
            Ok(value) => {
                self.put_back(host);
                Ok(value)
            }
            Err(failure @ Failure::Raised(_)) => {
                self.put_back(host);
                Err(self.error(call, failure))
            }
            Err(failure) => Err(self.error(call, failure)),
        }
    }

    /// A request that opens a stream on its host (`read_table`, `read_partition`, ...): the
    /// offset it returned, and its records, pulled chunk by chunk.
    fn open(
        &self,
        method: &'static str,
        table: &str,
        request: &Value,
    ) -> Result<(Option<Offset>, RecordStream<'_>)> {
        let call = Call::new(&self.class, method, Some(table));
        let mut host = self.take_host()?;
        let offset = match host.call(request) {
            Ok(answer) => answer.get("offset").cloned().unwrap_or(Value::Null),
            Err(failure @ Failure::Raised(_)) => {
                self.put_back(host);
                return Err(self.error(&call, failure));
            }
            Err(failure) => return Err(self.error(&call, failure)),
        };
        let offset = match offset {
            Value::Null => None,
            Value::Object(offset) => Some(offset),
            other => {
                self.put_back(host);
                return Err(Error::Connector {
                    message: format!(
                        "{call} returned an offset that is not a dict or None: {}",
                        kind(&other)
                    ),
                });
            }
        };
        let stream = Records {
            connector: self,
            call,
            host: Some(host),
            chunk: Vec::new().into_iter(),
            in_flight: 0,
        };
        Ok((offset, Box::new(stream)))
    }

    fn read(
        &self,
        method: &'static str,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.check_table(table)?;
        let request =
            json!({"op": method, "table": table, "start_offset": start, "table_options": options});
        let (offset, records) = self.open(method, table, &request)?;
        Ok(ReadOutput {
            records,
            end_offset: offset,
        })
    }

    /// An unknown table is [`Error::UnknownTable`] before the connector is asked, as every
    /// connector of ours answers (the original's connectors each raise their own exception).
    fn check_table(&self, table: &str) -> Result<()> {
        let mut known = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let tables = match &mut *known {
            Some(tables) => tables,
            None => known.insert(self.list_tables()?),
        };
        if tables.iter().any(|t| t == table) {
            return Ok(());
        }
        let available: Vec<&str> = tables.iter().map(String::as_str).collect();
        Err(Error::unknown_table(table, &available))
    }

    fn has(&self, mixin: &str) -> bool {
        self.mixins.iter().any(|m| m == mixin)
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, call: &Call<'_>, value: Value) -> Result<T> {
        serde_json::from_value(value).map_err(|e| Error::Connector {
            message: self
                .redactor
                .redact(&format!("{call} returned an unexpected value: {e}"))
                .into_owned(),
        })
    }
}

/// The records of an open stream, pulled from its host a chunk at a time. Up to [`AHEAD`]
/// chunks are asked for ahead, so the connector produces the next while one is decoded and
/// another consumed.
struct Records<'a> {
    connector: &'a PythonConnector,
    call: Call<'a>,
    /// `None` once the stream is exhausted or failed.
    host: Option<HostProcess>,
    chunk: std::vec::IntoIter<Value>,
    /// `next` requests sent whose answers are not read yet.
    in_flight: usize,
}

/// Chunks asked for ahead of the one being consumed.
const AHEAD: usize = 2;

fn next_chunk() -> Value {
    json!({"op": "next", "max_records": CHUNK})
}

impl Iterator for Records<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(value) = self.chunk.next() {
                return Some(match value {
                    Value::Object(record) => Ok(record),
                    other => Err(Error::Connector {
                        message: format!("{} yielded a record that is {}", self.call, kind(&other)),
                    }),
                });
            }
            let failure = match self.pull()? {
                Ok(()) => continue,
                Err(failure) => failure,
            };
            if matches!(failure, Failure::Raised(_)) {
                // The connector raised: its process is sound, and its stream is gone.
                self.finish(true);
            } else {
                self.host = None;
            }
            return Some(Err(self.connector.error(&self.call, failure)));
        }
    }
}

impl Records<'_> {
    /// Reads the next chunk into `self.chunk`, keeping [`AHEAD`] requests in flight. `None`
    /// once the stream is over.
    fn pull(&mut self) -> Option<Result<(), Failure>> {
        let host = self.host.as_mut()?;
        while self.in_flight < AHEAD {
            if let Err(failure) = host.send(&next_chunk()) {
                return Some(Err(failure));
            }
            self.in_flight += 1;
        }
        self.in_flight -= 1;
        let mut answer = match host.receive() {
            Ok(Value::Object(answer)) => answer,
            Ok(_) => {
                return Some(Err(Failure::Died {
                    what: "it answered `next` with something else than a chunk".to_owned(),
                    stderr: String::new(),
                }));
            }
            Err(failure) => return Some(Err(failure)),
        };
        let done = answer.get("done").and_then(Value::as_bool).unwrap_or(true);
        self.chunk = match answer.remove("records") {
            Some(Value::Array(records)) => records.into_iter(),
            _ => Vec::new().into_iter(),
        };
        if done {
            self.finish(true);
        }
        Some(Ok(()))
    }

    /// Gives the host back. Requests still in flight after the last chunk are answered at
    /// once (there is no stream left), and read; with a stream abandoned half way, the process
    /// is stopped rather than waiting for chunks nobody wants.
    fn finish(&mut self, exhausted: bool) {
        let Some(mut host) = self.host.take() else {
            return;
        };
        if !exhausted && self.in_flight > 0 {
            return;
        }
        while self.in_flight > 0 {
            self.in_flight -= 1;
            match host.receive() {
                Ok(_) | Err(Failure::Raised(_)) => {}
                Err(_) => return,
            }
        }
        self.connector.put_back(host);
    }
}

impl Drop for Records<'_> {
    fn drop(&mut self) {
        self.finish(false);
    }
}

/// A JSON value's kind, for errors that must not show the value (it may hold a secret).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "None",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dict",
    }
}

impl LakeflowConnect for PythonConnector {
    fn list_tables(&self) -> Result<Vec<String>> {
        let call = Call::new(&self.class, "list_tables", None);
        let tables = self.call(&call, &json!({"op": "list_tables"}))?;
        self.decode(&call, tables)
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        self.check_table(table)?;
        let call = Call::new(&self.class, "get_table_schema", Some(table));
        let request = json!({"op": "get_table_schema", "table": table, "table_options": options});
        let schema = self.call(&call, &request)?;
        lakeflow_kit::schema::from_spark_json(&schema).map_err(|e| Error::SchemaMismatch {
            table: table.to_owned(),
            field: e.near.clone(),
            reason: format!("the StructType get_table_schema returned: {}", e.message),
        })
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        self.check_table(table)?;
        let call = Call::new(&self.class, "read_table_metadata", Some(table));
        let request =
            json!({"op": "read_table_metadata", "table": table, "table_options": options});
        let metadata = self.call(&call, &request)?;
        crate::metadata::from_python(table, metadata)
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.read("read_table", table, start, options)
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.read("read_table_deletes", table, start, options)
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        self.has("SupportsPartition")
            .then_some(self as &dyn PartitionedRead)
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        self.has("SupportsPartitionedStream")
            .then_some(self as &dyn PartitionedStream)
    }

    fn namespaces(&self) -> Option<&dyn Namespaces> {
        self.has("SupportsNamespaces")
            .then_some(self as &dyn Namespaces)
    }
}

impl Namespaces for PythonConnector {
    fn list_namespaces(&self, parent: &[String]) -> Result<Vec<Vec<String>>> {
        let call = Call::new(&self.class, "list_namespaces", None);
        let answer = self.call(&call, &json!({"op": "list_namespaces", "prefix": parent}))?;
        // Full paths; a connector answering names only gets them put under `parent`.
        let entries: Vec<Value> = self.decode(&call, answer)?;
        entries
            .into_iter()
            .map(|entry| match entry {
                Value::String(name) => Ok([parent, &[name]].concat()),
                other => self.decode(&call, other),
            })
            .collect()
    }

    fn list_tables_in(&self, namespace: &[String]) -> Result<Vec<String>> {
        let call = Call::new(&self.class, "list_tables_in_namespace", None);
        let request = json!({"op": "list_tables_in_namespace", "namespace": namespace});
        let entries: Vec<Value> = self.decode(&call, self.call(&call, &request)?)?;
        // Table names, or `(namespace, table)` pairs.
        entries
            .into_iter()
            .map(|entry| match entry {
                Value::String(table) => Ok(table),
                Value::Array(pair) if pair.len() == 2 && pair[1].is_string() => {
                    Ok(pair[1].as_str().unwrap_or_default().to_owned())
                }
                other => Err(Error::Connector {
                    message: format!(
                        "{call} returned an entry that is {}, not a table",
                        kind(&other)
                    ),
                }),
            })
            .collect()
    }
}

impl PartitionedRead for PythonConnector {
    fn get_partitions(&self, table: &str, options: &TableOptions) -> Result<Vec<Partition>> {
        self.check_table(table)?;
        let call = Call::new(&self.class, "get_partitions", Some(table));
        let request = json!({"op": "get_partitions", "table": table, "table_options": options});
        let partitions = self.call(&call, &request)?;
        self.decode(&call, partitions)
    }

    fn read_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        self.check_table(table)?;
        let request = json!({"op": "read_partition", "table": table, "partition": partition, "table_options": options});
        Ok(self.open("read_partition", table, &request)?.1)
    }
}

impl PartitionedStream for PythonConnector {
    fn latest_offset(&self, table: &str, options: &TableOptions) -> Result<Offset> {
        self.check_partitioned(table)?;
        let call = Call::new(&self.class, "latest_offset", Some(table));
        let request = json!({"op": "latest_offset", "table": table, "table_options": options, "start_offset": null});
        let offset = self.call(&call, &request)?;
        self.decode(&call, offset)
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        self.check_partitioned(table)?;
        if start == Some(end) {
            return Ok(Vec::new());
        }
        let call = Call::new(&self.class, "get_partitions", Some(table));
        let request = json!({"op": "get_stream_partitions", "table": table, "table_options": options,
            "start_offset": start, "end_offset": end});
        let partitions = self.call(&call, &request)?;
        self.decode(&call, partitions)
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        PartitionedRead::read_partition(self, table, partition, options)
    }
}

impl PythonConnector {
    /// A table the connector's `is_partitioned` says is streamed in partitions, else
    /// [`Error::NotSupported`].
    fn check_partitioned(&self, table: &str) -> Result<()> {
        self.check_table(table)?;
        let call = Call::new(&self.class, "is_partitioned", Some(table));
        let partitioned = self.call(&call, &json!({"op": "is_partitioned", "table": table}))?;
        if partitioned == Value::Bool(true) {
            Ok(())
        } else {
            Err(Error::NotSupported {
                table: table.to_owned(),
                operation: "partitioned streams".to_owned(),
            })
        }
    }
}
