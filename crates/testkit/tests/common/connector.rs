//! The `memory` connector: construction, the simulated API calls and the two read patterns,
//! with the flaws that corrupt reads applied (the trait methods are in `api.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use lakeflow_connect::{
    ConnectionOptions, Error, MAX_RECORDS_PER_BATCH, Offset, Record, Result, Secret, TableOptions,
    check_options, positive_option,
};
use serde_json::{Value, json};

use super::{DESCRIPTOR, FIRST_WRITTEN_ID, Flaw, Shared, lock, object, ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Table {
    Tickets,
    AuditLog,
    Agents,
}

pub(super) const TABLES: [&str; 3] = ["tickets", "audit_log", "agents"];
/// Records per server page of `audit_log` (limit-before-fetch never cuts inside one).
const PAGE: usize = 4;
/// A float that serde_json's default (best-effort) parsing reads back as its neighbour
/// `1.4333333333333331`: an offset holding it does not survive JSON text.
pub const LOSSY_FLOAT: f64 = 1.433_333_333_333_333_3;

pub struct Memory {
    pub(super) store: Shared,
    pub(super) flaw: Flaw,
    token: Option<Secret>,
    /// Construction time: reads whose cursor is at or past it are caught up.
    pub(super) init: String,
    /// Calls so far, when faults are on: every third call fails with a retriable error.
    faults: Option<Arc<AtomicU64>>,
    /// The end offset of the last read of each table (only the resume flaws look at it).
    last_end: Mutex<BTreeMap<Table, Offset>>,
    spin: AtomicU64,
    pub(super) partition_calls: AtomicU64,
    /// `read_table_metadata` calls for `agents` (the unstable-metadata flaw alternates).
    pub(super) metadata_calls: AtomicU64,
    /// Full reads of `agents` (the unstable-snapshot flaw alternates).
    pub(super) snapshot_reads: AtomicU64,
}

/// What a connector should show: the token only as `Secret(***)`; the store is left out (it is
/// the source, not the connector's state). The `DebugLeaksSecret` flaw prints the token.
impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Memory");
        debug.field("flaw", &self.flaw);
        if self.flaw == Flaw::DebugLeaksSecret {
            debug.field("token", &self.token.as_ref().map(Secret::expose));
        } else {
            debug.field("token", &self.token);
        }
        debug
            .field("init", &self.init)
            .field("faults", &self.faults.is_some())
            .finish_non_exhaustive()
    }
}

impl Memory {
    pub fn new(
        store: Shared,
        flaw: Flaw,
        faults: Option<Arc<AtomicU64>>,
        options: &ConnectionOptions,
    ) -> Result<Self> {
        check_options(options.keys(), DESCRIPTOR.connection_options, None)?;
        if let Some(region) = options.get("region")
            && !matches!(region, "eu" | "us")
        {
            return Err(Error::invalid_option("region", region, "must be eu or us"));
        }
        Ok(Self {
            store,
            flaw,
            token: options.secret("token"),
            init: ts(Utc::now()),
            faults,
            last_end: Mutex::new(BTreeMap::new()),
            spin: AtomicU64::new(0),
            partition_calls: AtomicU64::new(0),
            metadata_calls: AtomicU64::new(0),
            snapshot_reads: AtomicU64::new(0),
        })
    }

    pub(super) fn table(&self, name: &str) -> Result<Table> {
        match name {
            "tickets" => Ok(Table::Tickets),
            "audit_log" => Ok(Table::AuditLog),
            "agents" => Ok(Table::Agents),
            _ if self.flaw == Flaw::WrongUnknownTableError => Err(Error::Protocol {
                message: format!("no endpoint for {name}"),
            }),
            _ => Err(Error::unknown_table(name, &TABLES)),
        }
    }

    /// One API call: fails every third time when faults are on, and is retried (unless the flaw
    /// is `NoRetry`).
    pub(super) fn call(&self, table: &str) -> Result<()> {
        let Some(counter) = &self.faults else {
            return Ok(());
        };
        for _ in 0..4 {
            if counter.fetch_add(1, Ordering::SeqCst) % 3 != 1 {
                return Ok(());
            }
            if self.flaw == Flaw::NoRetry {
                break;
            }
        }
        Err(Error::Transport {
            status: Some(503),
            message: format!("table `{table}`: service unavailable"),
            retriable: true,
        })
    }

