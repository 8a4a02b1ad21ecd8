//! The registry: the one explicit list of Lakeflow connectors.
//!
//! The CLI, the Python bindings and the conformance suite iterate [`CONNECTORS`]; adding a
//! connector means adding its crate as a dependency and its descriptor to this list, nothing more.
//!
//! ```
//! let example = lakeflow_connectors::find("example").unwrap();
//! let connector = example.connect(&Default::default()).unwrap();
//! assert!(connector.list_tables().unwrap().contains(&"products".to_string()));
//! ```

use lakeflow_connect::{ConnectorDescriptor, Result, find_connector};

/// Every connector this build knows, in the order `lakeflow sources` lists them.
pub static CONNECTORS: &[ConnectorDescriptor] =
    &[lakeflow_example::DESCRIPTOR, lakeflow_github::DESCRIPTOR];

/// The descriptor named `name`, or an error listing the known sources.
pub fn find(name: &str) -> Result<&'static ConnectorDescriptor> {
    find_connector(CONNECTORS, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lookup_works() {
        let mut names: Vec<_> = CONNECTORS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CONNECTORS.len());
        for d in CONNECTORS {
            assert_eq!(find(d.name).unwrap().name, d.name);
            assert!(!d.description.is_empty());
        }
        let err = find("nope").unwrap_err().to_string();
        assert!(
            err.contains("unknown source `nope`") && err.contains("example"),
            "{err}"
        );
    }
}
