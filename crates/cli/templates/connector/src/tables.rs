//! The tables, as data: one [`TableDef`] per table. Adding a table is adding one definition
//! (and its endpoint to the simulator spec).

use std::sync::Arc;

use lakeflow_connect::IngestionType::Cdc;
use lakeflow_connect::arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{MAX_RECORDS_PER_BATCH, OptionSpec};
use lakeflow_kit::{OptionUse, TableDef, Tables, declare};

/// How `read_table` reads a table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    /// `GET path?since=...`, sorted oldest first by the table's cursor: the kit's ascending
    /// strategy (tie-safe offsets, `start_date`, lookback, batch cut on the fly).
    Ascending { path: &'static str },
    /// `GET path`, every page: the kit's snapshot listing.
    Snapshot { path: &'static str },
}

pub(crate) type Def = TableDef<Read>;

// The table options. Each definition lists the ones it takes; which tables an option applies
// to is derived from those lists.
pub(crate) const START_DATE: OptionSpec = OptionSpec::optional(
    "start_date",
    "Read nothing older than this on the first read: RFC 3339 (2024-01-01T00:00:00Z) or a \
     date (2024-01-01).",
);
pub(crate) const LOOKBACK: OptionSpec = OptionSpec::optional(
    "lookback_seconds",
    "Re-read changes this many seconds before the stored position (default 0); never stored.",
);
pub(crate) const MAX_RECORDS: OptionSpec = OptionSpec::optional(
    MAX_RECORDS_PER_BATCH,
    "Most records one read returns (default 1000).",
);
pub(crate) const PER_PAGE: OptionSpec =
    OptionSpec::optional("per_page", "Records per API page, 1-100 (default 100).");

/// Every table option, in the order error messages list them.
const CATALOGUE: [OptionSpec; 4] = [START_DATE, LOOKBACK, MAX_RECORDS, PER_PAGE];

/// Every table, in the order `list_tables` gives them.
pub(crate) const DEFS: &[Def] = &[
    TableDef::new(
        "items",
        Cdc,
        &["id"],
        Some("updated_at"),
        items_schema,
        Read::Ascending { path: "/items" },
    )
    .options(&[START_DATE, LOOKBACK, MAX_RECORDS, PER_PAGE]),
    TableDef::snapshot(
        "categories",
        &["id"],
        categories_schema,
        Read::Snapshot {
            path: "/categories",
        },
    )
    .options(&[PER_PAGE]),
];

static OPTION_USE: OptionUse<{ DEFS.len() }, { CATALOGUE.len() }> =
    OptionUse::new(DEFS, &CATALOGUE);

/// The table options the connector reads, each with the tables it applies to.
pub const TABLE_OPTIONS: &[OptionSpec] = &declare(CATALOGUE, &OPTION_USE);

/// The registry `list_tables`, metadata, schemas and reads derive from.
pub(crate) static TABLES: Tables<Read> = Tables::new(DEFS, TABLE_OPTIONS);

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn int(name: &str) -> Field {
    Field::new(name, DataType::Int64, true)
}

fn instant(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    )
}

fn items_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        text("name"),
        text("status"),
        int("category_id"),
        Field::new("price", DataType::Float64, true),
        Field::new(
            "tags",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        instant("created_at"),
        Field::new(
            "updated_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

fn categories_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        text("name"),
        text("description"),
        instant("created_at"),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_apply_to_the_tables_that_list_them() {
        let start_date = TABLE_OPTIONS
            .iter()
            .find(|o| o.name == "start_date")
            .unwrap();
        assert!(start_date.applies_to("items") && !start_date.applies_to("categories"));
        let per_page = TABLE_OPTIONS.iter().find(|o| o.name == "per_page").unwrap();
        assert!(per_page.applies_to("items") && per_page.applies_to("categories"));
        assert_eq!(TABLES.names(), ["items", "categories"]);
    }
}
