//! The `zendesk` connector's own tests, against its simulator: the exports (both styles, the
//! loop guard, duplicates across pages, deletes feeds, start dates, restarts mid-export), the
//! comments, authentication and the errors users meet.

mod common;
mod errors;
mod exports;
