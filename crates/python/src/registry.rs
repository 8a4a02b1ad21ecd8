//! The sources this module serves: the workspace registry, plus the in-memory test source when
//! built for tests.

use std::sync::LazyLock;

use lakeflow_connect::{ConnectorDescriptor, Result, find_connector};

static SOURCES: LazyLock<Vec<ConnectorDescriptor>> = LazyLock::new(|| {
    #[allow(unused_mut)] // Only the test build adds to the list.
    let mut sources = lakeflow_connectors::CONNECTORS.to_vec();
    #[cfg(any(test, feature = "test-sources"))]
    sources.push(lakeflow_testkit::memory::DESCRIPTOR);
    sources
});

/// Every source, in the registry's order.
pub fn all() -> &'static [ConnectorDescriptor] {
    &SOURCES
}

/// The source named `name`, or an error listing the known ones.
pub fn find(name: &str) -> Result<&'static ConnectorDescriptor> {
    find_connector(all(), name)
}
