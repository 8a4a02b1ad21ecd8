//! One module per subcommand.

pub mod query;
pub mod read;
pub mod run;
pub mod schema;
pub mod sources;
pub mod status;
pub mod tables;
pub mod validate;
