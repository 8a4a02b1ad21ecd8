//! `lakeflow new`: a new connector crate from the template, registered in the workspace.
//!
//! The template lives in `crates/cli/templates/connector/`, embedded at build time; its
//! placeholders are `{{name}}` (`my_api`), `{{Name}}` (`MyApi`), `{{NAME}}` (`MY_API`),
//! `{{kebab}}` (`my-api`) and `{{crate}}` (`lakeflow_my_api`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The connector's name: a lowercase identifier (`zendesk`, `google_sheets`).
    pub name: String,
    /// The workspace to add it to (default: the workspace the current directory is in).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
}

/// The template's files: (path in the new crate, text with placeholders).
const TEMPLATE: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/connector/Cargo.toml.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../templates/connector/README.md"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/connector/src/lib.rs"),
    ),
    (
        "src/client.rs",
        include_str!("../../templates/connector/src/client.rs"),
    ),
    (
        "src/connector.rs",
        include_str!("../../templates/connector/src/connector.rs"),
    ),
    (
        "src/tables.rs",
        include_str!("../../templates/connector/src/tables.rs"),
    ),
    (
        "simulator/spec.yaml",
        include_str!("../../templates/connector/simulator/spec.yaml"),
    ),
    (
        "simulator/items.json",
        include_str!("../../templates/connector/simulator/items.json"),
    ),
    (
        "simulator/categories.json",
        include_str!("../../templates/connector/simulator/categories.json"),
    ),
    (
        "tests/conformance.rs",
        include_str!("../../templates/connector/tests/conformance.rs"),
    ),
];

/// The longest name accepted: it becomes a crate name, a type name and env var prefixes.
const MAX_NAME_LEN: usize = 40;

/// The workspace files that register a connector, relative to the workspace root.
const ROOT_MANIFEST: &str = "Cargo.toml";
const REGISTRY_MANIFEST: &str = "crates/connectors/Cargo.toml";
const REGISTRY_LIB: &str = "crates/connectors/src/lib.rs";

pub fn run(args: &NewArgs) -> Result<()> {
    let root = match &args.workspace {
        Some(dir) => {
            if !is_workspace_root(dir) {
                bail!(
                    "`{}` is not a Cargo workspace: no Cargo.toml with [workspace] there",
                    dir.display()
                );
            }
            dir.clone()
        }
        None => {
            let cwd = std::env::current_dir().context("reading the current directory")?;
            find_workspace_root(&cwd).with_context(|| {
                format!(
                    "no Cargo workspace at or above `{}` (give one with --workspace DIR)",
                    cwd.display()
                )
            })?
        }
    };
    let created = create(&root, &args.name)?;
    println!(
        "created connector `{}` in {}",
        args.name,
        created.dir.display()
    );
    for path in &created.edited {
        println!("registered it in {path}");
    }
    println!(
        "next: cargo run -p lakeflow-cli -- test {}   (offline, against its simulator)",
        args.name
    );
    Ok(())
}

/// What [`create`] wrote.
#[derive(Debug)]
pub struct Created {
    /// The new crate's directory.
    pub dir: PathBuf,
    /// The workspace files it edited, relative to the root.
    pub edited: Vec<&'static str>,
}

/// Creates `connectors/<name>/` under `root` and registers it. Everything is checked and
/// computed before the first write, so a bad name, an existing connector or a workspace whose
/// files lack what is edited changes nothing.
pub fn create(root: &Path, name: &str) -> Result<Created> {
    check_name(name)?;
    let names = Names::new(name);
    let dir = root.join("connectors").join(name);
    if dir.exists() {
        bail!(
            "connector `{name}` already exists: `{}` is there (choose another name, or remove it)",
            dir.display()
        );
    }
    let edits = [
        (
            ROOT_MANIFEST,
            register_in_workspace as fn(&str, &Names) -> Result<String>,
        ),
        (REGISTRY_MANIFEST, register_dependency),
        (REGISTRY_LIB, register_in_registry),
    ];
    let mut edited = Vec::new();
    for (path, edit) in edits {
        let full = root.join(path);
        let text = std::fs::read_to_string(&full)
            .with_context(|| format!("reading `{}`", full.display()))?;
        let new = edit(&text, &names).with_context(|| format!("registering in `{path}`"))?;
        edited.push((path, full, new));
    }
    for (path, text) in TEMPLATE {
        let target = dir.join(path);
        let parent = target.parent().unwrap_or(&dir);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating `{}`", parent.display()))?;
        std::fs::write(&target, names.render(text))
            .with_context(|| format!("writing `{}`", target.display()))?;
    }
    for (_, full, text) in &edited {
        std::fs::write(full, text).with_context(|| format!("writing `{}`", full.display()))?;
    }
    format_sources(&dir);
    Ok(Created {
        dir,
        edited: edited.into_iter().map(|(path, _, _)| path).collect(),
    })
}

