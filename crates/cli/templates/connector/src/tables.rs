//! The tables, as data: one [`TableDef`] per table. Adding a table is adding one definition
//! (and its endpoint to the simulator spec).

use lakeflow_connect::IngestionType::Cdc;
use lakeflow_connect::OptionSpec;
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_kit::options::{LOOKBACK, MAX_RECORDS, PER_PAGE, START_DATE};
use lakeflow_kit::schema::ddl;
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

// The schemas, in Spark DDL (see `lakeflow_kit::schema`).

fn items_schema() -> SchemaRef {
    ddl("id BIGINT NOT NULL, name STRING, status STRING, category_id BIGINT, price DOUBLE,
         tags ARRAY<STRING>, created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL")
}

fn categories_schema() -> SchemaRef {
    ddl("id BIGINT NOT NULL, name STRING, description STRING, created_at TIMESTAMP")
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
