//! The `zendesk` connector: Zendesk Support (and its Help Center) as Lakeflow tables.
//!
//! | table | ingestion | keys | cursor | read |
//! |---|---|---|---|---|
//! | `tickets` | cdc_with_deletes | `id` | `updated_at` | cursor-based incremental export; `status: deleted` feeds the deletes |
//! | `users` | cdc_with_deletes | `id` | `updated_at` | cursor-based incremental export; `active: false` feeds the deletes |
//! | `organizations` | cdc | `id` | `updated_at` | time-based incremental export |
//! | `ticket_comments` | append | `id` | `created_at` | ticket events export with comment events, one row per comment |
//! | `ticket_events` | append | `id` | `created_at` | time-based ticket events export |
//! | `ticket_metric_events` | append | `id` | `time` | time-based export |
//! | `satisfaction_ratings` | cdc | `id` | `updated_at` | list filtered by `start_time` |
//! | `articles` | cdc | `id` | `updated_at` | Help Center incremental export |
//! | `groups`, `brands`, `ticket_fields`, `ticket_forms`, `macros`, `topics`, `deleted_users` | snapshot | `id` | | cursor-paginated lists |
//! | `tags` | snapshot | `name` | | cursor-paginated list |
//!
//! Offsets of the exports keep the export's own continuation (its cursor, or its `end_time`) and
//! the last record delivered, so a restart never walks the export again and a batch cut inside a
//! page resumes right after it. The `README.md` next to this crate is the user's guide.
//!
//! ```no_run
//! use lakeflow_connect::{ConnectionOptions, LakeflowConnect, TableOptions};
//!
//! let mut connection = ConnectionOptions::new();
//! connection.insert("subdomain", "acme");
//! connection.insert("email", "admin@acme.example");
//! connection.insert_secret("api_token", std::env::var("ZENDESK_API_TOKEN").unwrap());
//! let zendesk = lakeflow_zendesk::DESCRIPTOR.connect(&connection)?;
//! let options = TableOptions::from([("start_date".into(), "2024-01-01".into())]);
//! // Read tickets batch by batch until the offset stops moving.
//! let mut offset = None;
//! loop {
//!     let (tickets, end) = zendesk.read_table("tickets", offset.as_ref(), &options)?.collect()?;
//!     println!("{} tickets", tickets.len());
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

pub use config::CONNECTION_OPTIONS;
pub use connector::ZendeskConnector;
pub use tables::TABLE_OPTIONS;

/// How the connector authenticates: an API token with its user's email (Basic), or an OAuth
/// access token (Bearer).
pub const AUTH_METHODS: &[AuthMethod] = &[
    AuthMethod::new(
        AuthKind::Basic,
        &["email", "api_token"],
        "API token with its user's email, sent as Basic `{email}/token:{api_token}`.",
    ),
    AuthMethod::new(
        AuthKind::ApiToken,
        &["oauth_token"],
        "OAuth access token, sent as `Authorization: Bearer`.",
    ),
];

// The registry's entry (`DESCRIPTOR`), and the simulator spec with the corpus files below
// (`SIMULATOR`).
lakeflow_kit::connector_descriptor! {
    name: "zendesk",
    description: "Zendesk Support API: tickets, users, organizations, comments, ticket events \
                  and metrics, satisfaction ratings, Help Center articles, and the account's \
                  groups, brands, fields, forms, macros, topics and tags.",
    connector: ZendeskConnector,
    simulator: [
        "tickets",
        "users",
        "organizations",
        "ticket_events",
        "ticket_metric_events",
        "satisfaction_ratings",
        "articles",
        "groups",
        "brands",
        "ticket_fields",
        "ticket_forms",
        "macros",
        "topics",
        "tags",
        "deleted_users",
    ],
}
