//! One module per subcommand.

pub mod new;
pub mod query;
pub mod read;
pub mod run;
pub mod schema;
pub mod simulate;
pub mod sources;
pub mod status;
pub mod tables;
pub mod test;
pub mod validate;
