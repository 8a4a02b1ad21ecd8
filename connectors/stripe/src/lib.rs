//! The `stripe` connector: a Stripe account (or a connected account) as Lakeflow tables.
//!
//! | tables | ingestion | keys | cursor |
//! |---|---|---|---|
//! | `customers`, `products`, `prices`, `plans`, `coupons`, `invoice_items`, `invoices` | cdc_with_deletes | `id` | `changed_at` |
//! | `charges`, `payment_intents`, `payment_methods`, `refunds`, `disputes`, `subscriptions`, `payouts`, `setup_intents` | cdc | `id` | `changed_at` |
//! | `balance_transactions`, `events` | append | `id` | `created` |
//!
//! A table's first read is a backfill of its list in `created` windows (so a restart resumes
//! inside it); later reads follow the events feed (`/v1/events` with the table's `types[]`),
//! each event's `data.object` an upsert and `*.deleted` events the deletions. `changed_at`
//! orders a table's changes: the event's time, or a backfilled object's own `created`. Stripe
//! keeps events 30 days: a table not read for longer is read again from its list. The `README.md` next to
//! this crate is the user's guide.
//!
//! ```no_run
//! use lakeflow_connect::{ConnectionOptions, LakeflowConnect, TableOptions};
//!
//! let mut connection = ConnectionOptions::new();
//! connection.insert_secret("api_key", std::env::var("STRIPE_API_KEY").unwrap());
//! let stripe = lakeflow_stripe::DESCRIPTOR.connect(&connection)?;
//! let options = TableOptions::from([("start_date".into(), "2024-01-01".into())]);
//! // Read customers batch by batch until the offset stops moving.
//! let mut offset = None;
//! loop {
//!     let (customers, end) = stripe.read_table("customers", offset.as_ref(), &options)?.collect()?;
//!     println!("{} customers", customers.len());
//!     if end == offset {
//!         break;
//!     }
//!     offset = end;
//! }
//! # Ok::<(), lakeflow_connect::Error>(())
//! ```

mod client;
mod config;
mod connector;
mod read;
mod schema;
mod tables;

use lakeflow_connect::{
    AuthKind, AuthMethod, ConnectionOptions, ConnectorDescriptor, EmbeddedSimulatorSpec,
    LakeflowConnect, Result,
};

pub use config::{CONNECTION_OPTIONS, DEFAULT_API_VERSION, DEFAULT_BASE_URL};
pub use connector::StripeConnector;
pub use tables::TABLE_OPTIONS;

/// The simulator spec and corpus the tests run against (`lakeflow simulate stripe` serves it).
pub static SIMULATOR: EmbeddedSimulatorSpec = EmbeddedSimulatorSpec {
    spec: include_str!("../simulator/spec.yaml"),
    files: &[
        (
            "customers.json",
            include_str!("../simulator/customers.json"),
        ),
        ("charges.json", include_str!("../simulator/charges.json")),
        (
            "payment_intents.json",
            include_str!("../simulator/payment_intents.json"),
        ),
        (
            "payment_methods.json",
            include_str!("../simulator/payment_methods.json"),
        ),
        ("refunds.json", include_str!("../simulator/refunds.json")),
        ("disputes.json", include_str!("../simulator/disputes.json")),
        (
            "subscriptions.json",
            include_str!("../simulator/subscriptions.json"),
        ),
        ("invoices.json", include_str!("../simulator/invoices.json")),
        (
            "invoice_items.json",
            include_str!("../simulator/invoice_items.json"),
        ),
        ("products.json", include_str!("../simulator/products.json")),
        ("prices.json", include_str!("../simulator/prices.json")),
        ("plans.json", include_str!("../simulator/plans.json")),
        ("coupons.json", include_str!("../simulator/coupons.json")),
        (
            "balance_transactions.json",
            include_str!("../simulator/balance_transactions.json"),
        ),
        ("payouts.json", include_str!("../simulator/payouts.json")),
        (
            "setup_intents.json",
            include_str!("../simulator/setup_intents.json"),
        ),
        ("events.json", include_str!("../simulator/events.json")),
    ],
};

/// How the connector authenticates: a secret or restricted key, sent as Bearer.
pub const AUTH_METHODS: &[AuthMethod] = &[AuthMethod::new(
    AuthKind::ApiToken,
    &["api_key"],
    "Secret key (`sk_...`) or restricted key (`rk_...`, recommended), sent as \
     `Authorization: Bearer`.",
)];

/// What the registry lists about the `stripe` connector.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "stripe",
    description: "Stripe API: customers, charges, payment intents and methods, refunds, \
                  disputes, subscriptions, invoices and items, products, prices, plans, \
                  coupons, balance transactions, payouts, setup intents and events, kept up to \
                  date through the events feed.",
    connection_options: CONNECTION_OPTIONS,
    table_options: TABLE_OPTIONS,
    auth: AUTH_METHODS,
    constructor: construct,
    simulator: Some(&SIMULATOR),
};

fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    Ok(Box::new(StripeConnector::new(options)?))
}