/// Lays the new crate's sources out as `cargo fmt` would: how the template's lines wrap and its
/// imports sort depend on the name's length and spelling. Best effort: without `rustfmt` the
/// code still builds, only its layout may differ.
fn format_sources(dir: &Path) {
    let formatted = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(dir.join("src/lib.rs"))
        .arg(dir.join("tests/conformance.rs"))
        .output();
    if !formatted.is_ok_and(|output| output.status.success()) {
        eprintln!(
            "note: rustfmt did not run; `cargo fmt` will lay out `{}`",
            dir.display()
        );
    }
}

/// A connector name is a lowercase identifier: it names a directory, a crate and a module.
pub fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__")
        && name.len() <= MAX_NAME_LEN;
    if !valid {
        bail!(
            "invalid connector name `{name}`: use a lowercase identifier of at most \
             {MAX_NAME_LEN} characters (a-z, 0-9 and single `_` between words, starting with a \
             letter), e.g. `zendesk` or `google_sheets`"
        );
    }
    Ok(())
}

/// The spellings of a name the template uses.
struct Names {
    name: String,
    camel: String,
    upper: String,
    kebab: String,
    krate: String,
}

impl Names {
    fn new(name: &str) -> Self {
        let camel = name
            .split('_')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect();
        Self {
            name: name.to_owned(),
            camel,
            upper: name.to_ascii_uppercase(),
            kebab: name.replace('_', "-"),
            krate: format!("lakeflow_{name}"),
        }
    }

    fn render(&self, template: &str) -> String {
        template
            .replace("{{name}}", &self.name)
            .replace("{{Name}}", &self.camel)
            .replace("{{NAME}}", &self.upper)
            .replace("{{kebab}}", &self.kebab)
            .replace("{{crate}}", &self.krate)
    }

    fn package(&self) -> String {
        format!("lakeflow-{}", self.kebab)
    }
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
}

/// The nearest directory at or above `start` whose Cargo.toml has a `[workspace]` table.
pub fn find_workspace_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| is_workspace_root(dir))
        .map(Path::to_path_buf)
}

/// The root manifest with the crate in `members` and `[workspace.dependencies]`.
fn register_in_workspace(text: &str, names: &Names) -> Result<String> {
    let package = names.package();
    let member = format!("\"connectors/{}\"", names.name);
    let lines: Vec<&str> = text.lines().collect();
    if lines
        .iter()
        .any(|line| line.trim_start().starts_with(&format!("{package} ")))
    {
        bail!("a crate `{package}` is already a workspace dependency");
    }
    if lines
        .iter()
        .any(|line| line.trim().trim_end_matches(',') == member)
    {
        bail!("{member} is already a workspace member");
    }
    let start = lines
        .iter()
        .position(|line| line.trim_start().starts_with("members = ["))
        .context("no `members = [` list")?;
    let end = start
        + lines[start..]
            .iter()
            .position(|line| line.trim() == "]")
            .context("the `members` list does not end with `]` on its own line")?;
    // After the last connector, else at the end of the list.
    let member_at = (start + 1..end)
        .rev()
        .find(|&i| lines[i].trim_start().starts_with("\"connectors/"))
        .map_or(end, |i| i + 1);
    let deps = lines
        .iter()
        .position(|line| line.trim() == "[workspace.dependencies]")
        .context("no [workspace.dependencies] table")?;
    let dep_at = 1
        + (deps + 1..lines.len())
            .take_while(|&i| !lines[i].trim_start().starts_with('['))
            .filter(|&i| {
                lines[i].trim_start().starts_with("lakeflow-") && lines[i].contains("path = ")
            })
            .last()
            .unwrap_or(deps);
    let mut out = Vec::with_capacity(lines.len() + 2);
    for (i, line) in lines.iter().enumerate() {
        if i == member_at {
            out.push(format!("    {member},"));
        }
        out.push((*line).to_owned());
        if i + 1 == dep_at {
            out.push(format!(
                "{package} = {{ path = \"connectors/{}\" }}",
                names.name
            ));
        }
    }
    Ok(join_lines(&out, text))
}

