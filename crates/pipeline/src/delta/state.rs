//! A flow's committed position, read so that it cannot lie.
//!
//! Three records say where a flow is: the Delta `txn` action of its app id (the batch the table
//! holds), the `commitInfo` of that commit (`lakeflow.batch`, `lakeflow.offset`), and the offset
//! log file written beside the table after the commit. A run starts from the offset only when
//! they agree; when one was altered, lost or damaged it refuses, naming the file, instead of
//! reading the source again from the start (which would duplicate every row of an append).

use deltalake::Path;
use deltalake::logstore::object_store::ObjectStoreExt as _;
use lakeflow_connect::Offset;
use serde_json::{Map, Value};

use super::table::{BATCH_KEY, FLOW_KEY, FULL_REFRESH_KEY, OFFSET_KEY, Target};
use crate::error::{PipelineError, Result};

/// Commits read back from the newest when looking for a flow's last commit; past this (or past
/// commit files removed by log cleanup) the offset log alone is checked.
const SCANNED_COMMITS: u64 = 1000;

/// Commit files read at a time while scanning (object stores answer one request at a time).
const SCAN_CONCURRENCY: usize = 16;

/// Where a flow resumes: the batch it committed last, and the offset that batch reached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommittedState {
    /// The last committed batch (None: the flow never committed).
    pub batch: Option<i64>,
    /// The offset to read from (None: from the start).
    pub offset: Option<Offset>,
}

/// What one commit of the Delta log says about one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowCommit {
    /// The commit's table version.
    pub version: u64,
    /// The batch of the flow's `txn` action in this commit.
    pub txn: Option<i64>,
    /// The batch the `commitInfo` says this commit made (`lakeflow.batch`; older commits lack it).
    pub claimed_batch: Option<i64>,
    /// The offset the `commitInfo` says this commit reached (`Some(None)`: from the start).
    pub claimed_offset: Option<Option<Offset>>,
}

/// Parses one Delta commit file and tells what it says about `app_id`: `None` when the commit
/// is not one of the flow's (no `txn` for it, no `commitInfo` naming it).
pub fn flow_commit(version: u64, content: &[u8], app_id: &str) -> Option<FlowCommit> {
    let mut txn = None;
    let mut info: Option<Map<String, Value>> = None;
    for line in content.split(|&b| b == b'\n') {
        let Ok(Value::Object(action)) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if let Some(t) = action.get("txn")
            && t.get("appId").and_then(Value::as_str) == Some(app_id)
        {
            txn = t.get("version").and_then(Value::as_i64);
        }
        if let Some(Value::Object(i)) = action.get("commitInfo") {
            info = Some(i.clone());
        }
    }
    let (claimed_batch, claimed_offset, claimed) = match &info {
        Some(info) if info.get(FLOW_KEY).and_then(Value::as_str) == Some(app_id) => (
            info.get(BATCH_KEY).and_then(Value::as_i64),
            info.get(OFFSET_KEY).map(|o| o.as_object().cloned()),
            true,
        ),
        Some(info) => match info
            .get(FULL_REFRESH_KEY)
            .and_then(|r| r.get("batches"))
            .and_then(|b| b.get(app_id))
        {
            // A full refresh moved the flow to a fresh batch that reads from the start.
            Some(batch) => (batch.as_i64(), Some(None), true),
            None => (None, None, false),
        },
        None => (None, None, false),
    };
    (claimed || txn.is_some()).then_some(FlowCommit {
        version,
        txn,
        claimed_batch,
        claimed_offset,
    })
}

/// Decides where a flow resumes from the three records of its position: the table's `txn`
/// batch, its last commit (when the scan found it) and the offset log of that batch (its
/// parsed content; `None` when the file is missing). `log_name` names the file in errors.
///
/// Returns the state and whether the offset log must be written again (it is written after the
/// commit, so a run killed in between leaves the commit without its log: the commit says it).
pub fn resolve(
    txn_batch: Option<i64>,
    commit: Option<&FlowCommit>,
    log: Option<&Value>,
    log_name: &str,
) -> std::result::Result<(CommittedState, bool), String> {
    let Some(batch) = txn_batch else {
        return match commit {
            None => Ok((CommittedState::default(), false)),
            Some(c) => Err(format!(
                "commit {} of the Delta log was made by this flow, but the table has no \
                 transaction (txn) of the flow: the log was altered",
                c.version
            )),
        };
    };
    if let Some(c) = commit {
        if c.txn != Some(batch) {
            return Err(format!(
                "the flow's last commit (version {}) carries {} while the table's transaction \
                 is at batch {batch}: the log was altered",
                c.version,
                c.txn
                    .map_or_else(|| "no transaction".to_owned(), |t| format!("batch {t}")),
            ));
        }
        if let Some(claimed) = c.claimed_batch
            && claimed != batch
        {
            return Err(format!(
                "the flow's last commit (version {}) says it made batch {claimed}, but its \
                 transaction is at batch {batch}: the log was altered",
                c.version
            ));
        }
    }
    let claimed_offset = commit.and_then(|c| c.claimed_offset.clone());
    let Some(log) = log else {
        return match claimed_offset {
            Some(offset) => Ok((
                CommittedState {
                    batch: Some(batch),
                    offset,
                },
                true,
            )),
            None => Err(format!(
                "the offset log `{log_name}` of committed batch {batch} is missing"
            )),
        };
    };
    let end = logged_end(log, batch).map_err(|why| format!("the offset log `{log_name}` {why}"))?;
    if let Some(claimed) = claimed_offset
        && claimed != end
    {
        return Err(format!(
            "the offset log `{log_name}` says batch {batch} reached {}, but the commit that made \
             it (version {}) says {}",
            show(end.as_ref()),
            commit.map_or(0, |c| c.version),
            show(claimed.as_ref()),
        ));
    }
    Ok((
        CommittedState {
            batch: Some(batch),
            offset: end,
        },
        false,
    ))
}

