//! The `stripe` connector's own tests, against its simulator, on connectors whose clock is set
//! to June 2025 (when the corpus's events happen): the backfill interrupted and resumed, the
//! events applied after it, deduplication under lookback, the 30-day fallback, a connected
//! account, the subscription-canceled rule, and the errors users meet.

mod common;
mod errors;
mod reads;