/// The registry crate's manifest with the connector crate as a dependency.
fn register_dependency(text: &str, names: &Names) -> Result<String> {
    let package = names.package();
    let lines: Vec<&str> = text.lines().collect();
    if lines
        .iter()
        .any(|line| line.trim_start().starts_with(&format!("{package}.")))
    {
        bail!("`{package}` is already a dependency");
    }
    let deps = lines
        .iter()
        .position(|line| line.trim() == "[dependencies]")
        .context("no [dependencies] table")?;
    let at = 1
        + (deps + 1..lines.len())
            .take_while(|&i| !lines[i].trim_start().starts_with('['))
            .filter(|&i| lines[i].trim_start().starts_with("lakeflow-"))
            .last()
            .unwrap_or(deps);
    let mut out: Vec<String> = lines.iter().map(|line| (*line).to_owned()).collect();
    out.insert(at, format!("{package}.workspace = true"));
    Ok(join_lines(&out, text))
}

/// The registry's source with the connector crate in its `registry!(...)` list.
fn register_in_registry(text: &str, names: &Names) -> Result<String> {
    let start = text
        .match_indices("registry!(")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text[..i].ends_with('\n'))
        .context("no `registry!(...)` list at the start of a line")?;
    let open = start + "registry!(".len();
    let close = open
        + text[open..]
            .find(");")
            .context("the `registry!(` list does not end with `);`")?;
    let mut crates: Vec<&str> = text[open..close]
        .split(',')
        .map(str::trim)
        .filter(|krate| !krate.is_empty())
        .collect();
    if crates.contains(&names.krate.as_str()) {
        bail!("`{}` is already registered", names.krate);
    }
    crates.push(&names.krate);
    let one_line = format!("registry!({});", crates.join(", "));
    // As rustfmt lays a call out: one line if it fits in 100 columns, else one item a line.
    let list = if one_line.len() <= 100 {
        one_line
    } else {
        let mut list = String::from("registry!(\n");
        for krate in &crates {
            let _ = writeln!(list, "    {krate},");
        }
        list.push_str(");");
        list
    };
    Ok(format!("{}{list}{}", &text[..start], &text[close + 2..]))
}