/// The `end` of an offset log of `batch`, checked for shape: an object with that batch and an
/// `end` that is an offset (object) or null.
pub fn logged_end(log: &Value, batch: i64) -> std::result::Result<Option<Offset>, String> {
    let Value::Object(log) = log else {
        return Err("is not a JSON object".to_owned());
    };
    match log.get("batch").and_then(Value::as_i64) {
        Some(b) if b == batch => {}
        Some(b) => return Err(format!("is for batch {b}, not batch {batch}")),
        None => return Err("has no batch number".to_owned()),
    }
    match log.get("end") {
        Some(Value::Object(end)) => Ok(Some(end.clone())),
        Some(Value::Null) => Ok(None),
        Some(_) => Err("has an `end` that is not an offset".to_owned()),
        None => Err("has no `end`".to_owned()),
    }
}

/// The content of an offset log of `batch` that reached `end` from `start`.
pub fn offset_log_entry(batch: i64, start: Option<&Offset>, end: Option<&Offset>) -> Value {
    serde_json::json!({ "batch": batch, "start": start, "end": end })
}

/// Where a flow's offset for `batch` is logged, relative to the table root.
pub fn offset_log_path(flow: &str, batch: i64) -> String {
    format!("_lakeflow/{flow}/offsets/{batch:020}.json")
}

fn show(offset: Option<&Offset>) -> String {
    offset.map_or_else(
        || "no offset (the start)".to_owned(),
        |o| Value::Object(o.clone()).to_string(),
    )
}

