//! The Python face of the crate: the `Connector` and `BatchIterator` classes, the module
//! functions, and errors as `LakeflowError`.
//!
//! Every call that may reach a source (HTTP, simulated APIs) runs with the interpreter detached,
//! so other Python threads (Spark's worker plumbing) keep running. Batches cross into Python
//! through the Arrow C Data Interface (`arrow-pyarrow`): pyarrow takes ownership of the Rust
//! buffers, nothing is copied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::RecordBatch;
use arrow_pyarrow::ToPyArrow;
use lakeflow_connect::{Error, Offset, OptionSpec, Partition};
use lakeflow_spec::{CONNECTIONS_FILE, Connections, PipelineSpec};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use serde_json::{Value, json};

use crate::options::FRAMEWORK_OPTIONS;
use crate::registry;
use crate::session::{Job, MICRO_BATCH_READS, Session, Target, offset_text, parse_offset};
use crate::virtual_tables::Virtual;

create_exception!(
    _lakeflow,
    LakeflowError,
    PyException,
    "An error from a Lakeflow connector, its options or a pipeline spec. The message is the Rust \
     error's, naming the source, table, option or field concerned; secrets never appear in it."
);

fn py_err(error: &Error) -> PyErr {
    LakeflowError::new_err(error.to_string())
}

fn batch_to_py(py: Python<'_>, batch: &RecordBatch) -> PyResult<Py<PyAny>> {
    Ok(batch.to_pyarrow(py)?.unbind())
}

fn batches_to_py(py: Python<'_>, batches: &[RecordBatch]) -> PyResult<Vec<Py<PyAny>>> {
    batches.iter().map(|b| batch_to_py(py, b)).collect()
}

/// The arguments of `Connector(options, default_source)`.
type ConstructorArgs = (BTreeMap<String, String>, Option<String>);

/// A connector built from data source options, for one table. Pickles as its options and is
/// rebuilt from them where it is unpickled (Spark executors).
#[pyclass(module = "lakeflow_connect._lakeflow", name = "Connector", frozen)]
pub struct PyConnector {
    session: Arc<Session>,
    options: BTreeMap<String, String>,
    default_source: Option<String>,
}

impl PyConnector {
    fn table(&self) -> &str {
        match self.session.target() {
            Target::Table(table) => table,
            Target::Virtual(v) => v.name(),
        }
    }

    fn offset(&self, text: &str) -> PyResult<Option<Offset>> {
        parse_offset(self.table(), text).map_err(|e| py_err(&e))
    }

    fn partition(&self, text: &str) -> PyResult<Partition> {
        self.offset(text)
            .map(Option::unwrap_or_default)
            .map_err(|_| py_err(&Error::invalid_offset(self.table(), "malformed partition")))
    }

    fn spawn(&self, job: Job) -> BatchIterator {
        BatchIterator {
            receiver: Mutex::new(Some(self.session.spawn(job))),
        }
    }
}

#[pymethods]
impl PyConnector {
    /// Builds the connector from data source `options` (keys in any case). `default_source` is
    /// the source bound at registration, used when the options name none.
    #[new]
    #[pyo3(signature = (options, default_source = None))]
    fn new(
        py: Python<'_>,
        options: BTreeMap<String, String>,
        default_source: Option<String>,
    ) -> PyResult<Self> {
        let session = py
            .detach(|| {
                Session::new(
                    default_source.as_deref(),
                    options.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                )
            })
            .map_err(|e| py_err(&e))?;
        Ok(Self {
            session: Arc::new(session),
            options,
            default_source,
        })
    }

