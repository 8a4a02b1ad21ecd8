//! The sink of each flow: the write operation its table kind, feed and SCD type make.

use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use url::Url;

use crate::delta::Target;
use crate::delta::append::Append;
use crate::delta::cdc_history::{HistoryChanges, HistoryColumns, HistoryDeletes};
use crate::delta::keyed::{ByKey, KeyedChange};
use crate::delta::sink::{Held, Sink, sink};
use crate::delta::snapshot::{HistorySnapshot, SnapshotReplace};
use crate::delta::tombstones::{kept_aside_url, tombstones_url};
use crate::error::Result;
use crate::plan::{FlowKind, FlowPlan};

use super::{Feed, TableRun};

impl TableRun<'_> {
    /// The schema a feed's records are converted to: deleted records carry the keys and the
    /// sequence column only.
    pub(super) fn feed_schema(&self, feed: Feed) -> SchemaRef {
        match feed {
            Feed::Records => self.plan.schema.clone(),
            Feed::Deletes => deletes_schema(
                &self.plan.schema,
                &self.plan.keys,
                self.plan.sequence_by.as_deref(),
            ),
        }
    }

    /// The sink of a feed's flow: the write operation its table kind and SCD type make.
    pub(super) async fn sink(&self, target: Target, feed: Feed) -> Result<Box<dyn Sink>> {
        let plan = &self.plan;
        let keys = &plan.keys;
        let generation = target.generation();
        let state_table = |url: fn(&Url, u64) -> Url| {
            let url = url(&plan.url, generation);
            async move { Target::open(&plan.name, &url).await }
        };
        // Opened only by the operations that need them: opening creates a local table's folder.
        let tombstones = || state_table(tombstones_url);
        let kept_aside = || state_table(kept_aside_url);
        // The records of a table with deletes skip the keys deleted after them.
        let tombstones_if_deletes = || async {
            match plan.with_deletes {
                true => tombstones().await.map(Some),
                false => Ok(None),
            }
        };
        let history = || HistoryColumns {
            keys: keys.clone(),
            sequence: plan.sequence_by.clone().unwrap_or_default(),
            tracked: plan.tracked_columns(),
        };
        Ok(match (feed, plan.kind, plan.keeps_history()) {
            (Feed::Records, FlowKind::Snapshot, true) => {
                // The snapshot's time: new versions start and vanished keys' versions end here.
                let at: arrow_array::ArrayRef = Arc::new(
                    arrow_array::TimestampMicrosecondArray::from(vec![now_micros()])
                        .with_timezone("UTC"),
                );
                let snapshot =
                    HistorySnapshot::new(&target, keys, &plan.tracked_columns(), at).await?;
                sink(target, snapshot)
            }
            (Feed::Records, FlowKind::Snapshot, false) => {
                let snapshot = SnapshotReplace::new(&target, keys).await?;
                sink(target, snapshot)
            }
            (Feed::Records, FlowKind::Append, _) => sink(target, Append::default()),
            (Feed::Records, FlowKind::Cdc, true) => {
                let changes = HistoryChanges {
                    columns: history(),
                    tombstones: tombstones_if_deletes().await?,
                    kept_aside: kept_aside().await?,
                };
                sink(target, Held::new(changes))
            }
            (Feed::Records, FlowKind::Cdc, false) => {
                let tombstones = tombstones_if_deletes().await?;
                let upsert = KeyedChange::Upsert { tombstones };
                by_key(target, plan, upsert, self.options.stage_bytes)
            }
            (Feed::Deletes, _, true) => {
                let deletes = HistoryDeletes {
                    columns: history(),
                    tombstones: tombstones().await?,
                    kept_aside: kept_aside().await?,
                };
                sink(target, Held::new(deletes))
            }
            (Feed::Deletes, _, false) => {
                let tombstones = tombstones().await?;
                by_key(target, plan, KeyedChange::Delete { tombstones }, 0)
            }
        })
    }
}

pub(super) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The sink of an SCD 1 cdc flow: `change` by the plan's keys, ordered by its sequence,
/// holding upserts that rewrite files up to `stage_bytes`.
pub(super) fn by_key(
    target: Target,
    plan: &FlowPlan,
    change: KeyedChange,
    stage_bytes: usize,
) -> Box<dyn Sink> {
    let (keys, sequence) = (plan.keys.clone(), plan.sequence_by.clone());
    sink(
        target,
        Held::new(ByKey::new(keys, sequence, change, stage_bytes)),
    )
}

/// Deleted records carry the keys and the sequence column only.
pub(super) fn deletes_schema(
    schema: &SchemaRef,
    keys: &[String],
    sequence: Option<&str>,
) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| keys.contains(f.name()) || Some(f.name().as_str()) == sequence)
        .map(|f| f.as_ref().clone().with_nullable(!keys.contains(f.name())))
        .collect();
    Arc::new(Schema::new(fields))
}
