//! Connector descriptors: what a registry lists about each connector.

use std::fmt;

use crate::{
    ANY_OPTION, AuthMethod, ConnectionOptions, Error, LakeflowConnect, OptionSpec, Redactor,
    Result, check_options,
};

/// Builds a connector from its connection options.
pub type Constructor = fn(&ConnectionOptions) -> Result<Box<dyn LakeflowConnect>>;

/// Everything the CLI, docs, bindings and tests need to know about a connector before building it.
#[derive(Clone, Copy)]
pub struct ConnectorDescriptor {
    /// The source name users type (`example`, `github`).
    pub name: &'static str,
    /// One line describing the source.
    pub description: &'static str,
    /// The connection parameters it is constructed from.
    pub connection_options: &'static [OptionSpec],
    /// The table options it understands (each may apply to some tables only).
    pub table_options: &'static [OptionSpec],
    /// The ways it can authenticate (each naming the connection options it reads); empty for
    /// test-only sources.
    pub auth: &'static [AuthMethod],
    /// Builds the connector.
    pub constructor: Constructor,
    /// The simulator spec and corpus its tests run against, compiled in so that
    /// `lakeflow simulate <name>` serves it from any build. `None` for sources that need no
    /// HTTP server (the `example` source simulates its API in process).
    pub simulator: Option<&'static EmbeddedSimulatorSpec>,
}

/// A simulator spec and the corpus files it names, embedded with `include_str!`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedSimulatorSpec {
    /// The spec's YAML text.
    pub spec: &'static str,
    /// The files the spec refers to: (name relative to the spec, contents).
    pub files: &'static [(&'static str, &'static str)],
}

impl fmt::Debug for ConnectorDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorDescriptor")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl ConnectorDescriptor {
    /// Validates the connection options (all required present, none unknown) and builds the
    /// connector. Values the options hold as secret ([`ConnectionOptions::insert_secret`]) are
    /// scrubbed from the constructor's errors and from everything the connector reports
    /// ([`Redactor`]).
    pub fn connect(&self, options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
        check_options(options.keys(), self.connection_options, None)?;
        let redactor = Redactor::new(options);
        let connector = (self.constructor)(options).map_err(|e| redactor.redact_error(e))?;
        Ok(redactor.wrap(connector))
    }

    /// Checks table options for `table` against the declared table options.
    pub fn check_table_options<'a>(
        &self,
        table: &str,
        given: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        check_options(given, self.table_options, Some(table))
    }

    /// Whether `name` is a declared connection option.
    pub fn is_connection_option(&self, name: &str) -> bool {
        self.connection_options.iter().any(|o| o.accepts(name))
    }

    /// What is wrong with the auth declarations, one line each (empty when they are sound): an
    /// option an auth method names that is not a declared connection option, or a method kind
    /// declared twice. The registry's tests check every connector with it.
    pub fn auth_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, method) in self.auth.iter().enumerate() {
            if self.auth[..i].iter().any(|m| m.kind == method.kind) {
                problems.push(format!(
                    "{}: auth method `{}` is declared more than once",
                    self.name, method.kind
                ));
            }
            for option in method.options {
                if !self.is_connection_option(option) {
                    problems.push(format!(
                        "{}: auth method `{}` names option `{option}`, which is not a declared \
                         connection option",
                        self.name, method.kind
                    ));
                }
            }
        }
        problems
    }

    /// Whether `name` is a declared table option (for any table).
    pub fn is_table_option(&self, name: &str) -> bool {
        self.table_options.iter().any(|o| o.accepts(name))
    }

    /// Where a user's option `key` goes: the one routing the CLI and the Spark data source
    /// share. Keys match declared names without regard to ASCII case (Spark lower-cases them)
    /// and come back in their declared spelling; a declared connection option is one, else a
    /// declared table option; an undeclared key goes wherever the connector takes any option
    /// (both ways when it takes any both ways, as the original passes a connector every
    /// option). `None` when the connector declares it neither way.
    pub fn route_option(&self, key: &str) -> Option<RoutedOption> {
        let key = key.trim();
        let declared = |specs: &[OptionSpec]| {
            specs
                .iter()
                .find(|o| o.name != ANY_OPTION && o.name.eq_ignore_ascii_case(key))
                .map(|o| o.name.to_owned())
        };
        if let Some(name) = declared(self.connection_options) {
            return Some(RoutedOption {
                name,
                connection: true,
                table: false,
            });
        }
        if let Some(name) = declared(self.table_options) {
            return Some(RoutedOption {
                name,
                connection: false,
                table: true,
            });
        }
        let takes_any = |specs: &[OptionSpec]| specs.iter().any(|o| o.name == ANY_OPTION);
        let (connection, table) = (
            takes_any(self.connection_options),
            takes_any(self.table_options),
        );
        (connection || table).then(|| RoutedOption {
            name: key.to_owned(),
            connection,
            table,
        })
    }
}

