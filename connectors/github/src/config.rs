//! Declared options, and their parsing into typed settings: connection options into
//! [`ClientSettings`], table options into [`TableSettings`].

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use lakeflow_connect::{
    ConnectionOptions, Error, MAX_RECORDS_PER_BATCH, OptionSpec, Result, Secret, TableOptions,
    check_options, parse_option, positive_option,
};
use lakeflow_kit::{OptionUse, declare};

use crate::tables::{DEFS, Table};
use crate::time::parse_ts;

/// The public GitHub API.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

/// The connection options the connector reads.
pub const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::required(
        "token",
        "GitHub token (fine-grained or classic personal access token, or an app installation \
         token), sent as `Authorization: Bearer`.",
    )
    .secret(),
    OptionSpec::optional(
        "base_url",
        "API root: https://api.github.com (default), or https://HOST/api/v3 for GitHub \
         Enterprise Server.",
    ),
    OptionSpec::optional(
        "rate_limit_wait_seconds",
        "Wait after a rate-limit answer with neither Retry-After nor a reset time (GitHub's \
         secondary limit), doubled for each further retry of the same request (default 60, as \
         GitHub asks).",
    ),
    OptionSpec::optional(
        "max_retry_seconds",
        "Longest time one request may spend retrying, waits for a rate-limit reset included \
         (default 3900: a primary limit resets within the hour).",
    ),
];

// The table options. Each table's definition (`crate::tables::DEFS`) lists the ones it takes;
// which tables an option applies to is derived from those lists.

pub(crate) const OWNER: OptionSpec =
    OptionSpec::required("owner", "Repository owner: a user or organization login.");
pub(crate) const REPO: OptionSpec = OptionSpec::required("repo", "Repository name.");
pub(crate) const START_DATE: OptionSpec = OptionSpec::optional(
    "start_date",
    "Read nothing older than this on the first read: RFC 3339 (2024-01-01T00:00:00Z) or a \
     date (2024-01-01).",
);
pub(crate) const LOOKBACK: OptionSpec = OptionSpec::optional(
    "lookback_seconds",
    "Re-read changes this many seconds before the stored position (default 0); never stored.",
);
pub(crate) const MAX_RECORDS: OptionSpec = OptionSpec::optional(
    MAX_RECORDS_PER_BATCH,
    "Most records one read returns (default 1000).",
);
pub(crate) const PER_PAGE: OptionSpec =
    OptionSpec::optional("per_page", "Records per API page, 1-100 (default 100).");
pub(crate) const STREAM_PARTITIONS: OptionSpec = OptionSpec::optional(
    "stream_partitions",
    "Time ranges a partitioned stream splits the changes between two offsets into, to be \
     read in parallel (default 4).",
);
pub(crate) const WINDOW: OptionSpec = OptionSpec::optional(
    "window_seconds",
    "Width of one query window over time (default: commits 604800, workflow_runs 86400).",
);
pub(crate) const ORG: OptionSpec = OptionSpec::optional(
    "org",
    "List this organization's repositories instead of the authenticated user's.",
);
pub(crate) const PULL_NUMBER: OptionSpec = OptionSpec::optional(
    "pull_number",
    "Only the reviews of this pull request (default: every pull request's).",
);
pub(crate) const SHA: OptionSpec = OptionSpec::optional(
    "sha",
    "Branch name or commit SHA to list commits from (default: the default branch).",
);

/// Every table option, in the order the descriptor lists them.
const TABLE_OPTION_CATALOGUE: [OptionSpec; 11] = [
    OWNER,
    REPO,
    START_DATE,
    LOOKBACK,
    MAX_RECORDS,
    PER_PAGE,
    STREAM_PARTITIONS,
    WINDOW,
    ORG,
    PULL_NUMBER,
    SHA,
];

/// Which tables take each option, from their definitions.
static TABLE_OPTION_USE: OptionUse<{ DEFS.len() }, { TABLE_OPTION_CATALOGUE.len() }> =
    OptionUse::new(DEFS, &TABLE_OPTION_CATALOGUE);

/// The table options the connector reads, each with the tables it applies to.
pub const TABLE_OPTIONS: &[OptionSpec] = &declare(TABLE_OPTION_CATALOGUE, &TABLE_OPTION_USE);

const DEFAULT_MAX_RECORDS: u64 = 1000;
const DEFAULT_STREAM_PARTITIONS: u64 = 4;
const MAX_PER_PAGE: u64 = 100;
const DEFAULT_RATE_LIMIT_WAIT: u64 = 60;
const DEFAULT_MAX_RETRY: u64 = 3900;