    /// Pickles as the constructor call with the same arguments, so executors rebuild the
    /// connector instead of receiving its state.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, ConstructorArgs) {
        let this = slf.get();
        (
            slf.get_type(),
            (this.options.clone(), this.default_source.clone()),
        )
    }

    /// The source (connector) name.
    #[getter]
    fn source(&self) -> &'static str {
        self.session.options().descriptor.name
    }

    /// The table read: a source table or a virtual table.
    #[getter]
    fn table_name(&self) -> &str {
        self.table()
    }

    /// Whether `tableName` is a virtual table.
    #[getter]
    fn is_virtual(&self) -> bool {
        matches!(self.session.target(), Target::Virtual(_))
    }

    /// Whether this reads the deleted-records feed.
    #[getter]
    fn is_delete_flow(&self) -> bool {
        self.session.options().is_delete_flow
    }

    /// The Arrow schema of what is read (a `pyarrow.Schema`), in the shape Spark expects.
    fn schema(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let schema = py
            .detach(|| self.session.schema())
            .map_err(|e| py_err(&e))?;
        Ok(schema.as_ref().to_pyarrow(py)?.unbind())
    }

    /// The partitions of a batch read: JSON partition descriptors, or `[None]` for one read of
    /// the whole table.
    fn batch_partitions(&self, py: Python<'_>) -> PyResult<Vec<Option<String>>> {
        let jobs = py
            .detach(|| self.session.batch_jobs())
            .map_err(|e| py_err(&e))?;
        Ok(jobs
            .into_iter()
            .map(|job| match job {
                Job::Partition(p) | Job::StreamPartition(p) => Some(Value::Object(p).to_string()),
                Job::Full => None,
            })
            .collect())
    }

    /// Reads one partition from `batch_partitions` (`None`: the whole table, until caught up),
    /// as an iterator of `pyarrow.RecordBatch`.
    #[pyo3(signature = (partition = None))]
    fn read_batch(&self, partition: Option<&str>) -> PyResult<BatchIterator> {
        let job = match partition {
            None => Job::Full,
            Some(text) => Job::Partition(self.partition(text)?),
        };
        Ok(self.spawn(job))
    }

    /// One micro-batch of the simple stream reader from the JSON offset `start` (`{}` first):
    /// the batches and the JSON end offset.
    fn stream_read(&self, py: Python<'_>, start: &str) -> PyResult<(Vec<Py<PyAny>>, String)> {
        let start = self.offset(start)?;
        let (batches, end) = py
            .detach(|| self.session.stream_read(start.as_ref()))
            .map_err(|e| py_err(&e))?;
        Ok((batches_to_py(py, &batches)?, offset_text(Some(&end))))
    }

    /// The batches of the micro-batch from `start` to `end` (JSON offsets), read again after a
    /// restart: at most `max_reads` connector reads (default: the one read a micro-batch of
    /// `stream_read` takes), never reading on past a read that ends at `end`.
    #[pyo3(signature = (start, end, max_reads = MICRO_BATCH_READS))]
    fn stream_read_between(
        &self,
        py: Python<'_>,
        start: &str,
        end: &str,
        max_reads: usize,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let start = self.offset(start)?;
        let end = self.offset(end)?.unwrap_or_default();
        let batches = py
            .detach(|| {
                self.session
                    .stream_read_between(start.as_ref(), &end, max_reads)
            })
            .map_err(|e| py_err(&e))?;
        batches_to_py(py, &batches)
    }

    /// Whether the partitioned stream reader applies to this read.
    fn supports_partitioned_stream(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| self.session.supports_partitioned_stream())
            .map_err(|e| py_err(&e))
    }

    /// The JSON offset the source has reached (partitioned streams).
    fn latest_offset(&self, py: Python<'_>) -> PyResult<String> {
        let offset = py
            .detach(|| self.session.latest_offset())
            .map_err(|e| py_err(&e))?;
        Ok(offset_text(Some(&offset)))
    }

    /// JSON partition descriptors covering the changes after `start` up to `end`.
    fn stream_partitions(&self, py: Python<'_>, start: &str, end: &str) -> PyResult<Vec<String>> {
        let start = self.offset(start)?;
        let end = self.offset(end)?.unwrap_or_default();
        let jobs = py
            .detach(|| self.session.stream_partitions(start.as_ref(), &end))
            .map_err(|e| py_err(&e))?;
        Ok(jobs
            .into_iter()
            .filter_map(|job| match job {
                Job::StreamPartition(p) => Some(Value::Object(p).to_string()),
                Job::Partition(_) | Job::Full => None,
            })
            .collect())
    }

    /// Reads one partition from `stream_partitions`, as an iterator of `pyarrow.RecordBatch`.
    fn read_stream_partition(&self, partition: &str) -> PyResult<BatchIterator> {
        Ok(self.spawn(Job::StreamPartition(self.partition(partition)?)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Connector(source={:?}, table={:?})",
            self.source(),
            self.table()
        )
    }
}

/// `pyarrow.RecordBatch`es as a reader thread converts them. Dropping it stops the thread.
#[pyclass(module = "lakeflow_connect._lakeflow", name = "BatchIterator", frozen)]
pub struct BatchIterator {
    receiver: Mutex<Option<Receiver<lakeflow_connect::Result<RecordBatch>>>>,
}

#[pymethods]
impl BatchIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let next = py.detach(|| {
            let mut receiver = self.receiver.lock().unwrap_or_else(PoisonError::into_inner);
            let item = receiver.as_ref().and_then(|r| r.recv().ok());
            if !matches!(item, Some(Ok(_))) {
                // Exhausted or failed: drop the receiver so later calls end at once.
                *receiver = None;
            }
            item
        });
        match next {
            None => Ok(None),
            Some(Ok(batch)) => batch_to_py(py, &batch).map(Some),
            Some(Err(e)) => Err(py_err(&e)),
        }
    }
}

