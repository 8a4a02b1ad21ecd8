//! `memory`: a small in-memory connector that meets the whole contract, with switchable flaws so
//! the suite's own tests can show that each check catches what it is meant to.
//!
//! | table | ingestion | keys | cursor | notes |
//! |---|---|---|---|---|
//! | `tickets` | cdc_with_deletes | `id` | `updated_at` | cursor ties in threes; offsets `(cursor, after_id)` |
//! | `audit_log` | append | | `at` | limit-before-fetch, server pages of 4; partitioned stream |
//! | `agents` | snapshot | `agent_id` | | partitioned read by id parity |

mod api;
pub mod connector;
mod flaw;
mod opaque;
mod partitions;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, LakeflowConnect, MAX_RECORDS_PER_BATCH, OptionSpec,
    Record, Result,
};
use lakeflow_testkit::{Conformance, WriteBack, WriteBackError};
use serde_json::{Value, json};

pub use connector::{LOSSY_FLOAT, Memory};
pub use flaw::Flaw;
pub use opaque::with_opaque_deletes;

use lakeflow_testkit::fixtures::object;

/// The first id (`id`, `seq`, `agent_id`) the write-back helper gives a new record; the seeded
/// records all have smaller ones.
pub const FIRST_WRITTEN_ID: i64 = 5_000;

/// The rows of the three tables and the tickets' tombstones, each sorted by its cursor.
#[derive(Debug, Default)]
pub struct Store {
    pub tickets: Vec<Record>,
    pub tombstones: Vec<Record>,
    pub audit_log: Vec<Record>,
    pub agents: Vec<Record>,
}

pub type Shared = Arc<Mutex<Store>>;

/// Timestamps in one fixed-width format, so text order is time order.
pub fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn base() -> DateTime<Utc> {
    DateTime::from_timestamp(1_709_251_200, 0).unwrap_or_default() // 2024-03-01T00:00:00Z
}

impl Store {
    pub fn shared() -> Shared {
        let mut store = Self::default();
        for i in 0..30_i64 {
            // Three tickets per hour: every batch boundary risks splitting a tie.
            let requester = if i % 4 == 3 {
                Value::Null
            } else {
                json!({"name": format!("Customer {i}"), "email": format!("c{i}@example.com")})
            };
            store.tickets.push(object(json!({
                "id": 100 + i,
                "subject": format!("Ticket {i}"),
                "requester": requester,
                "updated_at": ts(base() + TimeDelta::hours(i / 3)),
            })));
        }
        for i in 0..4_i64 {
            store.tombstones.push(object(json!({
                "id": 900 + i,
                "updated_at": ts(base() + TimeDelta::days(1) + TimeDelta::hours(i / 2)),
            })));
        }
        for i in 0..23_i64 {
            store.audit_log.push(object(json!({
                "seq": i,
                "action": if i % 2 == 0 { "login" } else { "logout" },
                "at": ts(base() + TimeDelta::minutes(i)),
            })));
        }
        for i in 0..7_i64 {
            store.agents.push(object(json!({
                "agent_id": i,
                "name": format!("Agent {i}"),
                "active": i % 3 != 0,
            })));
        }
        Arc::new(Mutex::new(store))
    }
}

pub fn lock(store: &Shared) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

const BATCHED: &[&str] = &["tickets", "audit_log"];

pub static DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "memory",
    description: "In-memory test source for the conformance suite's own tests.",
    connection_options: &[
        OptionSpec::optional("token", "API token.").secret(),
        OptionSpec::optional("region", "eu or us."),
    ],
    table_options: &[OptionSpec::optional(
        MAX_RECORDS_PER_BATCH,
        "Most records per read (default 10).",
    )
    .for_tables(BATCHED)],
    auth: &[],
    constructor: construct,
    simulator: None,
};

fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    Ok(Box::new(Memory::new(
        Store::shared(),
        Flaw::None,
        None,
        options,
    )?))
}

/// Writes to the shared store, as a sandbox account would take writes.
pub struct Writes {
    pub store: Shared,
    next: AtomicI64,
}

impl Writes {
    pub fn new(store: &Shared) -> Self {
        Self {
            store: Arc::clone(store),
            next: AtomicI64::new(FIRST_WRITTEN_ID),
        }
    }
}

impl WriteBack for Writes {
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let now = ts(Utc::now());
        let mut store = lock(&self.store);
        let (rows, record, identity) = match table {
            "tickets" => (
                &mut store.tickets,
                json!({"id": n, "subject": "new", "updated_at": now}),
                json!({"id": n}),
            ),
            "audit_log" => (
                &mut store.audit_log,
                json!({"seq": n, "action": "login", "at": now}),
                json!({"seq": n}),
            ),
            "agents" => (
                &mut store.agents,
                json!({"agent_id": n, "name": "New agent", "active": true}),
                json!({"agent_id": n}),
            ),
            _ => return Ok(None),
        };
        rows.push(object(record));
        Ok(Some(object(identity)))
    }

    fn delete(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "tickets" {
            return Ok(None);
        }
        let mut store = lock(&self.store);
        if store.tickets.is_empty() {
            return Err(WriteBackError::Rejected("no ticket left".to_owned()));
        }
        let gone = store.tickets.remove(0);
        let id = gone["id"].clone();
        store
            .tombstones
            .push(object(json!({"id": id, "updated_at": ts(Utc::now())})));
        Ok(Some(object(json!({"id": id}))))
    }
}

/// The suite on a `memory` connector with `flaw`, with write-back and faults, as a connector
/// test would set it up.
pub fn suite(flaw: Flaw) -> Conformance {
    let store = Store::shared();
    let (reads, faults) = (Arc::clone(&store), Arc::clone(&store));
    Conformance::with_factory(&DESCRIPTOR, move |options| {
        Memory::new(Arc::clone(&reads), flaw, None, options)
    })
    .faults_with(move |options| {
        Memory::new(Arc::clone(&faults), flaw, Some(Arc::default()), options)
    })
    .write_back(Box::new(Writes::new(&store)))
}
