//! Where the connections file is looked for.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use lakeflow_spec::{Connections, Error, find_connections_file};

/// A connections file at `path` defining one connection named after `tag`.
fn write(path: &Path, tag: &str) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("[connections.{tag}]\nsource = \"{tag}\"\n")).unwrap();
    path.to_owned()
}

/// An environment holding exactly `vars`.
fn env(vars: &[(&str, &Path)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.display().to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn first_file_found_wins_in_order() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let explicit = write(&r.join("explicit.toml"), "explicit");
    let spec_dir = r.join("specs");
    let beside = write(&spec_dir.join("lakeflow.toml"), "beside");
    let from_var = write(&r.join("var.toml"), "var");
    let xdg = r.join("xdg");
    let xdg_file = write(&xdg.join("lakeflow/lakeflow.toml"), "xdg");
    let home = r.join("home");
    let home_file = write(&home.join(".config/lakeflow/lakeflow.toml"), "home");
    let all = env(&[
        ("LAKEFLOW_CONFIG", &from_var),
        ("XDG_CONFIG_HOME", &xdg),
        ("HOME", &home),
    ]);

    let find =
        |explicit: Option<&Path>, dir: Option<&Path>, env: &dyn Fn(&str) -> Option<String>| {
            find_connections_file(explicit, dir, env).unwrap()
        };
    assert_eq!(
        find(Some(&explicit), Some(&spec_dir), &all),
        Some(explicit.clone())
    );
    assert_eq!(find(None, Some(&spec_dir), &all), Some(beside));
    assert_eq!(
        find(None, Some(r), &all),
        Some(from_var.clone()),
        "no lakeflow.toml beside the spec"
    );
    assert_eq!(find(None, None, &all), Some(from_var.clone()));
    let no_var = env(&[("XDG_CONFIG_HOME", &xdg), ("HOME", &home)]);
    assert_eq!(find(None, None, &no_var), Some(xdg_file));
    let empty_var = env(&[("LAKEFLOW_CONFIG", Path::new("")), ("HOME", &home)]);
    assert_eq!(
        find(None, None, &empty_var),
        Some(home_file.clone()),
        "empty counts as unset"
    );
    assert_eq!(find(None, None, &env(&[("HOME", &home)])), Some(home_file));
    // XDG_CONFIG_HOME set but without the file: no fallback to HOME.
    let empty_xdg = env(&[("XDG_CONFIG_HOME", &r.join("nothing")), ("HOME", &home)]);
    assert_eq!(find(None, None, &empty_xdg), None);
    assert_eq!(find(None, None, &env(&[])), None);

    let loaded = Connections::load_with_env(None, Some(&spec_dir), &all).unwrap();
    assert_eq!(loaded.names().collect::<Vec<_>>(), ["beside"]);
    assert_eq!(
        loaded.origin(),
        Some(
            spec_dir
                .join("lakeflow.toml")
                .display()
                .to_string()
                .as_str()
        )
    );
}

#[test]
fn named_files_must_exist_and_no_file_is_fine() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("missing.toml");
    let err = find_connections_file(Some(&missing), None, env(&[])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingConnectionsFile {
                via: "given explicitly",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("missing.toml"), "{err}");

    let err = Connections::load_with_env(
        None,
        Some(root.path()),
        env(&[("LAKEFLOW_CONFIG", &missing)]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "connections file `{}` (named by $LAKEFLOW_CONFIG) does not exist",
            missing.display()
        )
    );

    let none =
        Connections::load_with_env(None, Some(root.path()), env(&[("HOME", root.path())])).unwrap();
    assert!(none.is_empty());
    assert_eq!(none.origin(), None);
}

#[test]
fn load_reports_errors_in_the_found_file() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("lakeflow.toml");
    fs::write(&path, "[connections.a]\nsource = \"s\"\n[other]\n").unwrap();
    let err = Connections::load(Some(&path), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: unknown key `other` (expected one of connections)",
            path.display()
        )
    );
}