    pub(super) fn max_records(table: &str, options: &TableOptions) -> Result<usize> {
        DESCRIPTOR.check_table_options(table, options.keys().map(String::as_str))?;
        let max = positive_option(options, MAX_RECORDS_PER_BATCH, 10)?;
        Ok(usize::try_from(max).unwrap_or(usize::MAX))
    }

    /// A stored row as the API returns it, with the flaws that corrupt rows applied.
    pub(super) fn present(&self, table: Table, mut record: Record) -> Record {
        match (self.flaw, table) {
            (Flaw::NullColumn, Table::Tickets) => {
                record.insert("subject".into(), Value::Null);
            }
            (Flaw::BadRecord, Table::AuditLog) if record["seq"] == 2 => {
                record.insert("seq".into(), json!("not-a-number"));
            }
            (Flaw::NullKey, Table::Agents) if record["agent_id"] == 6 => {
                record.insert("agent_id".into(), Value::Null);
            }
            _ => {}
        }
        record
    }

    /// Whether this read starts somewhere else than where the last read of `table` ended (a
    /// resume), remembering `end` as the new last end when given.
    fn resumed_elsewhere(&self, table: Table, start: Option<&Offset>) -> bool {
        let last = self.last_end.lock().unwrap_or_else(PoisonError::into_inner);
        start.is_some() && last.get(&table).is_some_and(|end| Some(end) != start)
    }

    fn remember(&self, table: Table, end: Option<&Offset>) {
        let mut last = self.last_end.lock().unwrap_or_else(PoisonError::into_inner);
        match end {
            Some(end) => last.insert(table, end.clone()),
            None => last.remove(&table),
        };
    }

    fn invalid_offset(&self, table: &str, offset: &Offset, reason: &str) -> Error {
        let reason = if self.flaw == Flaw::LeaksSecret {
            let token = self.token.as_ref().map_or("", Secret::expose);
            format!("{reason} in {offset:?}; request GET /{table}?token={token}")
        } else {
            format!("{reason} in {}", Value::Object(offset.clone()))
        };
        Error::invalid_offset(table, reason)
    }

