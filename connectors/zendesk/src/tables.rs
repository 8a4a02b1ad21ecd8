//! The tables, as data: one [`TableDef`] per table, saying which endpoint it reads and how.

use lakeflow_connect::IngestionType::{Append, Cdc, CdcWithDeletes};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{OptionSpec, Record};
use lakeflow_kit::options::{LOOKBACK, MAX_RECORDS, PER_PAGE, START_DATE};
use lakeflow_kit::{OptionUse, TableDef, Tables, declare};
use serde_json::Value;

use crate::read::comments;
use crate::schema;

/// How a table (or its deletions) is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    /// A cursor-based incremental export: `start_time`, then `cursor=<after_cursor>` until
    /// `end_of_stream`.
    CursorExport(Export),
    /// A time-based incremental export: `start_time`, then `start_time=<end_time>` until
    /// `end_of_stream`; pages repeat the records of their last second.
    TimeExport(Export),
    /// Satisfaction ratings: listed by id, filtered by `start_time` on `updated_at`, read
    /// whole from the cursor and sorted here.
    Ratings,
    /// A list with cursor pagination (`page[size]`, `page[after]`), every page.
    List {
        path: &'static str,
        records: &'static str,
    },
}

/// One incremental export, and what a table takes from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Export {
    pub path: &'static str,
    /// The key of the records in a page.
    pub records: &'static str,
    /// The change time the export is ordered by (tickets: `generated_timestamp`, which moves
    /// with changes `updated_at` does not show).
    pub order: &'static str,
    /// Sideloads asked for (`comment_events`).
    pub include: Option<&'static str>,
    /// The records of the export this feed delivers.
    pub keep: fn(&Record) -> bool,
    /// The rows a record becomes, if not itself.
    pub expand: Option<fn(Record) -> Vec<Record>>,
    /// The largest page the export serves.
    pub max_per_page: u64,
}

impl Export {
    const fn new(path: &'static str, records: &'static str, order: &'static str) -> Self {
        Self {
            path,
            records,
            order,
            include: None,
            keep: |_| true,
            expand: None,
            max_per_page: 1000,
        }
    }

    const fn keep(self, keep: fn(&Record) -> bool) -> Self {
        Self { keep, ..self }
    }
}

const TICKETS: Export = Export::new(
    "/api/v2/incremental/tickets/cursor.json",
    "tickets",
    "generated_timestamp",
);
const USERS: Export = Export::new(
    "/api/v2/incremental/users/cursor.json",
    "users",
    "updated_at",
);
const TICKET_EVENTS: Export = Export::new(
    "/api/v2/incremental/ticket_events.json",
    "ticket_events",
    "created_at",
);

/// A deleted ticket stays in the export with `status: deleted`.
fn deleted_ticket(ticket: &Record) -> bool {
    ticket.get("status").and_then(Value::as_str) == Some("deleted")
}

/// A deleted user stays in the export with `active: false`.
fn deleted_user(user: &Record) -> bool {
    user.get("active").and_then(Value::as_bool) == Some(false)
}

pub(crate) type Def = TableDef<Read>;

/// Every table option, in the order error messages list them.
const CATALOGUE: [OptionSpec; 4] = [START_DATE, LOOKBACK, MAX_RECORDS, PER_PAGE];
const EXPORT_OPTIONS: &[OptionSpec] = &[START_DATE, MAX_RECORDS, PER_PAGE];
const LIST_OPTIONS: &[OptionSpec] = &[PER_PAGE];

const fn export(
    name: &'static str,
    ingestion: lakeflow_connect::IngestionType,
    cursor: &'static str,
    schema: fn() -> SchemaRef,
    read: Read,
) -> Def {
    TableDef::new(name, ingestion, &["id"], Some(cursor), schema, read).options(EXPORT_OPTIONS)
}

const fn list(
    name: &'static str,
    schema: fn() -> SchemaRef,
    path: &'static str,
    records: &'static str,
) -> Def {
    TableDef::snapshot(name, &["id"], schema, Read::List { path, records }).options(LIST_OPTIONS)
}

