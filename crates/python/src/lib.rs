//! Python bindings: the native half of the `lakeflow_connect` package, which exposes every
//! registered connector to PySpark as the data source `lakeflow_connect`.
//!
//! The Python package (in `python/` at the repository root) holds the PySpark classes; this
//! crate does everything else, in Rust:
//!
//! - [`options`]: the data source options (`tableName`, `tableNameList`, `tableConfigs`,
//!   `isDeleteFlow`, `namespace`, `namespacePrefix`, `source`), routed to the connector's
//!   connection and table options by its descriptor;
//! - [`session`]: one read: batch reads (whole table or per connector partition), simple stream
//!   micro-batches from JSON offsets (records or the deletes feed), partitioned streams;
//! - [`virtual_tables`]: `_community_table_metadata`, `_community_tables`,
//!   `_community_namespaces`;
//! - [`spark`]: Arrow schemas and batches in the exact shape Spark accepts from a Python data
//!   source;
//! - `python`: the classes and functions the module exports, handing batches to pyarrow
//!   through the Arrow C Data Interface.
//!
//! Records are converted by the records crate, as everywhere else in the project, so a row
//! read through Spark is the row `lakeflow read` prints.

pub mod options;
mod python;
pub mod registry;
pub mod session;
pub mod spark;
#[cfg(test)]
mod tests;
pub mod virtual_tables;

use pyo3::prelude::*;

/// The extension module `lakeflow_connect._lakeflow`.
#[pymodule]
fn _lakeflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    python::init(m)
}