fn option_specs(specs: &[OptionSpec]) -> Value {
    specs
        .iter()
        .map(|o| {
            json!({
                "name": o.name,
                "required": o.required,
                "secret": o.secret,
                "description": o.description,
                "tables": o.tables,
            })
        })
        .collect()
}

/// The sources this module serves, as JSON: name, description, auth methods, connection and
/// table options.
#[pyfunction]
fn sources_json() -> String {
    registry::all()
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "description": d.description,
                "auth": d.auth,
                "connection_options": option_specs(d.connection_options),
                "table_options": option_specs(d.table_options),
            })
        })
        .collect::<Value>()
        .to_string()
}

/// Parses a pipeline spec (YAML or JSON text) with the spec crate, returning JSON the
/// `ingest` orchestration reads: the connection name and, per object, the source table, the
/// destination, the SCD type, key/sequence/cluster overrides and the connector's table options.
#[pyfunction]
fn parse_pipeline_spec(text: &str, origin: &str) -> PyResult<String> {
    let spec =
        PipelineSpec::parse(text, origin).map_err(|e| LakeflowError::new_err(e.to_string()))?;
    let objects: Vec<Value> = spec
        .objects
        .iter()
        .map(|o| {
            json!({
                "source_table": o.source_table,
                "destination": o.destination().path_segments().join("."),
                "scd_type": o.scd_type.as_str(),
                "primary_keys": o.primary_keys,
                "sequence_by": o.sequence_by,
                "cluster_by": o.cluster_by,
                "table_options": o.table_options,
            })
        })
        .collect();
    Ok(json!({"connection_name": spec.connection_name, "objects": objects}).to_string())
}

/// Resolves a connection name as the CLI does: the connections file (`connections_file`, else
/// `lakeflow.toml` in `spec_dir`, `$LAKEFLOW_CONFIG`, the user config directory), with
/// `${VAR}` references expanded. Returns a dict of `source` and the connection options, or
/// `None` when no connection has that name.
#[pyfunction]
#[pyo3(signature = (name, connections_file = None, spec_dir = None))]
fn resolve_connection<'py>(
    py: Python<'py>,
    name: &str,
    connections_file: Option<&str>,
    spec_dir: Option<&str>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let to_py = |e: lakeflow_spec::Error| LakeflowError::new_err(e.to_string());
    let connections = Connections::load(connections_file.map(Path::new), spec_dir.map(Path::new))
        .map_err(to_py)?;
    let Some(resolved) = connections
        .resolve(name, |var| std::env::var(var).ok())
        .map_err(to_py)?
    else {
        return Ok(None);
    };
    let dict = PyDict::new(py);
    dict.set_item("source", resolved.source)?;
    for key in resolved.options.keys() {
        dict.set_item(key, resolved.options.get(key))?;
    }
    Ok(Some(dict))
}

/// Where `resolve_connection` looks for a connections file, for messages: the candidate paths in
/// search order (see `lakeflow_spec::find_connections_file`), the file found (`None` when there
/// is none) and the connection names it defines.
#[pyfunction]
#[pyo3(signature = (connections_file = None, spec_dir = None))]
fn connections_searched(
    connections_file: Option<&str>,
    spec_dir: Option<&str>,
) -> PyResult<(Vec<String>, Option<String>, Vec<String>)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut searched = Vec::new();
    if let Some(path) = connections_file {
        searched.push(path.to_owned());
    } else {
        if let Some(dir) = spec_dir {
            searched.push(Path::new(dir).join(CONNECTIONS_FILE).display().to_string());
        }
        if let Some(path) = var("LAKEFLOW_CONFIG") {
            searched.push(path);
        } else if let Some(dir) = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config")))
        {
            searched.push(
                dir.join("lakeflow")
                    .join(CONNECTIONS_FILE)
                    .display()
                    .to_string(),
            );
        }
    }
    let connections = Connections::load(connections_file.map(Path::new), spec_dir.map(Path::new))
        .map_err(|e| LakeflowError::new_err(e.to_string()))?;
    Ok((
        searched,
        connections.origin().map(str::to_owned),
        connections.names().map(str::to_owned).collect(),
    ))
}

/// Registers the module's classes, functions and constants.
pub fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyConnector>()?;
    m.add_class::<BatchIterator>()?;
    m.add("LakeflowError", m.py().get_type::<LakeflowError>())?;
    m.add_function(wrap_pyfunction!(sources_json, m)?)?;
    m.add_function(wrap_pyfunction!(parse_pipeline_spec, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_connection, m)?)?;
    m.add_function(wrap_pyfunction!(connections_searched, m)?)?;
    m.add("VIRTUAL_TABLES", Virtual::ALL.map(Virtual::name).to_vec())?;
    m.add("FRAMEWORK_OPTIONS", FRAMEWORK_OPTIONS.to_vec())?;
    m.add("BATCH_ROWS", crate::session::BATCH_ROWS)?;
    Ok(())
}
