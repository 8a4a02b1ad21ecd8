//! Runs the suite: builds the connector (starting the simulator when there is one), picks the
//! tables, runs every check for every table with panics caught, and redacts secrets from the
//! report.

use std::sync::Arc;

use lakeflow_connect::{
    AuthMethod, ConnectionOptions, ConnectorDescriptor, LakeflowConnect, TableOptions,
};

use crate::checks;
use crate::config::{Conformance, FAKE_SECRET, Source, descriptor_factory};
use crate::context::{Finding, Run, TableCtx, fail, skip};
use crate::probe::{Transcript, build, guard};
use crate::report::{Check, Mode, Report, Row};
use crate::simulator::{self, BASE_URL, Simulation};

pub(crate) fn run(mut config: Conformance) -> Report {
    let source = config.descriptor.name.to_owned();
    let mode = config.mode;
    let mut rows = Vec::new();
    let transcript = Transcript::default();
    let (connection, secrets) = connection(config.descriptor, &config.connection, mode);
    // The simulator runs until the end of the report: dropping it stops the server.
    let simulation = match prepare_simulation(&config) {
        Ok(simulation) => simulation,
        Err(error) => return setup_failed(source, mode, rows, error, &secrets),
    };
    let mut connection = connection;
    let mut defaults = Vec::new();
    if let Some(sim) = &simulation {
        connection.insert(BASE_URL, sim.base_url());
        for (name, value) in sim.connection_options() {
            if connection.get(name).is_none() {
                connection.insert(name, value);
            }
        }
        defaults = default_table_options(&mut config, sim.table_options());
    }
    let factory = match &config.source {
        Source::Descriptor => descriptor_factory(config.descriptor),
        Source::Factory(factory) => Arc::clone(factory),
    };
    let offline = mode == Mode::Offline;
    let main = match build(&factory, &connection, "the connector", offline, &transcript) {
        Ok(main) => main,
        Err(error) => {
            let error = format!("could not build the connector: {error}");
            return setup_failed(source, mode, rows, error, &secrets);
        }
    };
    let listed = guard(&transcript, "list_tables", || main.list_tables())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let mut run = Run {
        transcript,
        connection,
        secrets: secrets.clone(),
        factory,
        main,
        listed,
        tables: Vec::new(),
        config,
    };
    rows.push(row(
        None,
        Check::Setup,
        setup_evidence(&run, simulation.as_ref(), &defaults),
    ));
    run.tables = select_tables(&run, &mut rows);
    for check in Check::ALL.into_iter().filter(|c| *c != Check::Setup) {
        if check.per_table() {
            if run.tables.is_empty() {
                rows.push(row(None, check, skip("no table to check")));
            }
            for t in &run.tables {
                let finding = guarded(&run, check, Some(t));
                rows.push(row(Some(&t.name), check, finding));
            }
        } else {
            rows.push(row(None, check, guarded(&run, check, None)));
        }
    }
    drop(simulation);
    finish(source, mode, rows, &secrets)
}

/// The caller's options, plus (offline only) [`FAKE_SECRET`] for every secret option left
/// unset, except those of the descriptor's other ways to authenticate than the one in use (the
/// first, unless the caller gave options of another: a connector taking an API token or an
/// OAuth token gets one, not both); and the secret values
/// to look for in the connector's output. Live, an unset secret stays unset: the real API must
/// not receive the fake value, and a connector with an optional credential must be able to run
/// without one.
fn connection(
    descriptor: &ConnectorDescriptor,
    given: &ConnectionOptions,
    mode: Mode,
) -> (ConnectionOptions, Vec<(String, String)>) {
    let mut options = given.clone();
    let mut secrets = Vec::new();
    // The way to authenticate in use: the first whose options the caller gave some of, or the
    // first. Secrets of the others stay unset.
    let method = descriptor
        .auth
        .iter()
        .find(|method| method.options.iter().any(|name| given.get(name).is_some()))
        .or_else(|| descriptor.auth.first());
    let alternative = |name: &str| {
        let in_method = |m: &AuthMethod| m.options.contains(&name);
        descriptor.auth.iter().any(in_method) && !method.is_some_and(in_method)
    };
    for spec in descriptor.connection_options.iter().filter(|s| s.secret) {
        let value = match options.get(spec.name) {
            Some(value) => value.to_owned(),
            None if mode == Mode::Offline && !alternative(spec.name) => {
                options.insert(spec.name, FAKE_SECRET);
                FAKE_SECRET.to_owned()
            }
            None => continue,
        };
        secrets.push((spec.name.to_owned(), value));
    }
    (options, secrets)
}

fn prepare_simulation(config: &Conformance) -> Result<Option<Simulation>, String> {
    match (config.mode, &config.source, config.descriptor.simulator) {
        (Mode::Offline, Source::Descriptor, Some(spec)) => simulator::start(spec)
            .map(Some)
            .map_err(|e| format!("could not start the simulator: {e}")),
        _ => Ok(None),
    }
}

/// Adds the simulator spec's `table_options` (what its corpus needs to be read: the account,
/// repository, ...) to the common table options, under any the caller gave, so that an offline
/// run needs no options. Returns the `key=value` pairs taken from the spec.
fn default_table_options(config: &mut Conformance, from_spec: &TableOptions) -> Vec<String> {
    let mut taken = Vec::new();
    for (key, value) in from_spec {
        if !config.common_table_options.contains_key(key) {
            config
                .common_table_options
                .insert(key.clone(), value.clone());
            taken.push(format!("{key}={value}"));
        }
    }
    taken
}

