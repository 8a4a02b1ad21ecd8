//! The registry: the one explicit list of Lakeflow connectors.
//!
//! The CLI, the Python bindings and the conformance suite iterate [`CONNECTORS`]; adding a
//! connector means adding its crate as a dependency and its name to the `registry!` list, nothing
//! more ([`CONNECTOR_CRATES`] derives from the same list).
//!
//! ```
//! let example = lakeflow_connectors::find("example").unwrap();
//! let connector = example.connect(&Default::default()).unwrap();
//! assert!(connector.list_tables().unwrap().contains(&"products".to_string()));
//! ```

use lakeflow_connect::{ConnectorDescriptor, Result, find_connector};

/// Declares the registry from the connector crates, so that what needs the list of connectors
/// or of their crates derives it from this one list.
macro_rules! registry {
    ($($krate:ident),+ $(,)?) => {
        /// Every connector this build knows, in the order `lakeflow sources` lists them.
        pub static CONNECTORS: &[ConnectorDescriptor] = &[$($krate::DESCRIPTOR),+];

        /// The crate of each connector of [`CONNECTORS`], in the same order: the log target of
        /// its events (e.g. for `LAKEFLOW_LOG` filtering).
        pub static CONNECTOR_CRATES: &[&str] = &[$(stringify!($krate)),+];
    };
}

// One crate per connector: its `DESCRIPTOR` is registered under the crate's name.
registry!(
    lakeflow_example,
    lakeflow_github,
    lakeflow_hubspot,
    lakeflow_pyhost,
    lakeflow_stripe,
    lakeflow_zendesk
);

/// The descriptor named `name`, or an error listing the known sources.
pub fn find(name: &str) -> Result<&'static ConnectorDescriptor> {
    find_connector(CONNECTORS, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_connector_names_its_crate() {
        // `lakeflow new` adds to the list: check the shipped ones, not the whole list.
        for shipped in ["lakeflow_example", "lakeflow_github"] {
            assert!(CONNECTOR_CRATES.contains(&shipped), "{CONNECTOR_CRATES:?}");
        }
        assert_eq!(CONNECTOR_CRATES.len(), CONNECTORS.len());
        // In the same order: the crate of `example` is `lakeflow_example`.
        for (descriptor, krate) in CONNECTORS.iter().zip(CONNECTOR_CRATES) {
            // The `python` source lives in `lakeflow_pyhost` (`lakeflow_python` is the wheel).
            let python = (descriptor.name, *krate) == ("python", "lakeflow_pyhost");
            assert!(
                krate.ends_with(descriptor.name) || python,
                "{krate} {}",
                descriptor.name
            );
        }
    }

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
