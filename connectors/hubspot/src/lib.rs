//! The `hubspot` connector: a HubSpot portal's CRM as Lakeflow tables.
//!
//! | tables | ingestion | keys | cursor |
//! |---|---|---|---|
//! | `contacts`, `companies`, `deals`, `tickets`, `line_items`, `products`, `emails`, `tasks`, `notes`, `calls`, `meetings`, and each custom object by its name | cdc_with_deletes | `id` | `updatedAt` |
//! | `owners` | cdc | `id` | `updatedAt` |
//! | `deal_pipelines`, `ticket_pipelines` (with their stages) | snapshot | `id` | |
//!
//! A CRM object's schema comes from its property definitions, typed (numbers, booleans, dates,
//! instants, text). A first read lists the object (properties asked in chunks so URLs stay
//! short); its changes are then read through CRM search, filtered on the last-modified
//! property at or after the stored position and sorted by it, every page asked by value (ties
//! larger than a page by id), so an edit during the read shifts nothing and HubSpot's cap of
//! 10,000 results a query is never reached. Archived records are the deletions. The `README.md` next to this crate is the
//! user's guide.
//!
//! ```no_run
//! use lakeflow_connect::{ConnectionOptions, LakeflowConnect, TableOptions};
//!
//! let mut connection = ConnectionOptions::new();
//! connection.insert_secret("access_token", std::env::var("HUBSPOT_TOKEN").unwrap());
//! let hubspot = lakeflow_hubspot::DESCRIPTOR.connect(&connection)?;
//! let options = TableOptions::from([("properties".into(), "email,firstname,lastname".into())]);
//! // Read contacts batch by batch until the offset stops moving.
//! let mut offset = None;
//! loop {
//!     let (contacts, end) = hubspot.read_table("contacts", offset.as_ref(), &options)?.collect()?;
//!     println!("{} contacts", contacts.len());
//!     if end == offset {
//!         break;
//!     }
//!     offset = end;
//! }
//! # Ok::<(), lakeflow_connect::Error>(())
//! ```

mod backfill;
mod client;
mod config;
mod connector;
mod objects;
mod read;
mod schema;

use lakeflow_connect::{AuthKind, AuthMethod};

pub use config::{CONNECTION_OPTIONS, DEFAULT_BASE_URL};
pub use connector::{
    ASSOCIATIONS, EXCLUDE_PROPERTIES, HubSpotConnector, INCLUDE_PROPERTIES, PROPERTIES,
    TABLE_OPTIONS,
};

/// How the connector authenticates: an OAuth app's refresh token, or a private app's token.
pub const AUTH_METHODS: &[AuthMethod] = &[
    AuthMethod::new(
        AuthKind::OauthRefreshToken,
        &["client_id", "client_secret", "refresh_token"],
        "An OAuth app: its client id and secret and a refresh token of the portal; access \
         tokens (30 minutes) are fetched and renewed from `<base_url>/oauth/v1/token`.",
    ),
    AuthMethod::new(
        AuthKind::ApiToken,
        &["access_token"],
        "A private app's access token, sent as `Authorization: Bearer` (the original's \
         option).",
    ),
];

// The registry's entry (`DESCRIPTOR`), and the simulator spec with the corpus files below
// (`SIMULATOR`).
lakeflow_kit::connector_descriptor! {
    name: "hubspot",
    description: "HubSpot CRM: contacts, companies, deals, tickets, line items, products, \
                  engagements (emails, tasks, notes, calls, meetings) and custom objects, read \
                  incrementally through CRM search with archived records as deletions; owners; \
                  deal and ticket pipelines.",
    connector: HubSpotConnector,
    simulator: [
        "calls",
        "companies",
        "contacts",
        "deals",
        "emails",
        "line_items",
        "meetings",
        "notes",
        "owners",
        "pipelines_deals",
        "pipelines_tickets",
        "products",
        "properties_calls",
        "properties_companies",
        "properties_contacts",
        "properties_deals",
        "properties_emails",
        "properties_line_items",
        "properties_meetings",
        "properties_notes",
        "properties_products",
        "properties_robots",
        "properties_tasks",
        "properties_tickets",
        "robots",
        "schemas",
        "tasks",
        "tickets",
    ],
}