/// How the connector talks to GitHub.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The API root, without a trailing slash.
    pub base_url: String,
    /// The token.
    pub token: Secret,
    /// Wait after a secondary-limit answer (no `Retry-After`, no reset), doubled per retry.
    pub rate_limit_wait: Duration,
    /// Longest time one request may spend retrying.
    pub max_retry: Duration,
}

impl ClientSettings {
    /// Reads the connection options (unknown ones are rejected by the descriptor).
    ///
    /// # Errors
    /// [`Error::MissingOption`] without a token; [`Error::InvalidOption`] naming an unusable value.
    pub fn from_options(options: &ConnectionOptions) -> Result<Self> {
        let token = options
            .secret("token")
            .ok_or_else(|| Error::MissingOption {
                option: "token".to_owned(),
                table: None,
            })?;
        if token.expose().trim().is_empty() {
            // The value is blank, so echoing it reveals nothing.
            return Err(Error::invalid_option("token", "", "must not be empty"));
        }
        let base_url = options
            .get("base_url")
            .unwrap_or(DEFAULT_BASE_URL)
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::invalid_option(
                "base_url",
                &base_url,
                "must be an http(s) URL such as https://api.github.com",
            ));
        }
        let seconds = |name: &str, default: u64| {
            parse_option(options.get(name), name, default).map(Duration::from_secs)
        };
        Ok(Self {
            base_url,
            token,
            rate_limit_wait: seconds("rate_limit_wait_seconds", DEFAULT_RATE_LIMIT_WAIT)?,
            max_retry: seconds("max_retry_seconds", DEFAULT_MAX_RETRY)?,
        })
    }
}

/// The repository a repository-scoped table reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repo {
    pub owner: String,
    pub name: String,
}

impl Repo {
    /// `/repos/{owner}/{repo}` followed by `rest`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.name)
    }
}

/// The table options of one call, checked against the declarations and parsed.
#[derive(Debug, Clone)]
pub(crate) struct TableSettings {
    pub repo: Option<Repo>,
    pub max_records: usize,
    pub per_page: u64,
    pub stream_partitions: usize,
    pub lookback: TimeDelta,
    pub window: TimeDelta,
    pub start_date: Option<DateTime<Utc>>,
    pub org: Option<String>,
    pub pull_number: Option<u64>,
    pub sha: Option<String>,
}

impl TableSettings {
    /// The settings the kit's read strategies go by.
    pub(crate) fn read_settings(&self) -> lakeflow_kit::ReadSettings {
        lakeflow_kit::ReadSettings {
            start_date: self.start_date,
            lookback: self.lookback,
            max_records: self.max_records,
            per_page: self.per_page,
            window: self.window,
        }
    }

    pub(crate) fn parse(table: Table, options: &TableOptions) -> Result<Self> {
        check_options(
            options.keys().map(String::as_str),
            table.options(),
            Some(table.name()),
        )?;
        let get = |name: &str| {
            options
                .get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let repo = match (get("owner"), get("repo")) {
            (Some(owner), Some(name)) => Some(Repo {
                owner: login("owner", owner)?,
                name: login("repo", name)?,
            }),
            // Present but blank: still missing, and the error says which table needs it.
            (None, _) if table.is_repository_scoped() => return Err(missing("owner", table)),
            (_, None) if table.is_repository_scoped() => return Err(missing("repo", table)),
            _ => None,
        };
        let per_page = parse_option(get("per_page"), "per_page", MAX_PER_PAGE)?;
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(Error::invalid_option(
                "per_page",
                get("per_page").unwrap_or_default(),
                "must be between 1 and 100",
            ));
        }
        let max_records = positive_option(options, MAX_RECORDS_PER_BATCH, DEFAULT_MAX_RECORDS)?;
        let stream_partitions =
            positive_option(options, "stream_partitions", DEFAULT_STREAM_PARTITIONS)?;
        let lookback = parse_option(get("lookback_seconds"), "lookback_seconds", 0_u64)?;
        let window = positive_option(options, "window_seconds", table.default_window_seconds())?;
        let start_date = get("start_date")
            .map(|raw| {
                parse_date(raw).ok_or_else(|| {
                    Error::invalid_option(
                        "start_date",
                        raw,
                        "expected RFC 3339 (2024-01-01T00:00:00Z) or a date (2024-01-01)",
                    )
                })
            })
            .transpose()?;
        let pull_number = get("pull_number")
            .map(|raw| {
                raw.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::invalid_option("pull_number", raw, "not a PR number"))
            })
            .transpose()?;
        Ok(Self {
            repo,
            max_records: usize::try_from(max_records).unwrap_or(usize::MAX),
            per_page,
            stream_partitions: usize::try_from(stream_partitions).unwrap_or(usize::MAX),
            lookback: seconds("lookback_seconds", lookback)?,
            window: seconds("window_seconds", window)?,
            start_date,
            org: get("org").map(|org| login("org", org)).transpose()?,
            pull_number,
            sha: get("sha").map(ref_name).transpose()?,
        })
    }

    /// The repository of a repository-scoped table (checked by [`TableSettings::parse`]).
    pub(crate) fn repo(&self, table: Table) -> Result<&Repo> {
        self.repo.as_ref().ok_or_else(|| missing("owner", table))
    }
}