impl Target {
    /// Where the flow `app_id` (whose offset logs are under `flow`) resumes, after checking the
    /// table's transaction, the flow's last commit and its offset log against each other.
    pub async fn committed_state(&self, app_id: &str, flow: &str) -> Result<CommittedState> {
        let batch = self.committed_batch(app_id).await?;
        let commit = self.last_commit_of(app_id).await?;
        let relative = batch.map(|b| offset_log_path(flow, b));
        let refuse = |reason: String| PipelineError::State {
            table: self.name.clone(),
            reason: format!(
                "{reason}; the table's progress cannot be trusted, so nothing was read \
                 (reload it with --full-refresh)"
            ),
        };
        let log = match &relative {
            Some(path) => match self.read_state(path).await {
                Ok(log) => log,
                Err(PipelineError::State { reason, .. }) => return Err(refuse(reason)),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let log_name = relative
            .as_deref()
            .map(|r| self.location_of(r))
            .unwrap_or_default();
        let (state, rewrite) =
            resolve(batch, commit.as_ref(), log.as_ref(), &log_name).map_err(refuse)?;
        if rewrite && let (Some(path), Some(b)) = (&relative, state.batch) {
            let entry = offset_log_entry(b, None, state.offset.as_ref());
            self.write_state(path, &entry).await?;
        }
        Ok(state)
    }

    /// The newest commit of the flow `app_id` among the last [`SCANNED_COMMITS`] versions,
    /// stopping early at a commit file that is gone (removed by log cleanup).
    async fn last_commit_of(&self, app_id: &str) -> Result<Option<FlowCommit>> {
        use futures::StreamExt as _;
        let Some(latest) = self.table.version() else {
            return Ok(None);
        };
        let oldest = latest.saturating_sub(SCANNED_COMMITS - 1);
        let store = self.table.object_store();
        let mut reads = futures::stream::iter((oldest..=latest).rev())
            .map(|version| {
                let store = store.clone();
                async move {
                    let path = Path::from(format!("_delta_log/{version:020}.json"));
                    let read = match store.get(&path).await {
                        Ok(found) => found.bytes().await.map(Some),
                        Err(deltalake::ObjectStoreError::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    };
                    (version, read)
                }
            })
            .buffered(SCAN_CONCURRENCY);
        while let Some((version, read)) = reads.next().await {
            let Some(content) = read.map_err(|e| self.state_error(&e))? else {
                return Ok(None);
            };
            if let Some(commit) = flow_commit(version, &content, app_id) {
                return Ok(Some(commit));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn offset(n: i64) -> Offset {
        json!({ "cursor": n }).as_object().cloned().unwrap()
    }

    fn commit(txn: Option<i64>, batch: Option<i64>, end: Option<Option<Offset>>) -> FlowCommit {
        FlowCommit {
            version: 7,
            txn,
            claimed_batch: batch,
            claimed_offset: end,
        }
    }

    #[test]
    fn agreeing_records_resume_at_the_logged_end() {
        let c = commit(Some(3), Some(3), Some(Some(offset(30))));
        let log = offset_log_entry(3, Some(&offset(20)), Some(&offset(30)));
        let (state, rewrite) = resolve(Some(3), Some(&c), Some(&log), "f").unwrap();
        assert_eq!(state.offset, Some(offset(30)));
        assert_eq!(state.batch, Some(3));
        assert!(!rewrite);
    }

    #[test]
    fn offset_logs_without_a_usable_end_are_refused() {
        let c = commit(Some(3), Some(3), Some(Some(offset(30))));
        for log in [
            json!({}),
            Value::Null,
            json!({"batch": 3}),
            json!({"batch": 3, "end": 5}),
            json!({"batch": 2, "end": {"cursor": 30}}),
            json!({"batch": 3, "end": {"cursor": 20}}),
            json!({"batch": 3, "end": null}),
        ] {
            let e = resolve(Some(3), Some(&c), Some(&log), "the/file.json").unwrap_err();
            assert!(e.contains("the/file.json"), "{log}: {e}");
        }
        // Without the commit (history cleaned up), the shape is still checked.
        for log in [json!({}), Value::Null, json!({"batch": 3}), json!([1])] {
            assert!(resolve(Some(3), None, Some(&log), "f").is_err(), "{log}");
        }
    }

    #[test]
    fn an_altered_transaction_is_refused() {
        // The txn removed from the last commit: the table is back at batch 2 (or none).
        let c = commit(None, Some(3), Some(Some(offset(30))));
        let log = offset_log_entry(2, None, Some(&offset(20)));
        assert!(resolve(Some(2), Some(&c), Some(&log), "f").is_err());
        assert!(resolve(None, Some(&c), None, "f").is_err());
        // A txn that disagrees with the batch its commit claims.
        let c = commit(Some(2), Some(3), Some(Some(offset(30))));
        assert!(resolve(Some(2), Some(&c), Some(&log), "f").is_err());
    }

    #[test]
    fn a_log_lost_after_its_commit_is_rewritten_from_the_commit() {
        let c = commit(Some(3), Some(3), Some(Some(offset(30))));
        let (state, rewrite) = resolve(Some(3), Some(&c), None, "f").unwrap();
        assert_eq!(state.offset, Some(offset(30)));
        assert!(rewrite);
        // Without the commit nothing backs the position.
        assert!(resolve(Some(3), None, None, "f").is_err());
    }

    #[test]
    fn a_flow_that_never_committed_starts_from_scratch() {
        let (state, _) = resolve(None, None, None, "f").unwrap();
        assert_eq!(state, CommittedState::default());
    }

    #[test]
    fn commits_are_read_for_one_flow() {
        let file = concat!(
            r#"{"txn":{"appId":"a","version":4}}"#,
            "\n",
            r#"{"txn":{"appId":"b","version":9}}"#,
            "\n",
            r#"{"commitInfo":{"lakeflow.flow":"a","lakeflow.batch":4,"lakeflow.offset":{"cursor":1}}}"#,
            "\n",
            "not json\n"
        );
        let a = flow_commit(5, file.as_bytes(), "a").unwrap();
        assert_eq!(a.txn, Some(4));
        assert_eq!(a.claimed_batch, Some(4));
        assert_eq!(a.claimed_offset, Some(Some(offset(1))));
        let b = flow_commit(5, file.as_bytes(), "b").unwrap();
        assert_eq!(
            (b.txn, b.claimed_batch, b.claimed_offset),
            (Some(9), None, None)
        );
        assert!(flow_commit(5, file.as_bytes(), "c").is_none());
        let refresh =
            r#"{"commitInfo":{"lakeflow.fullRefresh":{"generation":1,"batches":{"c":2}}}}"#;
        let c = flow_commit(6, refresh.as_bytes(), "c").unwrap();
        assert_eq!(
            (c.txn, c.claimed_batch, c.claimed_offset),
            (None, Some(2), Some(None))
        );
    }
}
