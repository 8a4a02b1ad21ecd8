//! Declared options, and their parsing into typed settings: connection options into
//! [`ClientSettings`], table options into [`TableSettings`].

use std::time::Duration;

use lakeflow_connect::{
    ConnectionOptions, Error, OptionSpec, Result, Secret, TableOptions, check_options, parse_option,
};
use lakeflow_kit::options::{Limits, base_url, required_secret, value};
use lakeflow_kit::{OptionUse, ReadSettings, declare};

use crate::tables::{DEFS, Table};

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
// which tables an option applies to is derived from those lists. The kit declares and parses
// the ones every strategy reads by; these are GitHub's own.

pub(crate) use lakeflow_kit::options::{
    LOOKBACK, MAX_RECORDS, PER_PAGE, START_DATE, STREAM_PARTITIONS, WINDOW,
};

/// Optional in the declaration because `repositories` takes it too; the repository tables
/// require it ([`TableSettings::parse`] says so naming the table).
pub(crate) const OWNER: OptionSpec = OptionSpec::optional(
    "owner",
    "Repository owner: a user or organization login. Required by the repository tables; for \
     `repositories`, list this user's repositories (or `org`'s).",
);
pub(crate) const REPO: OptionSpec = OptionSpec::required(
    "repo",
    "Repository name, or `*` for every repository of `owner` (or `org`) into one table.",
);
pub(crate) const ORG: OptionSpec = OptionSpec::optional(
    "org",
    "An organization instead of `owner`: for `repositories`, list its repositories; for a \
     repository table with `repo: \"*\"`, read every repository of it.",
);
pub(crate) const REPOS: OptionSpec = OptionSpec::optional(
    "repos",
    "With `repo: \"*\"`: only these repositories, comma-separated names or patterns with `*` \
     and `?` (`rover*, fleet-?`).",
);
pub(crate) const STATE: OptionSpec = OptionSpec::optional(
    "state",
    "Only issues or pull requests in this state: `open`, `closed` or `all` (default `all`). \
     For `reviews`, the state of the pull requests whose reviews are read.",
);
/// The original connector's page limit, kept so its specs run unchanged.
pub(crate) const MAX_PAGES: OptionSpec = OptionSpec::optional(
    "max_pages_per_batch",
    "Without `max_records_per_batch`: at most this many pages of `per_page` records a batch \
     (the original connector's limit). Snapshots are read whole whatever it says.",
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
const TABLE_OPTION_CATALOGUE: [OptionSpec; 14] = [
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
    STATE,
    MAX_PAGES,
    REPOS,
];

/// Which tables take each option, from their definitions.
static TABLE_OPTION_USE: OptionUse<{ DEFS.len() }, { TABLE_OPTION_CATALOGUE.len() }> =
    OptionUse::new(DEFS, &TABLE_OPTION_CATALOGUE);

/// The table options the connector reads, each with the tables it applies to.
pub const TABLE_OPTIONS: &[OptionSpec] = &declare(TABLE_OPTION_CATALOGUE, &TABLE_OPTION_USE);

/// GitHub serves at most 100 records a page.
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
        let seconds = |name: &str, default: u64| {
            parse_option(options.get(name), name, default).map(Duration::from_secs)
        };
        Ok(Self {
            base_url: base_url(options, "base_url", Some(DEFAULT_BASE_URL))?,
            token: required_secret(options, "token")?,
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

/// `repo: "*"`: the account whose repositories are read, as `owner` or `org` names it.
pub(crate) const ALL_REPOS: &str = "*";

/// Whether `options` read every repository of an account (`repo: "*"`).
pub(crate) fn fans_out(options: &TableOptions) -> bool {
    value(options, "repo") == Some(ALL_REPOS)
}

/// An account whose repositories are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Account {
    /// `owner`: a user (or an organization, which GitHub lists the same way).
    User(String),
    /// `org`: an organization.
    Org(String),
}

impl Account {
    /// Where its repositories are listed. For a user, GitHub lists only the public ones (and
    /// those the account owns): an organization's private repositories need `org`.
    pub(crate) fn repos_path(&self) -> String {
        match self {
            Self::User(owner) => format!("/users/{owner}/repos"),
            Self::Org(org) => format!("/orgs/{org}/repos"),
        }
    }
}

/// Every repository of an account read into one table (`repo: "*"`), or those `repos` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FanOut {
    pub account: Account,
    /// Names or patterns (`*`, `?`); empty for every repository.
    pub patterns: Vec<String>,
}

impl FanOut {
    /// Whether the repository called `name` is read.
    pub(crate) fn includes(&self, name: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| glob(p, name))
    }
}