    fn cursor_of(&self, table: &str, offset: &Offset, allowed: &[&str]) -> Result<String> {
        if let Some(field) = offset.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(self.invalid_offset(table, offset, &format!("unexpected field `{field}`")));
        }
        match offset.get("cursor") {
            Some(Value::String(cursor)) => Ok(cursor.clone()),
            _ => Err(self.invalid_offset(table, offset, "no `cursor`")),
        }
    }

    /// Limit-on-the-fly over rows ordered by `(updated_at, id)`; the offset is the position of
    /// the last row delivered, so ties are never split wrongly.
    pub(super) fn read_keyed(
        &self,
        name: &str,
        rows: Vec<Record>,
        start: Option<&Offset>,
        max: usize,
        records_feed: bool,
    ) -> Result<(Vec<Record>, Option<Offset>)> {
        let position = match start {
            None => None,
            Some(offset) => {
                let cursor = self.cursor_of(name, offset, &["cursor", "after_id"])?;
                let id = offset
                    .get("after_id")
                    .and_then(Value::as_i64)
                    .unwrap_or(i64::MIN);
                Some((cursor, id))
            }
        };
        let mut position = position;
        if position
            .as_ref()
            .is_some_and(|(cursor, _)| *cursor >= self.init)
        {
            if self.flaw != Flaw::FutureRestarts {
                return Ok((Vec::new(), start.cloned()));
            }
            // The flaw: a cursor it has not reached yet counts as no cursor at all.
            position = None;
        }
        self.call(name)?;
        let key = |r: &Record| {
            (
                r["updated_at"].as_str().unwrap_or_default().to_owned(),
                r["id"].as_i64().unwrap_or_default(),
            )
        };
        let resumed = records_feed && self.resumed_elsewhere(Table::Tickets, start);
        let replay = resumed && self.flaw == Flaw::ResumeReplays;
        let mut after: Vec<Record> = rows
            .into_iter()
            .filter(|r| {
                position
                    .as_ref()
                    .is_none_or(|p| key(r) > *p || (replay && key(r) == *p))
            })
            .collect();
        after.sort_by_key(key);
        if self.flaw == Flaw::ResumeGap && resumed && !after.is_empty() {
            after.remove(0);
        }
        let take = if self.flaw == Flaw::OversizedBatch {
            usize::MAX
        } else {
            max
        };
        let batch: Vec<Record> = after.into_iter().take(take).collect();
        let end = batch.last().map_or_else(
            || start.cloned(),
            |r| {
                let (cursor, id) = key(r);
                json!({"cursor": cursor, "after_id": id})
                    .as_object()
                    .cloned()
            },
        );
        if records_feed {
            self.remember(Table::Tickets, end.as_ref());
        }
        Ok((batch, end))
    }

    /// Limit-before-fetch: whole server pages of `PAGE` rows after the cursor until `max` rows.
    pub(super) fn read_log(
        &self,
        start: Option<&Offset>,
        max: usize,
    ) -> Result<(Vec<Record>, Option<Offset>)> {
        let since = match start {
            None => None,
            Some(offset) => {
                let fields = ["cursor", "spin", "version"];
                let since = self.cursor_of("audit_log", offset, &fields)?;
                if self.flaw == Flaw::FloatInOffset
                    && offset.get("version").and_then(Value::as_f64) != Some(LOSSY_FLOAT)
                {
                    let reason = "written by another version of the connector";
                    return Err(self.invalid_offset("audit_log", offset, reason));
                }
                Some(since)
            }
        };
        if since.as_ref().is_some_and(|s| *s >= self.init) {
            return Ok((Vec::new(), start.cloned()));
        }
        let mut rows = lock(&self.store).audit_log.clone();
        rows.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
        let mut cursor = since.clone();
        let mut replay =
            self.flaw == Flaw::ResumeReplays && self.resumed_elsewhere(Table::AuditLog, start);
        let mut out = Vec::new();
        loop {
            self.call("audit_log")?;
            let after = |at: Option<&str>, c: &str| at > Some(c) || (replay && at == Some(c));
            let page: Vec<Record> = rows
                .iter()
                .filter(|r| cursor.as_deref().is_none_or(|c| after(r["at"].as_str(), c)))
                .take(PAGE)
                .cloned()
                .collect();
            replay = false;
            let Some(last) = page.last() else { break };
            cursor = last["at"].as_str().map(str::to_owned);
            out.extend(page);
            let wanted = if self.flaw == Flaw::PagesNotRecords {
                max * PAGE
            } else {
                max
            };
            if out.len() >= wanted {
                break;
            }
        }
        let end = if out.is_empty() {
            match (self.flaw, since) {
                (Flaw::NeverTerminates, Some(since)) => {
                    let spin = self.spin.fetch_add(1, Ordering::SeqCst);
                    json!({"cursor": since, "spin": spin}).as_object().cloned()
                }
                _ => start.cloned(),
            }
        } else if self.flaw == Flaw::FloatInOffset {
            let end = json!({"cursor": cursor, "version": LOSSY_FLOAT});
            end.as_object().cloned()
        } else {
            cursor.and_then(|c| json!({"cursor": c}).as_object().cloned())
        };
        self.remember(Table::AuditLog, end.as_ref());
        Ok((out, end))
    }

    pub(super) fn rows(&self, table: Table) -> Vec<Record> {
        let store = lock(&self.store);
        let mut rows = match table {
            Table::Tickets => store.tickets.clone(),
            Table::AuditLog => store.audit_log.clone(),
            Table::Agents => store.agents.clone(),
        };
        drop(store);
        match (self.flaw, table) {
            (Flaw::AllNullRecord, Table::Agents) => {
                rows.push(object(
                    json!({"agent_id": null, "name": null, "active": null}),
                ));
            }
            (Flaw::MissesInserts, Table::Tickets) => {
                rows.retain(|r| r["id"].as_i64().is_some_and(|id| id < FIRST_WRITTEN_ID));
            }
            _ => {}
        }
        rows.into_iter().map(|r| self.present(table, r)).collect()
    }
}
