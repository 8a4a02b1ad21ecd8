//! The `hubspot` connector's own tests, against its simulator: search restarted at the 10,000
//! cap inside a tie, the lookback that catches records HubSpot's index found late, OAuth tokens
//! renewed in the middle of a read, custom objects, the `properties` option, HubSpot's value
//! formats, and the errors users meet.

mod common;
mod errors;
mod large;
mod reads;
