//! The tables, as data: which list and which events each reads.

use lakeflow_connect::IngestionType::{Append, Cdc, CdcWithDeletes};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{IngestionType, OptionSpec};
use lakeflow_kit::options::{LOOKBACK, MAX_RECORDS, PER_PAGE, START_DATE, WINDOW};
use lakeflow_kit::{OptionUse, TableDef, Tables, declare};

use crate::read::CHANGED_AT;
use crate::schema;

/// How a table (or its deletions) is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    /// The list backfilled in `created` windows, then the events of `types`.
    Changes(Changes),
    /// The `deleted` events of a table.
    Deletions(Changes),
    /// The list in `created` windows, for ever (objects that do not change).
    Appended(List),
}

/// A list endpoint, read in `created` windows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct List {
    /// The path (`/v1/customers`).
    pub path: &'static str,
    /// Query parameters every request carries (`status=all`).
    pub query: &'static [(&'static str, &'static str)],
    /// The field the `created[...]` filters apply to: `created`, or `date` for invoice items
    /// (which have no `created`).
    pub created: &'static str,
}

impl List {
    const fn new(path: &'static str) -> Self {
        Self {
            path,
            query: &[],
            created: "created",
        }
    }
}

/// A table kept up to date through events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Changes {
    /// The list its backfill reads.
    pub list: List,
    /// The `object` of the table's records (`customer`): events about other objects are not
    /// the table's.
    pub object: &'static str,
    /// The event types whose `data.object` is an upsert.
    pub types: &'static [&'static str],
    /// The event types that delete (`customer.deleted`); empty for tables without deletions.
    pub deleted: &'static [&'static str],
}

impl Changes {
    const fn new(
        path: &'static str,
        object: &'static str,
        types: &'static [&'static str],
        deleted: &'static [&'static str],
    ) -> Self {
        Self {
            list: List::new(path),
            object,
            types,
            deleted,
        }
    }

    /// The same, its list asked with `query` too.
    const fn query(self, query: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            list: List { query, ..self.list },
            ..self
        }
    }

    /// The same, its list filtered by `created[...]` on `field`.
    const fn created(self, field: &'static str) -> Self {
        Self {
            list: List {
                created: field,
                ..self.list
            },
            ..self
        }
    }
}

pub(crate) type Def = TableDef<Read>;

const CATALOGUE: [OptionSpec; 5] = [START_DATE, LOOKBACK, MAX_RECORDS, PER_PAGE, WINDOW];
const CHANGES_OPTIONS: &[OptionSpec] = &[START_DATE, LOOKBACK, MAX_RECORDS, PER_PAGE, WINDOW];
const APPEND_OPTIONS: &[OptionSpec] = &[START_DATE, MAX_RECORDS, PER_PAGE, WINDOW];

const fn changes(name: &'static str, schema: fn() -> SchemaRef, changes: Changes) -> Def {
    let ingestion: IngestionType = if changes.deleted.is_empty() {
        Cdc
    } else {
        CdcWithDeletes
    };
    let def = TableDef::new(
        name,
        ingestion,
        &["id"],
        Some(CHANGED_AT),
        schema,
        Read::Changes(changes),
    )
    .options(CHANGES_OPTIONS);
    if changes.deleted.is_empty() {
        def
    } else {
        def.deletes(Read::Deletions(changes))
    }
}

const fn appended(name: &'static str, schema: fn() -> SchemaRef, path: &'static str) -> Def {
    TableDef::new(
        name,
        Append,
        &["id"],
        Some("created"),
        schema,
        Read::Appended(List::new(path)),
    )
    .options(APPEND_OPTIONS)
}