/// Whether `name` matches `pattern` (`*` any run of characters, `?` one), ignoring case as
/// GitHub does for names.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    // The last `*` seen and where in `name` it resumed: on a mismatch, let it take one more.
    let (mut p, mut n, mut star) = (0, 0, None);
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((at, from)) => {
                    p = at + 1;
                    n = from + 1;
                    star = Some((at, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The table options of one call, checked against the declarations and parsed.
#[derive(Debug, Clone)]
pub(crate) struct TableSettings {
    /// What the kit's strategies read by (`start_date`, `per_page`, ...).
    pub read: ReadSettings,
    pub repo: Option<Repo>,
    /// `repo: "*"`: every repository of an account instead of `repo`.
    pub fan_out: Option<FanOut>,
    /// `owner`, also where `repositories` takes it without `repo`.
    pub owner: Option<String>,
    pub org: Option<String>,
    /// `state` for issues and pull requests: `open`, `closed` or `all`.
    pub state: &'static str,
    pub pull_number: Option<u64>,
    pub sha: Option<String>,
}

impl TableSettings {
    pub(crate) fn parse(table: Table, options: &TableOptions) -> Result<Self> {
        check_options(
            options.keys().map(String::as_str),
            table.options(),
            Some(table.name()),
        )?;
        let get = |name: &str| value(options, name);
        let owner = get("owner")
            .map(|owner| login("owner", owner))
            .transpose()?;
        let org = get("org").map(|org| login("org", org)).transpose()?;
        if let (Some(_), Some(org)) = (&owner, &org) {
            return Err(Error::invalid_option(
                "org",
                org,
                format!(
                    "give `owner` or `org` for table `{}`, not both",
                    table.name()
                ),
            ));
        }
        let fan_out = if fans_out(options) {
            let account = match (&owner, &org) {
                (Some(owner), _) => Account::User(owner.clone()),
                (None, Some(org)) => Account::Org(org.clone()),
                (None, None) => {
                    return Err(Error::invalid_option(
                        "repo",
                        ALL_REPOS,
                        "`*` reads every repository of `owner` or `org`: give one of them",
                    ));
                }
            };
            if let Some(number) = get("pull_number") {
                return Err(Error::invalid_option(
                    "pull_number",
                    number,
                    "names one pull request of one repository, not with `repo: \"*\"`",
                ));
            }
            let patterns = get("repos").map(patterns).transpose()?;
            Some(FanOut {
                account,
                patterns: patterns.unwrap_or_default(),
            })
        } else {
            None
        };
        if fan_out.is_none() && table.is_repository_scoped() {
            for option in ["org", "repos"] {
                if let Some(given) = get(option) {
                    return Err(Error::invalid_option(
                        option,
                        given,
                        "goes with `repo: \"*\"` (every repository of the account)",
                    ));
                }
            }
        }
        let repo = match (&owner, get("repo")) {
            _ if fan_out.is_some() => None,
            (Some(owner), Some(name)) => Some(Repo {
                owner: owner.clone(),
                name: login("repo", name)?,
            }),
            // Present but blank: still missing, and the error says which table needs it.
            (None, _) if table.is_repository_scoped() => return Err(missing("owner", table)),
            (_, None) if table.is_repository_scoped() => return Err(missing("repo", table)),
            _ => None,
        };
        let limits = Limits {
            max_per_page: MAX_PER_PAGE,
            window: table.default_window(),
        };
        let pull_number = get("pull_number")
            .map(|raw| {
                raw.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::invalid_option("pull_number", raw, "not a PR number"))
            })
            .transpose()?;
        let state = match get("state") {
            None | Some("all") => "all",
            Some("open") => "open",
            Some("closed") => "closed",
            Some(other) => {
                return Err(Error::invalid_option(
                    "state",
                    other,
                    "expected `open`, `closed` or `all`",
                ));
            }
        };
        let mut read = ReadSettings::from_options(options, limits)?;
        if let Some(raw) = get(MAX_PAGES.name) {
            let pages = raw
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::invalid_option(MAX_PAGES.name, raw, "not a page count"))?;
            if get(MAX_RECORDS.name).is_none() {
                let per_page = usize::try_from(read.per_page).unwrap_or(usize::MAX);
                read.max_records = pages.saturating_mul(per_page);
            }
        }
        Ok(Self {
            read,
            repo,
            fan_out,
            owner,
            org,
            state,
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
pub(crate) fn login(option: &str, value: &str) -> Result<String> {
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

/// The `repos` list: names or patterns, checked like names (with `*` and `?` too).
fn patterns(value: &str) -> Result<Vec<String>> {
    let patterns: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if patterns.is_empty() {
        return Err(Error::invalid_option(
            "repos",
            value,
            "names no repository (leave it out for every one)",
        ));
    }
    for pattern in &patterns {
        login("repos", &pattern.replace(['*', '?'], "x"))?;
    }
    Ok(patterns)
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

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use lakeflow_testkit::fixtures::table_options as options;

    use super::*;

    fn table(name: &str) -> Table {
        Table::parse(name).unwrap()
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
        // Repositories take an owner (or an org), not a repo, and not both.
        let err = TableSettings::parse(table("repositories"), &options(&[("repo", "rover")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown option `repo` for table `repositories`"),
            "{err}"
        );
        let both = options(&[("owner", "mira"), ("org", "acme")]);
        let err = TableSettings::parse(table("repositories"), &both)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`owner` or `org`"), "{err}");
        let owner = TableSettings::parse(table("repositories"), &options(&[("owner", "mira")]));
        assert_eq!(owner.unwrap().owner.as_deref(), Some("mira"));
    }

    #[test]
    fn github_values_are_checked_and_named() {
        let base = [("owner", "acme"), ("repo", "rover")];
        for (option, value, expected) in [
            ("owner", "acme/other", "only letters"),
            ("repo", "..", "only letters"),
            ("pull_number", "x", "not a PR number"),
            ("sha", "a b", "no spaces"),
            ("per_page", "101", "between 1 and 100"),
            ("state", "merged", "`open`, `closed` or `all`"),
            ("max_pages_per_batch", "0", "not a page count"),
        ] {
            let mut given = options(&base);
            given.insert(option.to_owned(), value.to_owned());
            let table = match option {
                "pull_number" => "reviews",
                "state" => "issues",
                _ => "commits",
            };
            let err = TableSettings::parse(Table::parse(table).unwrap(), &given)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(option) && err.contains(expected),
                "{option}: {err}"
            );
        }
        let mut given = options(&base);
        given.insert("pull_number".into(), "12".into());
        let settings = TableSettings::parse(table("reviews"), &given).unwrap();
        assert_eq!(settings.pull_number, Some(12));
        let commits = TableSettings::parse(table("commits"), &options(&base)).unwrap();
        let runs = TableSettings::parse(table("workflow_runs"), &options(&base)).unwrap();
        assert_eq!(
            (commits.read.window, runs.read.window),
            (TimeDelta::weeks(1), TimeDelta::days(1)),
            "each table's own default window"
        );
        // The original's options: `state` (default `all`), and pages a batch as records.
        let mut original = options(&base);
        original.extend(options(&[("max_pages_per_batch", "3"), ("per_page", "50")]));
        let issues = TableSettings::parse(table("issues"), &original).unwrap();
        assert_eq!((issues.state, issues.read.max_records), ("all", 150));
        original.extend(options(&[
            ("state", "open"),
            ("max_records_per_batch", "10"),
        ]));
        let issues = TableSettings::parse(table("issues"), &original).unwrap();
        assert_eq!((issues.state, issues.read.max_records), ("open", 10));
    }

    #[test]
    fn repository_patterns_match_names_as_github_compares_them() {
        for (pattern, name, matches) in [
            ("rover*", "rover", true),
            ("rover*", "rover-firmware", true),
            ("rover*", "old-rover-ui", false),
            ("*rover*", "old-rover-ui", true),
            ("fleet-?", "fleet-a", true),
            ("fleet-?", "fleet-api", false),
            ("INFRA", "infra", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("*", "anything", true),
        ] {
            assert_eq!(glob(pattern, name), matches, "{pattern} ~ {name}");
        }
        let fan_out = TableSettings::parse(
            table("issues"),
            &options(&[("org", "acme"), ("repo", "*"), ("repos", "rover*, infra")]),
        )
        .unwrap()
        .fan_out
        .unwrap();
        assert_eq!(fan_out.account, Account::Org("acme".to_owned()));
        assert!(fan_out.includes("rover-sim") && fan_out.includes("infra"));
        assert!(!fan_out.includes("website"));
        let err = TableSettings::parse(
            table("issues"),
            &options(&[("owner", "acme"), ("repo", "*"), ("repos", "a/b")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("repos"), "{err}");
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