/// `lines` joined with newlines, ending with one if `original` did.
fn join_lines(lines: &[String], original: &str) -> String {
    let mut text = lines.join("\n");
    if original.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "[workspace]\nmembers = [\n    \"crates/connect\",\n    \"connectors/example\",\n    \"connectors/github\",\n    \"bench\",\n]\n\n[workspace.dependencies]\n# Internal crates.\nlakeflow-connect = { path = \"crates/connect\" }\nlakeflow-github = { path = \"connectors/github\" }\nlakeflow-kit = { path = \"crates/kit\" }\n\nanyhow = \"1\"\n";
    const MANIFEST: &str = "[package]\nname = \"lakeflow-connectors\"\n\n[dependencies]\nlakeflow-connect.workspace = true\nlakeflow-github.workspace = true\n\n[lints]\nworkspace = true\n";
    const LIB: &str = "macro_rules! registry {\n    ($($krate:ident),+ $(,)?) => {};\n}\n\nregistry!(lakeflow_example, lakeflow_github);\n\npub fn find() {}\n";

    #[test]
    fn names_must_be_lowercase_identifiers() {
        for good in ["zendesk", "google_sheets", "s3", "a"] {
            check_name(good).unwrap();
        }
        for bad in [
            "",
            "Zendesk",
            "my-api",
            "1password",
            "_x",
            "x_",
            "a__b",
            "my api",
            "ü",
            "a.b",
        ] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(
                err.contains(&format!("invalid connector name `{bad}`")),
                "{err}"
            );
        }
        check_name(&"a".repeat(MAX_NAME_LEN)).unwrap();
        assert!(check_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn spellings_and_rendering() {
        let names = Names::new("google_sheets");
        assert_eq!(
            names.render("{{name}} {{Name}} {{NAME}} {{kebab}} {{crate}}"),
            "google_sheets GoogleSheets GOOGLE_SHEETS google-sheets lakeflow_google_sheets"
        );
        assert_eq!(names.package(), "lakeflow-google-sheets");
        // Every template file is rendered without a placeholder left over.
        for (path, text) in TEMPLATE {
            let rendered = names.render(text);
            assert!(!rendered.contains("{{"), "{path} keeps a placeholder");
        }
    }

    #[test]
    fn registers_in_the_workspace_manifest() {
        let root = register_in_workspace(ROOT, &Names::new("demo")).unwrap();
        assert!(
            root.contains(
                "    \"connectors/github\",\n    \"connectors/demo\",\n    \"bench\",\n]"
            )
        );
        assert!(root.contains(
            "lakeflow-kit = { path = \"crates/kit\" }\nlakeflow-demo = { path = \"connectors/demo\" }\n\nanyhow"
        ));
        let err = register_in_workspace(&root, &Names::new("demo")).unwrap_err();
        assert!(err.to_string().contains("already"), "{err}");
        // A name that is an existing crate's (`lakeflow-connect`) is refused.
        let err = register_in_workspace(ROOT, &Names::new("connect")).unwrap_err();
        assert!(err.to_string().contains("`lakeflow-connect`"), "{err}");
    }

    #[test]
    fn registers_in_the_registry() {
        let manifest = register_dependency(MANIFEST, &Names::new("demo")).unwrap();
        assert!(manifest.contains(
            "lakeflow-github.workspace = true\nlakeflow-demo.workspace = true\n\n[lints]"
        ));
        let lib = register_in_registry(LIB, &Names::new("demo")).unwrap();
        assert!(lib.contains("\nregistry!(lakeflow_example, lakeflow_github, lakeflow_demo);\n"));
        assert!(lib.ends_with("\n\npub fn find() {}\n"));
        let err = register_in_registry(&lib, &Names::new("demo")).unwrap_err();
        assert!(err.to_string().contains("already registered"), "{err}");
        // A long list is laid out one crate a line, as rustfmt would.
        let long =
            register_in_registry(&lib, &Names::new("a_connector_with_a_rather_long_name")).unwrap();
        assert!(long.contains(
            "\nregistry!(\n    lakeflow_example,\n    lakeflow_github,\n    lakeflow_demo,\n    lakeflow_a_connector_with_a_rather_long_name,\n);\n"
        ));
        // And read back from that layout.
        let again = register_in_registry(&long, &Names::new("zed")).unwrap();
        assert!(again.contains("    lakeflow_zed,\n);"), "{again}");
    }

    fn fake_workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("crates/connectors/src")).unwrap();
        std::fs::create_dir_all(root.join("connectors/github")).unwrap();
        std::fs::write(root.join(ROOT_MANIFEST), ROOT).unwrap();
        std::fs::write(root.join(REGISTRY_MANIFEST), MANIFEST).unwrap();
        std::fs::write(root.join(REGISTRY_LIB), LIB).unwrap();
        dir
    }

    fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
        [ROOT_MANIFEST, REGISTRY_MANIFEST, REGISTRY_LIB]
            .iter()
            .map(|path| {
                let full = root.join(path);
                let text = std::fs::read_to_string(&full).unwrap();
                (full, text)
            })
            .collect()
    }

    #[test]
    fn creates_and_registers_then_refuses_to_overwrite() {
        let dir = fake_workspace();
        let root = dir.path();
        let created = create(root, "demo").unwrap();
        assert_eq!(created.dir, root.join("connectors/demo"));
        for (path, _) in TEMPLATE {
            assert!(created.dir.join(path).is_file(), "{path}");
        }
        let before = snapshot(root);
        let cargo = std::fs::read_to_string(created.dir.join("Cargo.toml")).unwrap();
        let err = create(root, "demo").unwrap_err().to_string();
        assert!(err.contains("connector `demo` already exists"), "{err}");
        assert_eq!(snapshot(root), before);
        let unchanged = std::fs::read_to_string(created.dir.join("Cargo.toml")).unwrap();
        assert_eq!(unchanged, cargo);
        // An existing connector that is not yet a directory of this template: still refused.
        let err = create(root, "github").unwrap_err().to_string();
        assert!(err.contains("connector `github` already exists"), "{err}");
    }

    #[test]
    fn a_workspace_it_cannot_register_in_changes_nothing() {
        let dir = fake_workspace();
        let root = dir.path();
        std::fs::write(root.join(REGISTRY_LIB), "// no registry here\n").unwrap();
        let before = snapshot(root);
        let err = format!("{:#}", create(root, "demo").unwrap_err());
        assert!(err.contains("crates/connectors/src/lib.rs"), "{err}");
        assert!(err.contains("no `registry!(...)` list"), "{err}");
        assert_eq!(snapshot(root), before);
        assert!(!root.join("connectors/demo").exists());
    }

    #[test]
    fn finds_the_workspace_root_above() {
        let dir = fake_workspace();
        let nested = dir.path().join("crates/connectors/src");
        assert_eq!(find_workspace_root(&nested).unwrap(), dir.path());
        // The registry crate's own manifest has no [workspace] table.
        assert!(!is_workspace_root(&dir.path().join("crates/connectors")));
    }
}
