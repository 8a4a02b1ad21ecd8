//! `corpus-gen`: a large, realistic, deterministic corpus of GitHub issues for the simulator,
//! written beside a simulator spec that serves it like GitHub's
//! `GET /repos/{owner}/{repo}/issues`.
//!
//! ```text
//! corpus-gen --records N --out DIR [--seed S] [--repos R] [--owner O] [--changes F]
//! ```
//!
//! Writes `DIR/issues.ndjson` (one issue per line), `DIR/spec.yaml` and `DIR/manifest.json`
//! (counts, repositories, token, time range). Records are GitHub-shaped: `user`, `labels`,
//! `assignee`/`assignees`, `milestone` (30%), `reactions`, RFC 3339 `created_at` / `updated_at` /
//! `closed_at`, distinct 64-bit `id`s; 5% are pull requests (GitHub lists them among issues, with
//! a `pull_request` object; plain issues have no `pull_request` key, as on GitHub). Each record
//! also carries `repository_owner` / `repository_name`, which the spec's `path_fields` route by.
//!
//! Record `i` depends only on `(seed, i)`, so `--changes 0.1` regenerates the same corpus and then
//! changes about 10% of the records (chosen by `(seed, i)` too): a newer `updated_at` (after every
//! base timestamp, before the real "now") and a changed `title`, `comments` and `reactions`.
//! Serving the base corpus, loading it, then serving the changed one is "10% of the records
//! changed since the last run".
//!
//! Records go to `R` repositories round-robin (`--repos`, default 1): with one repository it is
//! `OWNER/issues`, otherwise `OWNER/issues-0` .. `OWNER/issues-{R-1}`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// The bearer token the generated spec accepts (not a secret: the simulator's own).
const TOKEN: &str = "ghp_BenchSimulatedToken000000000000000000";

/// Base timestamps: created in [2019-01-01, 2025-01-01), updated up to 400 days later but
/// before 2025-06-01. Changed records: updated in [2025-07-01, 2025-12-28).
const CREATED_FROM: i64 = 1_546_300_800; // 2019-01-01T00:00:00Z
const CREATED_SPAN: i64 = 6 * 365 * 86_400;
const UPDATED_CAP: i64 = 1_748_736_000; // 2025-06-01T00:00:00Z
const CHANGED_FROM: i64 = 1_751_328_000; // 2025-07-01T00:00:00Z
const CHANGED_SPAN: i64 = 180 * 86_400;

/// SplitMix64: tiny and deterministic.
struct Rng(u64);

