//! The `memory` connector's partition capabilities: reads split by `agent_id` parity, and an
//! `audit_log` stream between `at` cursors.

use std::sync::atomic::Ordering;

use lakeflow_connect::{
    Error, Offset, Partition, PartitionedRead, PartitionedStream, Record, RecordStream, Result,
    TableOptions,
};
use serde_json::{Value, json};

use super::Flaw;
use super::connector::{Memory, Table};

impl PartitionedRead for Memory {
    fn get_partitions(&self, table: &str, _options: &TableOptions) -> Result<Vec<Partition>> {
        let parts = if self.table(table)? == Table::Agents {
            let mut parities = vec![0, 1];
            let call = self.partition_calls.fetch_add(1, Ordering::SeqCst);
            if self.flaw == Flaw::UnstablePartitions && call % 2 == 1 {
                parities.reverse();
            }
            parities.into_iter().map(|p| json!({"parity": p})).collect()
        } else {
            vec![json!({"all": true})]
        };
        Ok(parts
            .into_iter()
            .filter_map(|p| p.as_object().cloned())
            .collect())
    }

    fn read_partition(
        &self,
        table: &str,
        partition: &Partition,
        _options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let parsed = self.table(table)?;
        self.call(table)?;
        let parity = partition.get("parity").and_then(Value::as_i64);
        // A record without an id (the null-key flaws) belongs to the even partition.
        let id = |r: &Record| r.get("agent_id").and_then(Value::as_i64).unwrap_or(0);
        let rows: Vec<Record> = self
            .rows(parsed)
            .into_iter()
            .filter(|r| parity.is_none_or(|p| id(r).rem_euclid(2) == p))
            .filter(|r| {
                let missed = self.flaw == Flaw::PartitionsMiss && parsed == Table::Agents;
                !(missed && id(r) == 6)
            })
            .collect();
        Ok(Box::new(rows.into_iter().map(Ok)))
    }
}

impl PartitionedStream for Memory {
    fn latest_offset(&self, table: &str, _options: &TableOptions) -> Result<Offset> {
        if self.table(table)? != Table::AuditLog {
            return Err(Error::not_supported(table, "latest_offset"));
        }
        let latest = self
            .rows(Table::AuditLog)
            .iter()
            .filter_map(|r| r["at"].as_str().map(str::to_owned))
            .filter(|at| *at < self.init)
            .max()
            .unwrap_or_default();
        Ok(json!({"cursor": latest})
            .as_object()
            .cloned()
            .unwrap_or_default())
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        _options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        self.table(table)?;
        if start == Some(end) {
            return Ok(Vec::new());
        }
        let from = start
            .and_then(|s| s.get("cursor"))
            .cloned()
            .unwrap_or(Value::Null);
        let range = json!({"from": from, "to": end.get("cursor").cloned().unwrap_or(Value::Null)});
        Ok(range.as_object().cloned().into_iter().collect())
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        _options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let parsed = self.table(table)?;
        let from = partition
            .get("from")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let to = partition
            .get("to")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let rows: Vec<Record> = self
            .rows(parsed)
            .into_iter()
            .filter(|r| {
                let at = r["at"].as_str().unwrap_or_default();
                from.as_deref().is_none_or(|f| at > f) && at <= to.as_str()
            })
            .collect();
        Ok(Box::new(rows.into_iter().map(Ok)))
    }
}