/// Where one of a user's options goes (see [`ConnectorDescriptor::route_option`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedOption {
    /// The name the connector declares it under (the key as given, for an undeclared one).
    pub name: String,
    /// Whether the connector is built with it.
    pub connection: bool,
    /// Whether table reads get it.
    pub table: bool,
}

/// Finds a descriptor by name in a registry list, with an error listing the known names.
pub fn find_connector<'a>(
    registry: &'a [ConnectorDescriptor],
    name: &str,
) -> Result<&'a ConnectorDescriptor> {
    registry
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Error::UnknownSource {
            name: name.to_owned(),
            available: registry.iter().map(|d| d.name.to_owned()).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthKind;

    fn refuse(_: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
        Err(Error::invalid_option("token", "", "test descriptor"))
    }

    const OPTIONS: &[OptionSpec] = &[
        OptionSpec::required("token", "API token").secret(),
        OptionSpec::optional("base_url", "API root"),
    ];

    fn with_auth(auth: &'static [AuthMethod]) -> ConnectorDescriptor {
        ConnectorDescriptor {
            name: "demo",
            description: "test",
            connection_options: OPTIONS,
            table_options: &[],
            auth,
            constructor: refuse,
            simulator: None,
        }
    }

    #[test]
    fn auth_methods_naming_declared_options_are_sound() {
        const AUTH: &[AuthMethod] = &[
            AuthMethod::new(AuthKind::ApiToken, &["token"], "bearer token"),
            AuthMethod::new(AuthKind::None, &[], "no credential"),
        ];
        assert_eq!(with_auth(AUTH).auth_problems(), Vec::<String>::new());
        assert!(with_auth(&[]).auth_problems().is_empty());
    }

    #[test]
    fn an_auth_method_naming_an_undeclared_option_is_reported() {
        const AUTH: &[AuthMethod] = &[AuthMethod::new(
            AuthKind::OauthRefreshToken,
            &["client_id", "token"],
            "oauth",
        )];
        assert_eq!(
            with_auth(AUTH).auth_problems(),
            [
                "demo: auth method `oauth_refresh_token` names option `client_id`, which is not a \
              declared connection option"
            ]
        );
    }

    #[test]
    fn an_auth_kind_declared_twice_is_reported() {
        const AUTH: &[AuthMethod] = &[
            AuthMethod::new(AuthKind::ApiToken, &["token"], "one"),
            AuthMethod::new(AuthKind::ApiToken, &["token"], "two"),
        ];
        assert_eq!(
            with_auth(AUTH).auth_problems(),
            ["demo: auth method `api_token` is declared more than once"]
        );
    }

    #[test]
    fn debug_shows_the_auth_methods() {
        const AUTH: &[AuthMethod] = &[AuthMethod::new(AuthKind::Basic, &["token"], "basic")];
        let debug = format!("{:?}", with_auth(AUTH));
        assert!(debug.contains("Basic"), "{debug}");
    }
}
