use std::sync::Arc;

use lakeflow_connect::arrow_schema::{DataType, Field, Schema};
use lakeflow_connect::{Error, IngestionType, OptionSpec};

use lakeflow_testkit::fixtures::table_options as options;

use super::*;

/// How a test table is read: a plain label, as a connector's value would be a fn pointer.
type Read = &'static str;
/// How a test table's stream is read.
type Stream = u8;

fn items_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("updated_at", DataType::Utf8, false),
    ]))
}

fn users_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

const SHOP: OptionSpec = OptionSpec::required("shop", "The shop.");
const PER_PAGE: OptionSpec = OptionSpec::optional("per_page", "Records a page.");
const SINCE: OptionSpec = OptionSpec::optional("since", "Oldest change read.");

const DEFS: &[TableDef<Read, Stream>] = &[
    TableDef::new(
        "items",
        IngestionType::Cdc,
        &["id"],
        Some("updated_at"),
        items_schema,
        "read items",
    )
    .options(&[SHOP, PER_PAGE, SINCE])
    .deletes("read deleted items")
    .stream(7),
    TableDef::snapshot("users", &["id"], users_schema, "read users").options(&[PER_PAGE]),
    TableDef::snapshot("orders", &["id"], users_schema, "read orders").options(&[SHOP, PER_PAGE]),
];

const CATALOGUE: [OptionSpec; 3] = [SHOP, SINCE, PER_PAGE];
static USES: OptionUse<3, 3> = OptionUse::new(DEFS, &CATALOGUE);
const DECLARED: &[OptionSpec] = &declare(CATALOGUE, &USES);
static TABLES: Tables<Read, Stream> = Tables::new(DEFS, DECLARED);

#[test]
fn names_metadata_and_schemas_derive_from_the_definitions() {
    assert_eq!(TABLES.names(), ["items", "users", "orders"]);
    let none = TableOptions::new();
    let items = TABLES.metadata("items", &none).unwrap();
    assert_eq!(
        items,
        TableMetadata::new(IngestionType::Cdc, &["id"], Some("updated_at"))
    );
    assert_eq!(
        TABLES.metadata("users", &none).unwrap(),
        TableMetadata::snapshot(&["id"])
    );
    assert_eq!(TABLES.schema("items", &none).unwrap(), items_schema());
    // Options of another table are accepted: metadata does not depend on them.
    let shop = options(&[("shop", "north"), ("since", "2024-01-01")]);
    assert!(TABLES.schema("users", &shop).is_ok());
}

#[test]
fn declared_options_apply_to_the_tables_that_list_them() {
    let declared = TABLES.declared_options();
    let names: Vec<&str> = declared.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["shop", "since", "per_page"],
        "the catalogue's order"
    );
    assert_eq!(declared[0].tables, ["items", "orders"]);
    assert!(declared[0].required);
    assert_eq!(declared[1].tables, ["items"]);
    // Listed by every table: no restriction.
    assert!(declared[2].tables.is_empty());
    assert_eq!(declared[2].description, "Records a page.");
}

#[test]
fn unknown_tables_and_options_are_named() {
    let none = TableOptions::new();
    let err = TABLES.metadata("gists", &none).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownTable { table, available } if table == "gists" && available.len() == 3),
        "{err}"
    );
    assert!(TABLES.read("gists", &none).is_err());
    assert!(TABLES.schema("gists", &none).is_err());

    let err = TABLES
        .schema("items", &options(&[("colour", "red")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("unknown option `colour`;"), "{err}");
    assert!(err.contains("shop, since, per_page"), "{err}");

    // Reads only take the table's own options, and need the required ones.
    let err = TABLES
        .read("users", &options(&[("shop", "north")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unknown option `shop` for table `users`; known options: per_page"),
        "{err}"
    );
    let err = TABLES.read("orders", &none).unwrap_err().to_string();
    assert_eq!(err, "missing required option `shop` for table `orders`");
}

#[test]
fn reads_dispatch_to_the_tables_own_values() {
    let shop = options(&[("shop", "north")]);
    let (def, read) = TABLES.read("items", &shop).unwrap();
    assert_eq!((def.name, read), ("items", "read items"));
    assert_eq!(
        TABLES.read("users", &TableOptions::new()).unwrap().1,
        "read users"
    );
    assert_eq!(
        TABLES.deletes("items", &shop).unwrap().1,
        "read deleted items"
    );
    assert_eq!(TABLES.stream("items", &shop).unwrap().1, 7);

    let err = TABLES.deletes("users", &TableOptions::new()).unwrap_err();
    assert!(
        matches!(&err, Error::NotSupported { table, operation } if table == "users" && operation == "read_table_deletes"),
        "{err}"
    );
    let err = TABLES.stream("orders", &shop).unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
    // Options are checked before a stream is found missing or used.
    let err = TABLES.stream("items", &TableOptions::new()).unwrap_err();
    assert!(matches!(err, Error::MissingOption { .. }), "{err}");
}

#[test]
#[should_panic(expected = "missing from the declared table options")]
fn a_table_listing_an_undeclared_option_is_refused() {
    // In a `static`, as connectors build it, this fails the build.
    let _ = OptionUse::<3, 2>::new(DEFS, &[SHOP, PER_PAGE]);
}

#[test]
#[should_panic(expected = "listed by no table")]
fn a_declared_option_no_table_lists_is_refused() {
    const UNUSED: OptionSpec = OptionSpec::optional("colour", "Listed by no table.");
    let _ = OptionUse::<3, 4>::new(DEFS, &[SHOP, SINCE, PER_PAGE, UNUSED]);
}