/// Every table, in the order `list_tables` gives them (the original's first).
pub(crate) const DEFS: &[Def] = &[
    changes(
        "customers",
        schema::customers,
        Changes::new(
            "/v1/customers",
            "customer",
            &["customer.created", "customer.updated"],
            &["customer.deleted"],
        ),
    ),
    changes(
        "charges",
        schema::charges,
        Changes::new(
            "/v1/charges",
            "charge",
            &[
                "charge.captured",
                "charge.expired",
                "charge.failed",
                "charge.pending",
                "charge.refunded",
                "charge.succeeded",
                "charge.updated",
            ],
            &[],
        ),
    ),
    changes(
        "payment_intents",
        schema::payment_intents,
        Changes::new(
            "/v1/payment_intents",
            "payment_intent",
            &[
                "payment_intent.amount_capturable_updated",
                "payment_intent.canceled",
                "payment_intent.created",
                "payment_intent.partially_funded",
                "payment_intent.payment_failed",
                "payment_intent.processing",
                "payment_intent.requires_action",
                "payment_intent.succeeded",
            ],
            &[],
        ),
    ),
    changes(
        "payment_methods",
        schema::payment_methods,
        Changes::new(
            "/v1/payment_methods",
            "payment_method",
            &[
                "payment_method.attached",
                "payment_method.automatically_updated",
                "payment_method.detached",
                "payment_method.updated",
            ],
            &[],
        ),
    ),
    changes(
        "refunds",
        schema::refunds,
        Changes::new(
            "/v1/refunds",
            "refund",
            &[
                "refund.created",
                "refund.updated",
                "refund.failed",
                "charge.refund.updated",
            ],
            &[],
        ),
    ),
    changes(
        "disputes",
        schema::disputes,
        Changes::new(
            "/v1/disputes",
            "dispute",
            &[
                "charge.dispute.created",
                "charge.dispute.updated",
                "charge.dispute.closed",
                "charge.dispute.funds_reinstated",
                "charge.dispute.funds_withdrawn",
            ],
            &[],
        ),
    ),
    changes(
        "subscriptions",
        schema::subscriptions,
        Changes::new(
            "/v1/subscriptions",
            "subscription",
            // `customer.subscription.deleted` is a cancellation: the subscription stays,
            // with status `canceled`, so it is an update here.
            &[
                "customer.subscription.created",
                "customer.subscription.updated",
                "customer.subscription.deleted",
                "customer.subscription.paused",
                "customer.subscription.resumed",
                "customer.subscription.pending_update_applied",
                "customer.subscription.pending_update_expired",
                "customer.subscription.trial_will_end",
            ],
            &[],
        )
        // Without `status=all` the list leaves out canceled subscriptions.
        .query(&[("status", "all")]),
    ),
    changes(
        "invoices",
        schema::invoices,
        Changes::new(
            "/v1/invoices",
            "invoice",
            &[
                "invoice.created",
                "invoice.finalized",
                "invoice.finalization_failed",
                "invoice.marked_uncollectible",
                "invoice.overdue",
                "invoice.paid",
                "invoice.payment_action_required",
                "invoice.payment_failed",
                "invoice.payment_succeeded",
                "invoice.sent",
                "invoice.updated",
                "invoice.voided",
                "invoice.will_be_due",
            ],
            // Draft invoices can be deleted.
            &["invoice.deleted"],
        ),
    ),
    changes(
        "invoice_items",
        schema::invoice_items,
        Changes::new(
            "/v1/invoiceitems",
            "invoiceitem",
            &["invoiceitem.created", "invoiceitem.updated"],
            &["invoiceitem.deleted"],
        )
        .created("date"),
    ),
    changes(
        "products",
        schema::products,
        Changes::new(
            "/v1/products",
            "product",
            &["product.created", "product.updated"],
            &["product.deleted"],
        ),
    ),
    changes(
        "prices",
        schema::prices,
        Changes::new(
            "/v1/prices",
            "price",
            &["price.created", "price.updated"],
            &["price.deleted"],
        ),
    ),
    changes(
        "plans",
        schema::plans,
        Changes::new(
            "/v1/plans",
            "plan",
            &["plan.created", "plan.updated"],
            &["plan.deleted"],
        ),
    ),
    changes(
        "coupons",
        schema::coupons,
        Changes::new(
            "/v1/coupons",
            "coupon",
            &["coupon.created", "coupon.updated"],
            &["coupon.deleted"],
        ),
    ),
    appended(
        "balance_transactions",
        schema::balance_transactions,
        "/v1/balance_transactions",
    ),
    changes(
        "payouts",
        schema::payouts,
        Changes::new(
            "/v1/payouts",
            "payout",
            &[
                "payout.canceled",
                "payout.created",
                "payout.failed",
                "payout.paid",
                "payout.reconciliation_completed",
                "payout.updated",
            ],
            &[],
        ),
    ),
    appended("events", schema::events, "/v1/events"),
    changes(
        "setup_intents",
        schema::setup_intents,
        Changes::new(
            "/v1/setup_intents",
            "setup_intent",
            &[
                "setup_intent.canceled",
                "setup_intent.created",
                "setup_intent.requires_action",
                "setup_intent.setup_failed",
                "setup_intent.succeeded",
            ],
            &[],
        ),
    ),
];

static OPTION_USE: OptionUse<{ DEFS.len() }, { CATALOGUE.len() }> =
    OptionUse::new(DEFS, &CATALOGUE);

/// The table options the connector reads, each with the tables it applies to.
pub const TABLE_OPTIONS: &[OptionSpec] = &declare(CATALOGUE, &OPTION_USE);

/// The registry `list_tables`, metadata, schemas and reads derive from.
pub(crate) static TABLES: Tables<Read> = Tables::new(DEFS, TABLE_OPTIONS);

/// The original Python connector's table names, each read here under the same name (specs
/// written for it run unchanged).
pub const ORIGINAL_TABLES: [&str; 16] = [
    "customers",
    "charges",
    "payment_intents",
    "payment_methods",
    "refunds",
    "disputes",
    "subscriptions",
    "invoices",
    "invoice_items",
    "products",
    "prices",
    "plans",
    "coupons",
    "balance_transactions",
    "payouts",
    "events",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_tables_are_all_here_with_their_keys() {
        let names = TABLES.names();
        for table in ORIGINAL_TABLES {
            assert!(names.iter().any(|n| n == table), "{table}");
        }
        assert_eq!(TABLES.missing_columns(), Vec::<String>::new());
        for def in DEFS {
            if let Read::Changes(changes) = def.read {
                assert!(changes.types.len() <= 20, "Stripe takes 20 types at most");
                assert!(
                    changes.types.iter().all(|t| !t.ends_with(".deleted"))
                        || def.name == "subscriptions",
                    "{}",
                    def.name
                );
            }
        }
    }
}