/// Every table, in the order `list_tables` gives them.
pub(crate) const DEFS: &[Def] = &[
    export(
        "tickets",
        CdcWithDeletes,
        "updated_at",
        schema::tickets,
        Read::CursorExport(TICKETS.keep(|t| !deleted_ticket(t))),
    )
    .deletes(Read::CursorExport(TICKETS.keep(deleted_ticket))),
    export(
        "users",
        CdcWithDeletes,
        "updated_at",
        schema::users,
        Read::CursorExport(USERS.keep(|u| !deleted_user(u))),
    )
    .deletes(Read::CursorExport(USERS.keep(deleted_user))),
    export(
        "organizations",
        Cdc,
        "updated_at",
        schema::organizations,
        Read::TimeExport(Export::new(
            "/api/v2/incremental/organizations.json",
            "organizations",
            "updated_at",
        )),
    ),
    export(
        "ticket_comments",
        Append,
        "created_at",
        schema::ticket_comments,
        Read::TimeExport(Export {
            include: Some("comment_events"),
            expand: Some(comments),
            ..TICKET_EVENTS
        }),
    ),
    export(
        "ticket_events",
        Append,
        "created_at",
        schema::ticket_events,
        Read::TimeExport(TICKET_EVENTS),
    ),
    export(
        "ticket_metric_events",
        Append,
        "time",
        schema::ticket_metric_events,
        Read::TimeExport(Export::new(
            "/api/v2/incremental/ticket_metric_events.json",
            "ticket_metric_events",
            "time",
        )),
    ),
    TableDef::new(
        "satisfaction_ratings",
        Cdc,
        &["id"],
        Some("updated_at"),
        schema::satisfaction_ratings,
        Read::Ratings,
    )
    .options(&[START_DATE, LOOKBACK, MAX_RECORDS, PER_PAGE]),
    export(
        "articles",
        Cdc,
        "updated_at",
        schema::articles,
        Read::TimeExport(Export {
            max_per_page: 100,
            ..Export::new(
                "/api/v2/help_center/incremental/articles",
                "articles",
                "updated_at",
            )
        }),
    ),
    list("groups", schema::groups, "/api/v2/groups", "groups"),
    list("brands", schema::brands, "/api/v2/brands", "brands"),
    list(
        "ticket_fields",
        schema::ticket_fields,
        "/api/v2/ticket_fields",
        "ticket_fields",
    ),
    list(
        "ticket_forms",
        schema::ticket_forms,
        "/api/v2/ticket_forms",
        "ticket_forms",
    ),
    list("macros", schema::macros, "/api/v2/macros", "macros"),
    list(
        "topics",
        schema::topics,
        "/api/v2/community/topics",
        "topics",
    ),
    TableDef::snapshot(
        "tags",
        &["name"],
        schema::tags,
        Read::List {
            path: "/api/v2/tags",
            records: "tags",
        },
    )
    .options(LIST_OPTIONS),
    list(
        "deleted_users",
        schema::deleted_users,
        "/api/v2/deleted_users",
        "deleted_users",
    ),
];

static OPTION_USE: OptionUse<{ DEFS.len() }, { CATALOGUE.len() }> =
    OptionUse::new(DEFS, &CATALOGUE);

/// The table options the connector reads, each with the tables it applies to.
pub const TABLE_OPTIONS: &[OptionSpec] = &declare(CATALOGUE, &OPTION_USE);

/// The registry `list_tables`, metadata, schemas and reads derive from.
pub(crate) static TABLES: Tables<Read> = Tables::new(DEFS, TABLE_OPTIONS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_tables_are_all_here() {
        let names = TABLES.names();
        for table in [
            "tickets",
            "users",
            "organizations",
            "ticket_comments",
            "articles",
            "brands",
            "groups",
            "topics",
        ] {
            assert!(names.iter().any(|n| n == table), "{table}");
        }
        // Every schema parses, and holds the keys and cursor.
        assert_eq!(TABLES.missing_columns(), Vec::<String>::new());
        let lookback = TABLE_OPTIONS.iter().find(|o| o.name == "lookback_seconds");
        assert!(
            lookback
                .is_some_and(|o| o.applies_to("satisfaction_ratings") && !o.applies_to("tickets"))
        );
    }
}
