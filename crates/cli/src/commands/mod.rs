//! One module per subcommand.

pub mod read;
pub mod schema;
pub mod sources;
pub mod tables;
