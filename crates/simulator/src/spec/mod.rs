//! The spec model: what a loaded, validated spec says. [`parse`] builds it from YAML.

mod endpoint;
mod params;
mod parse;
mod template;
mod write;
pub(crate) mod yaml;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub(crate) use parse::{Files, parse_spec};
pub(crate) use template::{PathTemplate, percent_decode};

use crate::api::{Auth, ErrorFormat, OAuthSpec};
use crate::faults::FaultProfile;
use crate::pagination::Paginator;
use crate::query::{FilterOp, SortSpec};
use crate::value::FieldPath;

/// A whole spec with its corpus files loaded.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) name: String,
    /// A fixed "now" for server stamps and future records; the real clock when absent.
    pub(crate) now: Option<DateTime<Utc>>,
    pub(crate) rate_limit: Option<RateLimitSpec>,
    /// The authorization server issuing the access tokens endpoints take (`oauth:`).
    pub(crate) oauth: Option<OAuthSpec>,
    pub(crate) errors: ErrorFormat,
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) faults: BTreeMap<String, FaultProfile>,
    /// Corpus file name to its records.
    pub(crate) corpora: BTreeMap<String, Vec<Value>>,
    /// The table options a client reading this corpus uses unless told otherwise (the account,
    /// repository, ... the corpus holds), for offline conformance runs.
    pub(crate) table_options: BTreeMap<String, String>,
    /// The non-secret connection options a client of this spec uses unless told otherwise (the
    /// account's user name, ...), for offline conformance runs.
    pub(crate) connection_options: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RateLimitSpec {
    pub(crate) requests: u64,
    pub(crate) window: Duration,
    pub(crate) status: u16,
    pub(crate) retry_after: bool,
}

#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Unique; `METHOD path` unless the spec names it.
    pub(crate) name: String,
    pub(crate) method: String,
    pub(crate) template: PathTemplate,
    pub(crate) corpus: String,
    /// Path parameter name to the record field it must equal.
    pub(crate) path_fields: Vec<(String, FieldPath)>,
    pub(crate) records_key: Option<FieldPath>,
    pub(crate) extra: Map<String, Value>,
    pub(crate) sort: Vec<SortSpec>,
    pub(crate) strict: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) pagination: Arc<dyn Paginator>,
    pub(crate) future: Option<FutureSpec>,
    pub(crate) kind: Kind,
    /// `None` when the endpoint is public.
    pub(crate) auth: Option<Auth>,
}

/// What an endpoint does, from its method and keys.
#[derive(Debug)]
pub(crate) enum Kind {
    List,
    Single(SingleSpec),
    Create(WriteSpec),
    Update {
        single: SingleSpec,
        write: WriteSpec,
        /// PUT replaces the record; PATCH merges into it.
        replace: bool,
    },
    Delete {
        single: SingleSpec,
        write: WriteSpec,
        mode: DeleteMode,
    },
    /// HubSpot's search: a POST whose JSON body filters, sorts and pages.
    Search(SearchSpec),
    /// HubSpot's associations batch read: a POST naming records, answered with their links.
    BatchAssociations(AssociationsSpec),
}

/// `batch_associations:`: each input record's links are the list at `field` (path parameters
/// in braces filled in from the request's path).
#[derive(Debug, Clone)]
pub(crate) struct AssociationsSpec {
    pub(crate) field: String,
    /// The most inputs one request names (HubSpot: 1,000).
    pub(crate) max_inputs: usize,
}

/// `search:`: the body's `filterGroups` (OR of ANDs on `properties.<name>`), `sorts`, `after`
/// (an offset) and `limit`; archived records are never found.
#[derive(Debug, Clone)]
pub(crate) struct SearchSpec {
    /// The most results one query pages through (HubSpot: 10,000): `after` at or past it
    /// answers 400.
    pub(crate) max_results: usize,
    pub(crate) default_limit: usize,
    pub(crate) max_limit: usize,
    /// Records whose `field` is within the last `seconds` are not found yet (the index lags
    /// writes).
    pub(crate) lag: Option<(FieldPath, u64)>,
    /// Fields results leave out (HubSpot's search sends no `associations`).
    pub(crate) omit: Vec<String>,
}

/// Which path parameter identifies a record, and the field it is compared with.
#[derive(Debug, Clone)]
pub(crate) struct SingleSpec {
    pub(crate) param: String,
    /// The record is always the one whose field has this value (no path parameter names it).
    pub(crate) value: Option<String>,
    pub(crate) field: FieldPath,
}

#[derive(Debug, Clone)]
pub(crate) struct WriteSpec {
    pub(crate) id_field: FieldPath,
    /// Fields set to "now" on every write.
    pub(crate) stamp: Vec<FieldPath>,
    /// Fields a created record gets its id in (HubSpot's `properties.hs_object_id`).
    pub(crate) id_copies: Vec<FieldPath>,
    /// Fields a created record gets unless the request body sets them.
    pub(crate) defaults: Map<String, Value>,
    pub(crate) status: u16,
    /// The event feed each write also appends to (Stripe's `/v1/events`).
    pub(crate) events: Option<EventsSpec>,
}

/// `write.events`: every write appends an event `{id, object: event, type, created, data:
/// {object, previous_attributes}}` to the corpus `into`, typed `<object>.created`,
/// `<object>.updated` or `<object>.deleted`.
#[derive(Debug, Clone)]
pub(crate) struct EventsSpec {
    pub(crate) into: String,
    pub(crate) object: String,
}

#[derive(Debug, Clone)]
pub(crate) enum DeleteMode {
    /// Removed, no trace.
    Remove,
    /// Removed, and a tombstone (the record, or only `keep` fields, stamped) appended to the
    /// corpus `into`, which a deletes endpoint serves.
    Tombstone {
        into: String,
        keep: Option<Vec<FieldPath>>,
    },
    /// Kept, with `field` set to `value` (HubSpot's `archived`, ...).
    Flag { field: FieldPath, value: Value },
}

#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) required: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Role {
    Filter {
        field: FieldPath,
        op: FilterOp,
        separator: String,
        default: Option<String>,
        /// The value that filters nothing (GitHub's `state=all`).
        any: Option<String>,
    },
    SortField {
        /// API value to record field; any field path is accepted when absent.
        values: Option<BTreeMap<String, FieldPath>>,
    },
    SortDirection {
        default: Option<bool>,
    },
    Page {
        start: u64,
    },
    PageSize {
        default: u64,
        max: u64,
        reject_over_max: bool,
    },
    Offset,
    Cursor,
    /// The comma-separated names given select which keys of the object at `field` come back
    /// (HubSpot's `properties=`); absent, all of them.
    Select {
        field: FieldPath,
    },
    Ignored,
}

impl Role {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Filter { .. } => "filter",
            Self::SortField { .. } => "sort_field",
            Self::SortDirection { .. } => "sort_direction",
            Self::Page { .. } => "page",
            Self::PageSize { .. } => "page_size",
            Self::Offset => "offset",
            Self::Cursor => "cursor",
            Self::Select { .. } => "select",
            Self::Ignored => "ignored",
        }
    }
}

/// Records synthesised after "now" so tests can prove a connector stops at its start time.
#[derive(Debug, Clone)]
pub(crate) struct FutureSpec {
    pub(crate) count: usize,
    pub(crate) field: FieldPath,
    pub(crate) id_field: FieldPath,
    pub(crate) step: Duration,
}