fn setup_evidence(run: &Run, simulation: Option<&Simulation>, defaults: &[String]) -> Finding {
    let how = match (&run.config.source, simulation) {
        (Source::Factory(_), _) => "built by the test's factory".to_owned(),
        (Source::Descriptor, Some(sim)) => format!(
            "built by the descriptor against the simulator at {}",
            sim.base_url()
        ),
        (Source::Descriptor, None) => "built by the descriptor".to_owned(),
    };
    let names: Vec<&str> = run.connection.keys().collect();
    let mut evidence = format!("{how}; connection options: [{}]", names.join(", "));
    if !defaults.is_empty() {
        evidence.push_str(&format!(
            "; table options from the simulator spec: [{}]",
            defaults.join(", ")
        ));
    }
    crate::context::pass(evidence)
}

/// Listed tables plus tables given options, or exactly the tables asked for; tables whose options
/// the descriptor does not declare get a failed setup row and are left out.
fn select_tables(run: &Run, rows: &mut Vec<Row>) -> Vec<TableCtx> {
    let config = &run.config;
    let mut names: Vec<String> = match &config.only_tables {
        Some(only) => only.clone(),
        None => run.listed.clone().unwrap_or_default(),
    };
    if config.only_tables.is_none() {
        for extra in config.table_options.keys() {
            if !names.contains(extra) {
                names.push(extra.clone());
            }
        }
    }
    let mut seen = Vec::new();
    names.retain(|n| {
        let new = !seen.contains(n);
        seen.push(n.clone());
        new
    });
    let mut tables = Vec::new();
    for name in names {
        let mut options: TableOptions = config
            .common_table_options
            .iter()
            .filter(|(key, _)| {
                config
                    .descriptor
                    .table_options
                    .iter()
                    .any(|o| o.accepts(key) && o.applies_to(&name))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        options.extend(config.table_options.get(&name).cloned().unwrap_or_default());
        let given = options.keys().map(String::as_str);
        match config.descriptor.check_table_options(&name, given) {
            Ok(()) => tables.push(TableCtx::new(name, options)),
            Err(error) => rows.push(row(
                Some(&name),
                Check::Setup,
                fail(format!(
                    "table options not accepted, table not checked: {error}"
                )),
            )),
        }
    }
    tables
}

/// Runs one check with panics caught: a panic is a failure of that check.
fn guarded(run: &Run, check: Check, table: Option<&TableCtx>) -> Finding {
    let call = match table {
        Some(t) => format!("check `{check}` of `{}`", t.name),
        None => format!("check `{check}`"),
    };
    match guard(&run.transcript, &call, || checks::run(run, check, table)) {
        Ok(Ok(finding) | Err(finding)) => finding,
        Err(panic) => fail(format!("the connector {panic}")),
    }
}

fn row(table: Option<&str>, check: Check, finding: Finding) -> Row {
    Row {
        table: table.map(str::to_owned),
        check,
        outcome: finding.outcome,
        evidence: finding.evidence,
    }
}

fn setup_failed(
    source: String,
    mode: Mode,
    mut rows: Vec<Row>,
    error: String,
    secrets: &[(String, String)],
) -> Report {
    rows.push(row(None, Check::Setup, fail(error)));
    for check in Check::ALL.into_iter().filter(|c| *c != Check::Setup) {
        rows.push(row(None, check, skip("setup failed")));
    }
    finish(source, mode, rows, secrets)
}

/// The report, with every secret value replaced by `***`: evidence quotes connector errors, and
/// the report must not leak what the secrets check looks for.
fn finish(source: String, mode: Mode, mut rows: Vec<Row>, secrets: &[(String, String)]) -> Report {
    for row in &mut rows {
        for (_, value) in secrets {
            if !value.is_empty() && row.evidence.contains(value.as_str()) {
                row.evidence = row.evidence.replace(value.as_str(), "***");
            }
        }
    }
    Report { source, mode, rows }
}

#[cfg(test)]
mod tests {
    use lakeflow_connect::{AuthKind, OptionSpec, Result};

    use super::*;

    fn construct(_: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
        Err(lakeflow_connect::Error::Protocol {
            message: "unused".into(),
        })
    }

    /// Two ways to authenticate: a user and API token, or an OAuth token.
    static TWO_WAYS: ConnectorDescriptor = ConnectorDescriptor {
        name: "two-ways",
        description: "test",
        connection_options: &[
            OptionSpec::optional("email", "user"),
            OptionSpec::optional("api_token", "token").secret(),
            OptionSpec::optional("oauth_token", "token").secret(),
            OptionSpec::optional("signing_key", "not a credential of either way").secret(),
        ],
        table_options: &[],
        auth: &[
            AuthMethod::new(AuthKind::Basic, &["email", "api_token"], "basic"),
            AuthMethod::new(AuthKind::ApiToken, &["oauth_token"], "bearer"),
        ],
        constructor: construct,
        simulator: None,
    };

    fn filled(given: &[(&str, &str)], mode: Mode) -> Vec<String> {
        let given: ConnectionOptions = given.iter().copied().collect();
        let (options, _) = connection(&TWO_WAYS, &given, mode);
        options
            .keys()
            .filter(|k| given.get(k).is_none())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn offline_fake_secrets_go_to_one_way_to_authenticate() {
        assert_eq!(filled(&[], Mode::Offline), ["api_token", "signing_key"]);
        assert_eq!(
            filled(&[("oauth_token", "o")], Mode::Offline),
            ["signing_key"]
        );
        assert!(filled(&[], Mode::Live).is_empty());
    }
}
