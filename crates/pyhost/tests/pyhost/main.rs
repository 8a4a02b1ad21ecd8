//! The `python` source against real Python processes running the test connectors in
//! `host/tests/connectors/` (written against the original's interface): every method, every
//! ingestion type, partitions, and each way a connector can fail.

mod failures;
mod reads;

use std::path::PathBuf;

use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Offset, Record, TableOptions};

/// The path of a test connector (`sample_source.py`, `broken_import`, ...).
pub(crate) fn connector_path(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("host/tests/connectors")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The `python` source's connection to the test connector `name`, with `extra` options.
pub(crate) fn connection(name: &str, extra: &[(&str, &str)]) -> ConnectionOptions {
    let mut options: ConnectionOptions = [("class", connector_path(name))].into_iter().collect();
    for (key, value) in extra {
        options.insert(*key, *value);
    }
    options
}

pub(crate) fn connect(name: &str, extra: &[(&str, &str)]) -> Box<dyn LakeflowConnect> {
    lakeflow_pyhost::DESCRIPTOR
        .connect(&connection(name, extra))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) fn table_options(pairs: &[(&str, &str)]) -> TableOptions {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Every record of `table`, reading from each returned offset until it stops moving.
pub(crate) fn read_all(
    connector: &dyn LakeflowConnect,
    table: &str,
    options: &TableOptions,
) -> (Vec<Record>, Vec<Option<Offset>>) {
    let (mut records, mut offsets, mut start) = (Vec::new(), Vec::new(), None);
    for _ in 0..100 {
        let (batch, end) = connector
            .read_table(table, start.as_ref(), options)
            .unwrap()
            .collect()
            .unwrap();
        records.extend(batch);
        offsets.push(end.clone());
        if end.is_none() || end == start {
            return (records, offsets);
        }
        start = end;
    }
    panic!("{table}: the reads never caught up");
}
