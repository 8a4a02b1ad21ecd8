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

use lakeflow_connect::{AuthKind, AuthMethod};

pub use config::{CONNECTION_OPTIONS, DEFAULT_API_VERSION, DEFAULT_BASE_URL};
pub use connector::StripeConnector;
pub use tables::{ORIGINAL_TABLES, TABLE_OPTIONS};

/// How the connector authenticates: a secret or restricted key, sent as Bearer.
pub const AUTH_METHODS: &[AuthMethod] = &[AuthMethod::new(
    AuthKind::ApiToken,
    &["api_key"],
    "Secret key (`sk_...`) or restricted key (`rk_...`, recommended), sent as \
     `Authorization: Bearer`.",
)];

// The registry's entry (`DESCRIPTOR`), and the simulator spec with the corpus files below,
// by name (`SIMULATOR`).
lakeflow_kit::connector_descriptor! {
    name: "stripe",
    description: "Stripe API: customers, charges, payment intents and methods, refunds, \
                  disputes, subscriptions, invoices and items, products, prices, plans, \
                  coupons, balance transactions, payouts, setup intents and events, kept up to \
                  date through the events feed.",
    connector: StripeConnector,
    simulator: [
        "balance_transactions",
        "charges",
        "coupons",
        "customers",
        "disputes",
        "events",
        "invoice_items",
        "invoices",
        "payment_intents",
        "payment_methods",
        "payouts",
        "plans",
        "prices",
        "products",
        "refunds",
        "setup_intents",
        "subscriptions",
    ],
}
