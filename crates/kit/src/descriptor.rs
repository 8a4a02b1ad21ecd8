//! What every connector crate's root declares the same way: its descriptor (the registry's
//! entry) and the simulator spec and corpus embedded next to it, from the crate's own facts.

/// Declares a connector crate's `DESCRIPTOR` (and, with `simulator`, its `SIMULATOR`), so that
/// the crate root says only what is its own: the name, the description, the connector type
/// (built by its `new(&ConnectionOptions) -> Result<Self>`) and the corpus files.
///
/// The crate root must have `CONNECTION_OPTIONS`, `TABLE_OPTIONS` and `AUTH_METHODS` in scope,
/// as every connector exports them. `simulator` names the corpus files under `simulator/`
/// next to `src/` (without `.json`); the spec is `simulator/spec.yaml`.
///
/// ```ignore
/// lakeflow_kit::connector_descriptor! {
///     name: "items",
///     description: "The Items REST API: items and categories.",
///     connector: ItemsConnector,
///     simulator: ["items", "categories"],
/// }
/// ```
#[macro_export]
macro_rules! connector_descriptor {
    (
        name: $name:literal,
        description: $description:expr,
        connector: $connector:ty,
        simulator: [$($file:literal),* $(,)?] $(,)?
    ) => {
        #[doc = concat!(
            "The simulator spec and corpus the tests run against (`lakeflow simulate ",
            $name,
            "` serves it)."
        )]
        pub static SIMULATOR: $crate::descriptor::EmbeddedSimulatorSpec =
            $crate::descriptor::EmbeddedSimulatorSpec {
                spec: include_str!("../simulator/spec.yaml"),
                files: &[$((
                    concat!($file, ".json"),
                    include_str!(concat!("../simulator/", $file, ".json")),
                )),*],
            };

        $crate::connector_descriptor!(@descriptor $name, $description, $connector, Some(&SIMULATOR));
    };
    (name: $name:literal, description: $description:expr, connector: $connector:ty $(,)?) => {
        $crate::connector_descriptor!(@descriptor $name, $description, $connector, None);
    };
    (@descriptor $name:literal, $description:expr, $connector:ty, $simulator:expr) => {
        #[doc = concat!("What the registry lists about the `", $name, "` connector.")]
        pub const DESCRIPTOR: $crate::descriptor::ConnectorDescriptor =
            $crate::descriptor::ConnectorDescriptor {
                name: $name,
                description: $description,
                connection_options: CONNECTION_OPTIONS,
                table_options: TABLE_OPTIONS,
                auth: AUTH_METHODS,
                constructor: $crate::descriptor::construct::<$connector>,
                simulator: $simulator,
            };

        impl $crate::descriptor::FromOptions for $connector {
            fn from_options(
                options: &$crate::descriptor::ConnectionOptions,
            ) -> $crate::descriptor::Result<Self> {
                Self::new(options)
            }
        }
    };
}

pub use lakeflow_connect::{ConnectionOptions, ConnectorDescriptor, EmbeddedSimulatorSpec, Result};

use lakeflow_connect::LakeflowConnect;

/// A connector built from connection options: what a descriptor's constructor calls.
/// [`connector_descriptor!`] implements it with the connector's `new`.
pub trait FromOptions: LakeflowConnect + Sized + 'static {
    /// The connector of `options`.
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    fn from_options(options: &ConnectionOptions) -> Result<Self>;
}

/// A descriptor's constructor: the connector `C` of `options`, boxed.
///
/// # Errors
/// As [`FromOptions::from_options`].
pub fn construct<C: FromOptions>(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    Ok(Box::new(C::from_options(options)?))
}