impl Rng {
    fn for_record(seed: u64, i: u64, stream: u64) -> Self {
        let mut rng = Self(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.rotate_left(32));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

const WORDS: &[&str] = &[
    "error",
    "panic",
    "timeout",
    "crash",
    "parser",
    "schema",
    "build",
    "docs",
    "flaky",
    "test",
    "memory",
    "leak",
    "slow",
    "query",
    "index",
    "cache",
    "config",
    "option",
    "table",
    "column",
    "merge",
    "delta",
    "arrow",
    "json",
    "http",
    "retry",
    "rate",
    "limit",
    "page",
    "cursor",
    "offset",
    "token",
    "auth",
    "windows",
    "linux",
    "macos",
    "release",
    "regression",
    "upgrade",
    "support",
    "feature",
    "request",
    "should",
    "when",
    "after",
    "before",
    "with",
    "without",
    "missing",
    "wrong",
    "unexpected",
    "large",
    "empty",
    "nested",
    "field",
    "value",
    "null",
    "the",
    "a",
    "is",
    "not",
    "on",
    "in",
    "for",
    "fails",
    "works",
    "returns",
];

const LABELS: &[(&str, &str, &str)] = &[
    ("bug", "d73a4a", "Something isn't working"),
    (
        "documentation",
        "0075ca",
        "Improvements or additions to documentation",
    ),
    (
        "duplicate",
        "cfd3d7",
        "This issue or pull request already exists",
    ),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
    ("performance", "fbca04", "Speed or memory"),
    ("area/connector", "c5def5", "Connectors"),
    ("area/engine", "c5def5", "The ingestion engine"),
    ("area/cli", "c5def5", "The command line"),
    ("priority/high", "b60205", "Needs attention soon"),
    ("priority/low", "0e8a16", "Whenever there is time"),
    ("needs-triage", "ededed", "Not looked at yet"),
];

const ASSOCIATIONS: &[&str] = &["NONE", "CONTRIBUTOR", "MEMBER", "OWNER", "COLLABORATOR"];
const USERS: u64 = 5_000;
const MILESTONES: u64 = 24;

struct Args {
    records: u64,
    out: PathBuf,
    seed: u64,
    repos: u64,
    owner: String,
    changes: f64,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        records: 10_000,
        out: PathBuf::from("bench/out/corpus"),
        seed: 42,
        repos: 1,
        owner: "bench".to_owned(),
        changes: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--records" => args.records = value()?.parse().context("--records")?,
            "--out" => args.out = PathBuf::from(value()?),
            "--seed" => args.seed = value()?.parse().context("--seed")?,
            "--repos" => args.repos = value()?.parse().context("--repos")?,
            "--owner" => args.owner = value()?,
            "--changes" => args.changes = value()?.parse().context("--changes")?,
            "-h" | "--help" => {
                println!(
                    "corpus-gen --records N --out DIR [--seed S] [--repos R] [--owner O] [--changes F]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    if args.repos == 0 || !(0.0..=1.0).contains(&args.changes) {
        bail!("--repos must be at least 1 and --changes within 0..1");
    }
    Ok(args)
}

fn repo_name(repos: u64, index: u64) -> String {
    if repos == 1 {
        "issues".to_owned()
    } else {
        format!("issues-{index}")
    }
}

/// RFC 3339 UTC with seconds, as GitHub writes it.
fn rfc3339(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A JSON string literal (the generated text is ASCII, but escape anyway).
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn words(rng: &mut Rng, min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let mut text = String::new();
    for i in 0..n {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(rng.pick(WORDS));
    }
    text
}

fn user(out: &mut String, k: u64) {
    let id = 1_000 + k * 17;
    let _ = write!(
        out,
        r#"{{"login":"user{k}","id":{id},"node_id":"MDQ6VXNlcj{id}","avatar_url":"https://avatars.githubusercontent.com/u/{id}?v=4","gravatar_id":"","url":"https://api.github.com/users/user{k}","html_url":"https://github.com/user{k}","type":"User","site_admin":false}}"#
    );
}

struct Issue {
    id: u64,
    number: u64,
    repo: String,
    created: i64,
    updated: i64,
    closed: Option<i64>,
    title: String,
    comments: u64,
    reactions: [u64; 8],
}

/// Writes record `i` (one line, no newline) into `out`.
fn record(out: &mut String, args: &Args, i: u64, changed: bool) {
    let mut rng = Rng::for_record(args.seed, i, 0);
    let repo_index = i % args.repos;
    let mut issue = Issue {
        id: 1_000_000_000 + i * 16 + rng.below(16),
        number: i / args.repos + 1,
        repo: repo_name(args.repos, repo_index),
        created: CREATED_FROM + i64::try_from(rng.below(CREATED_SPAN as u64)).unwrap_or(0),
        updated: 0,
        closed: None,
        title: words(&mut rng, 3, 12),
        comments: if rng.chance(40) { 0 } else { rng.below(60) },
        reactions: [0; 8],
    };
    // Updated up to 400 days after creation, never after the cap (no pile-up at the cap).
    let span = (UPDATED_CAP - issue.created).clamp(1, 400 * 86_400);
    issue.updated = issue.created + i64::try_from(rng.below(span.unsigned_abs())).unwrap_or(0);
    let closed = rng.chance(60);
    if closed {
        issue.closed = Some(issue.updated);
    }
    for r in &mut issue.reactions {
        *r = if rng.chance(80) { 0 } else { rng.below(25) };
    }
    let is_pull = rng.chance(5);
    if changed {
        let mut change = Rng::for_record(args.seed, i, 2);
        issue.updated =
            CHANGED_FROM + i64::try_from(change.below(CHANGED_SPAN as u64)).unwrap_or(0);
        issue.title.push_str(" (edited)");
        issue.comments += 1 + change.below(3);
        issue.reactions[0] += 1;
    }
    let (owner, repo, n) = (&args.owner, &issue.repo, issue.number);
    let api = format!("https://api.github.com/repos/{owner}/{repo}");
    let html = format!("https://github.com/{owner}/{repo}");
    let _ = write!(
        out,
        r#"{{"url":"{api}/issues/{n}","repository_url":"{api}","labels_url":"{api}/issues/{n}/labels{{/name}}","comments_url":"{api}/issues/{n}/comments","events_url":"{api}/issues/{n}/events","html_url":"{html}/{kind}/{n}","id":{id},"node_id":"I_kwDOBench{id:x}","number":{n},"title":"#,
        kind = if is_pull { "pull" } else { "issues" },
        id = issue.id,
    );
    string(out, &issue.title);
    out.push_str(r#","user":"#);
    user(out, rng.below(USERS));
    out.push_str(r#","labels":["#);
    let labels = if rng.chance(30) { 0 } else { 1 + rng.below(4) };
    let mut first_label = rng.below(LABELS.len() as u64);
    for l in 0..labels {
        let index = usize::try_from(first_label).unwrap_or(0) % LABELS.len();
        first_label += 1 + rng.below(3);
        let (name, color, description) = LABELS[index];
        if l > 0 {
            out.push(',');
        }
        let label_id = 5_000_000 + index as u64;
        let _ = write!(
            out,
            r#"{{"id":{label_id},"node_id":"LA_kwDOBench{label_id}","url":"{api}/labels/{}","name":"{name}","color":"{color}","default":{},"description":"{description}"}}"#,
            name.replace(' ', "%20"),
            index < 9,
        );
    }
    let _ = write!(
        out,
        r#"],"state":"{}","locked":{},"#,
        if closed { "closed" } else { "open" },
        rng.chance(2),
    );
    let assignees = match rng.below(10) {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    };
    let assigned: Vec<u64> = (0..assignees).map(|_| rng.below(USERS)).collect();
    out.push_str(r#""assignee":"#);
    match assigned.first() {
        Some(k) => user(out, *k),
        None => out.push_str("null"),
    }
    out.push_str(r#","assignees":["#);
    for (j, k) in assigned.iter().enumerate() {
        if j > 0 {
            out.push(',');
        }
        user(out, *k);
    }
    out.push_str(r#"],"milestone":"#);
    if rng.chance(30) {
        let m = 1 + rng.below(MILESTONES);
        let m_created = CREATED_FROM + i64::try_from(m).unwrap_or(0) * 30 * 86_400;
        let due = if m.is_multiple_of(3) {
            "null".to_owned()
        } else {
            format!("\"{}\"", rfc3339(m_created + 90 * 86_400))
        };
        let _ = write!(
            out,
            r#"{{"url":"{api}/milestones/{m}","html_url":"{html}/milestone/{m}","labels_url":"{api}/milestones/{m}/labels","id":{},"node_id":"MI_kwDOBench{m}","number":{m},"title":"v0.{m}","description":"Release 0.{m}","creator":"#,
            7_000_000 + m,
        );
        user(out, m);
        let _ = write!(
            out,
            r#","open_issues":{},"closed_issues":{},"state":"{}","created_at":"{}","updated_at":"{}","due_on":{due},"closed_at":null}}"#,
            m * 3,
            m * 11,
            if m < MILESTONES - 4 { "closed" } else { "open" },
            rfc3339(m_created),
            rfc3339(m_created + 86_400),
        );
    } else {
        out.push_str("null");
    }
    let _ = write!(
        out,
        r#","comments":{},"created_at":"{}","updated_at":"{}","closed_at":{},"author_association":"{}","active_lock_reason":null,"body":"#,
        issue.comments,
        rfc3339(issue.created),
        rfc3339(issue.updated),
        issue
            .closed
            .map_or_else(|| "null".to_owned(), |c| format!("\"{}\"", rfc3339(c))),
        rng.pick(ASSOCIATIONS),
    );
    if rng.chance(20) {
        out.push_str("null");
    } else {
        let body = words(&mut rng, 1, 60);
        string(out, &body);
    }
    let r = issue.reactions;
    let _ = write!(
        out,
        r#","reactions":{{"url":"{api}/issues/{n}/reactions","total_count":{},"+1":{},"-1":{},"laugh":{},"hooray":{},"confused":{},"heart":{},"rocket":{},"eyes":{}}},"timeline_url":"{api}/issues/{n}/timeline","performed_via_github_app":null,"state_reason":{}"#,
        r.iter().sum::<u64>(),
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        if closed { "\"completed\"" } else { "null" },
    );
    if is_pull {
        let _ = write!(
            out,
            r#","pull_request":{{"url":"{api}/pulls/{n}","html_url":"{html}/pull/{n}","diff_url":"{html}/pull/{n}.diff","patch_url":"{html}/pull/{n}.patch","merged_at":null}}"#
        );
    }
    let _ = write!(
        out,
        r#","repository_owner":"{owner}","repository_name":"{repo}"}}"#
    );
}

fn spec_yaml(args: &Args) -> String {
    format!(
        r#"# Generated by `corpus-gen` (bench/src/corpus_gen.rs): {records} GitHub issues, seed {seed},
# {repos} repositor{ies} of `{owner}`{changes}. Serves `GET /repos/{{owner}}/{{repo}}/issues` as GitHub does:
# Link-header pagination (`page`, `per_page` default 30, at most 100), `since` (updated at or
# after), `sort` (created, updated, comments) and `direction` (default desc), newest created
# first by default. `state` is accepted and not applied: both clients send `state=all`, which on
# GitHub serves every issue, as here (GitHub's default, `open`, is not modelled).
name: github-bench
description: GitHub issues at scale, for the end-to-end benchmark.
auth: {{ scheme: bearer, token: {TOKEN} }}
error_body: {{ message_key: message, status_key: status, extra: {{ documentation_url: "https://docs.github.com/rest" }} }}
endpoints:
  - name: issues
    path: /repos/{{owner}}/{{repo}}/issues
    corpus: issues.ndjson
    path_fields: {{ owner: repository_owner, repo: repository_name }}
    sort: {{ field: created_at, direction: desc }}
    strict: true
    params:
      state: {{ role: ignored }}
      since: {{ role: filter, field: updated_at, op: gte }}
      sort: {{ role: sort_field, values: {{ created: created_at, updated: updated_at, comments: comments }} }}
      direction: {{ role: sort_direction, default: desc }}
      page: {{ role: page }}
      per_page: {{ role: page_size, default: 30, max: 100 }}
    pagination: {{ style: link_header }}
faults:
  # The latency-bound scenario: every request answered 50 ms late.
  latency:
    seed: 1
    rules:
      - {{ latency_ms: 50 }}
"#,
        records = args.records,
        seed = args.seed,
        repos = args.repos,
        ies = if args.repos == 1 { "y" } else { "ies" },
        owner = args.owner,
        changes = if args.changes > 0.0 {
            format!(", with {}% of the records changed", args.changes * 100.0)
        } else {
            String::new()
        },
    )
}

fn main() -> Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let path = args.out.join("issues.ndjson");
    let mut file = BufWriter::with_capacity(
        1 << 20,
        File::create(&path).with_context(|| format!("creating {}", path.display()))?,
    );
    // About `changes` of the records, chosen by (seed, i): threshold out of 1,000,000.
    let threshold = (args.changes * 1_000_000.0).round() as u64;
    let (mut pulls, mut changed, mut changed_issues, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut line = String::with_capacity(4096);
    for i in 0..args.records {
        let change = threshold > 0 && Rng::for_record(args.seed, i, 1).below(1_000_000) < threshold;
        line.clear();
        record(&mut line, &args, i, change);
        let is_pull = line.contains(r#""pull_request":{"#);
        pulls += u64::from(is_pull);
        changed += u64::from(change);
        changed_issues += u64::from(change && !is_pull);
        line.push('\n');
        bytes += line.len() as u64;
        file.write_all(line.as_bytes())?;
    }
    file.flush()?;
    std::fs::write(args.out.join("spec.yaml"), spec_yaml(&args))?;
    let repos: Vec<String> = (0..args.repos).map(|r| repo_name(args.repos, r)).collect();
    let manifest = serde_json::json!({
        "records": args.records,
        "pull_requests": pulls,
        "issues": args.records - pulls,
        "changed_records": changed,
        "changed_issues": changed_issues,
        "changes": args.changes,
        "seed": args.seed,
        "owner": args.owner,
        "repos": repos,
        "token": TOKEN,
        "bytes": bytes,
        "corpus": "issues.ndjson",
        "spec": "spec.yaml",
    });
    std::fs::write(
        args.out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    eprintln!(
        "corpus-gen: {} records ({} pull requests, {} changed) in {} ({:.1} MiB)",
        args.records,
        pulls,
        changed,
        args.out.display(),
        bytes as f64 / (1 << 20) as f64
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(CREATED_FROM), "2019-01-01T00:00:00Z");
        assert_eq!(rfc3339(UPDATED_CAP), "2025-06-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    }
}