fn missing(option: &str, table: Table) -> Error {
    Error::MissingOption {
        option: option.to_owned(),
        table: Some(table.name().to_owned()),
    }
}

/// A user, organization or repository name, which becomes a URL path segment: letters, digits,
/// `-`, `_` and `.` only, so no value can reach another endpoint.
fn login(option: &str, value: &str) -> Result<String> {
    let valid = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value != "."
        && value != "..";
    if valid {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid_option(
            option,
            value,
            "a GitHub name has only letters, digits, `-`, `_` and `.`",
        ))
    }
}

/// A branch name or SHA sent as a query value (it may contain `/`, like `release/1.2`).
fn ref_name(value: &str) -> Result<String> {
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid_option(
            "sha",
            value,
            "a branch name or SHA has no spaces or control characters",
        ));
    }
    Ok(value.to_owned())
}

/// RFC 3339, or a plain date meaning its midnight UTC.
fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    parse_ts(raw).or_else(|| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|naive| naive.and_utc())
    })
}

fn seconds(option: &str, value: u64) -> Result<TimeDelta> {
    i64::try_from(value)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .ok_or_else(|| Error::invalid_option(option, &value.to_string(), "too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Table {
        Table::parse(name).unwrap()
    }

    fn options(pairs: &[(&str, &str)]) -> TableOptions {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn repository_tables_name_the_missing_option_and_table() {
        let err = TableSettings::parse(table("issues"), &options(&[("repo", "rover")]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "missing required option `owner` for table `issues`");
        let err = TableSettings::parse(
            table("branches"),
            &options(&[("owner", "acme"), ("repo", " ")]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "missing required option `repo` for table `branches`");
        // Repositories take no owner/repo at all.
        let err = TableSettings::parse(table("repositories"), &options(&[("owner", "acme")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown option `owner` for table `repositories`"),
            "{err}"
        );
    }

    #[test]
    fn values_are_checked_and_named() {
        let base = [("owner", "acme"), ("repo", "rover")];
        for (option, value, expected) in [
            ("owner", "acme/other", "only letters"),
            ("repo", "..", "only letters"),
            ("per_page", "101", "between 1 and 100"),
            ("per_page", "many", "invalid digit"),
            (MAX_RECORDS_PER_BATCH, "0", "at least 1"),
            ("start_date", "yesterday", "RFC 3339"),
            ("lookback_seconds", "-5", "invalid digit"),
        ] {
            let mut given = options(&base);
            given.insert(option.to_owned(), value.to_owned());
            let err = TableSettings::parse(table("issues"), &given)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(option) && err.contains(expected),
                "{option}: {err}"
            );
        }
        let mut given = options(&base);
        given.insert("pull_number".into(), "x".into());
        let err = TableSettings::parse(table("reviews"), &given)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pull_number"), "{err}");
        given.insert("pull_number".into(), "12".into());
        given.insert("start_date".into(), "2024-03-01".into());
        let settings = TableSettings::parse(table("reviews"), &given).unwrap();
        assert_eq!(settings.pull_number, Some(12));
        assert_eq!(
            settings.start_date,
            parse_ts("2024-03-01T00:00:00Z"),
            "a date is its midnight UTC"
        );
        assert_eq!((settings.per_page, settings.max_records), (100, 1000));
    }

    #[test]
    fn connection_options_parse_and_never_echo_the_token() {
        let options: ConnectionOptions = [("token", "ghp_abc123secret"), ("base_url", "ftp://x")]
            .into_iter()
            .collect();
        let err = ClientSettings::from_options(&options)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("base_url") && !err.contains("ghp_abc123secret"),
            "{err}"
        );
        let options: ConnectionOptions = [
            ("token", "ghp_abc123secret"),
            ("base_url", "https://ghe.example.com/api/v3/"),
            ("rate_limit_wait_seconds", "0"),
        ]
        .into_iter()
        .collect();
        let settings = ClientSettings::from_options(&options).unwrap();
        assert_eq!(settings.base_url, "https://ghe.example.com/api/v3");
        assert_eq!(settings.rate_limit_wait, Duration::ZERO);
        assert!(!format!("{settings:?}").contains("ghp_abc123secret"));
    }
}
