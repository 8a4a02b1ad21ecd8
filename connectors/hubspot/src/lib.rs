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

use lakeflow_connect::{
    AuthKind, AuthMethod, ConnectionOptions, ConnectorDescriptor, EmbeddedSimulatorSpec,
    LakeflowConnect, Result,
};

pub use config::{CONNECTION_OPTIONS, DEFAULT_BASE_URL};
pub use connector::{
    ASSOCIATIONS, EXCLUDE_PROPERTIES, HubSpotConnector, INCLUDE_PROPERTIES, PROPERTIES,
    TABLE_OPTIONS,
};

/// The simulator spec and corpus the tests run against (`lakeflow simulate hubspot` serves it).
pub static SIMULATOR: EmbeddedSimulatorSpec = EmbeddedSimulatorSpec {
    spec: include_str!("../simulator/spec.yaml"),
    files: &[
        ("calls.json", include_str!("../simulator/calls.json")),
        (
            "companies.json",
            include_str!("../simulator/companies.json"),
        ),
        ("contacts.json", include_str!("../simulator/contacts.json")),
        ("deals.json", include_str!("../simulator/deals.json")),
        ("emails.json", include_str!("../simulator/emails.json")),
        (
            "line_items.json",
            include_str!("../simulator/line_items.json"),
        ),
        ("meetings.json", include_str!("../simulator/meetings.json")),
        ("notes.json", include_str!("../simulator/notes.json")),
        ("owners.json", include_str!("../simulator/owners.json")),
        (
            "pipelines_deals.json",
            include_str!("../simulator/pipelines_deals.json"),
        ),
        (
            "pipelines_tickets.json",
            include_str!("../simulator/pipelines_tickets.json"),
        ),
        ("products.json", include_str!("../simulator/products.json")),
        (
            "properties_calls.json",
            include_str!("../simulator/properties_calls.json"),
        ),
        (
            "properties_companies.json",
            include_str!("../simulator/properties_companies.json"),
        ),
        (
            "properties_contacts.json",
            include_str!("../simulator/properties_contacts.json"),
        ),
        (
            "properties_deals.json",
            include_str!("../simulator/properties_deals.json"),
        ),
        (
            "properties_emails.json",
            include_str!("../simulator/properties_emails.json"),
        ),
        (
            "properties_line_items.json",
            include_str!("../simulator/properties_line_items.json"),
        ),
        (
            "properties_meetings.json",
            include_str!("../simulator/properties_meetings.json"),
        ),
        (
            "properties_notes.json",
            include_str!("../simulator/properties_notes.json"),
        ),
        (
            "properties_products.json",
            include_str!("../simulator/properties_products.json"),
        ),
        (
            "properties_robots.json",
            include_str!("../simulator/properties_robots.json"),
        ),
        (
            "properties_tasks.json",
            include_str!("../simulator/properties_tasks.json"),
        ),
        (
            "properties_tickets.json",
            include_str!("../simulator/properties_tickets.json"),
        ),
        ("robots.json", include_str!("../simulator/robots.json")),
        ("schemas.json", include_str!("../simulator/schemas.json")),
        ("tasks.json", include_str!("../simulator/tasks.json")),
        ("tickets.json", include_str!("../simulator/tickets.json")),
    ],
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

/// What the registry lists about the `hubspot` connector.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "hubspot",
    description: "HubSpot CRM: contacts, companies, deals, tickets, line items, products, \
                  engagements (emails, tasks, notes, calls, meetings) and custom objects, read \
                  incrementally through CRM search with archived records as deletions; owners; \
                  deal and ticket pipelines.",
    connection_options: CONNECTION_OPTIONS,
    table_options: TABLE_OPTIONS,
    auth: AUTH_METHODS,
    constructor: construct,
    simulator: Some(&SIMULATOR),
};

fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    Ok(Box::new(HubSpotConnector::new(options)?))
}
