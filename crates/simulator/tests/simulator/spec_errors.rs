//! Spec errors name the file, the line, the endpoint and the key.

use lakeflow_simulator::{Error, Simulator};

use super::{fake, fake_dir};

const ROWS: (&str, &str) = ("rows.json", r#"[{"id": 1}]"#);

fn error_of(spec: &str) -> String {
    Simulator::from_embedded(spec, &[ROWS])
        .unwrap_err()
        .to_string()
}

#[test]
fn unknown_keys_are_rejected_at_every_level() {
    let top = error_of("name: x\nendpoint: []\n");
    assert!(
        top.starts_with("<embedded spec>:2: unknown field `endpoint`, expected one of"),
        "{top}"
    );

    let endpoint = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    record_key: data\n",
    );
    assert_eq!(
        endpoint.split(", expected").next().unwrap(),
        "<embedded spec>:5: endpoint `GET /rows`: unknown field `record_key`"
    );

    let param = error_of(
        "name: x\nendpoints:\n  - name: rows\n    path: /rows\n    corpus: rows.json\n    params:\n      since: { role: filter, field: id, opp: gte }\n",
    );
    assert!(
        param.starts_with(
            "<embedded spec>:7: endpoint `rows`, key `params.since`: unknown field `opp`"
        ),
        "{param}"
    );

    let pagination = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    records_key: r\n    params:\n      c: { role: cursor }\n    pagination: { style: cursor, next: n }\n",
    );
    assert!(
        pagination.contains("key `pagination`: unknown field `next`"),
        "{pagination}"
    );

    let fault = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\nfaults:\n  bad:\n    rules:\n      - { status: 500, rat: 0.5 }\n",
    );
    assert!(
        fault.starts_with("<embedded spec>:8: fault profile `bad`, rule 1: unknown field `rat`"),
        "{fault}"
    );
}

#[test]
fn unknown_roles_ops_and_styles_list_the_known_ones() {
    let role = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    params:\n      q: { role: filtr, field: id }\n",
    );
    assert!(
        role.contains("key `params.q`: unknown role `filtr`; known roles: filter, sort_field"),
        "{role}"
    );
    let op = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    params:\n      q: { role: filter, field: id, op: like }\n",
    );
    assert!(
        op.contains("unknown filter op `like`; expected one of eq, ne, gt, gte, lt, lte, in"),
        "{op}"
    );
    let style = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    pagination: { style: pages }\n",
    );
    assert!(
        style.contains(
            "unknown pagination style `pages`; known styles: none, page_number, link_header"
        ),
        "{style}"
    );
}

#[test]
fn inconsistent_endpoints_are_explained() {
    let no_page = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    pagination: { style: page_number }\n",
    );
    assert!(
        no_page.contains("reads a parameter with role `page`; declare one"),
        "{no_page}"
    );
    let no_key = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    params:\n      c: { role: cursor }\n    pagination: { style: cursor }\n",
    );
    assert!(no_key.contains("needs `records_key`"), "{no_key}");
    let no_single = error_of(
        "name: x\nendpoints:\n  - path: /rows/{id}\n    method: DELETE\n    corpus: rows.json\n",
    );
    assert!(
        no_single.contains("endpoint `DELETE /rows/{id}`: a DELETE endpoint needs `single:`"),
        "{no_single}"
    );
    let twice = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n  - path: /rows/\n    corpus: rows.json\n",
    );
    assert!(
        twice.contains("is already served by endpoint `GET /rows`") || twice.contains("used twice"),
        "{twice}"
    );
    let path_field = error_of(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n    path_fields: { owner: o }\n",
    );
    assert!(
        path_field.contains("`owner` is not a parameter of path `/rows`"),
        "{path_field}"
    );
    let yaml = error_of("name: x\nendpoints: [\n");
    assert!(yaml.starts_with("<embedded spec>:"), "{yaml}");
}

#[test]
fn missing_corpus_files_are_named() {
    let embedded = error_of("name: x\nendpoints:\n  - path: /rows\n    corpus: missing.json\n");
    assert!(
        embedded.contains(
            "key `corpus`: corpus file `missing.json` is not among the embedded files (rows.json)"
        ),
        "{embedded}"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "name: x\nendpoints:\n  - path: /rows\n    corpus: gone.json\n",
    )
    .unwrap();
    let error = Simulator::load(&spec).unwrap_err().to_string();
    let expected_path = dir.path().join("gone.json");
    assert!(
        error.starts_with(&format!("{}:4: ", spec.display())),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "cannot read corpus file `{}`",
            expected_path.display()
        )),
        "{error}"
    );
    std::fs::write(dir.path().join("gone.json"), "[1, 2]").unwrap();
    let error = Simulator::load(&spec).unwrap_err().to_string();
    assert!(
        error.contains("corpus file `gone.json`: element 0 is not an object"),
        "{error}"
    );
    let error = Simulator::load(&dir.path().join("nothing.yaml")).unwrap_err();
    assert!(matches!(error, Error::Io { .. }));
}

#[test]
fn unknown_fault_profiles_list_the_known_ones() {
    let error = fake().with_fault_profile("chaos").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown fault profile `chaos`; known profiles: flaky, hostile, users_down"
    );
    let none = Simulator::from_embedded(
        "name: x\nendpoints:\n  - path: /rows\n    corpus: rows.json\n",
        &[ROWS],
    )
    .unwrap()
    .with_fault_profile("flaky")
    .unwrap_err();
    assert!(
        none.to_string()
            .contains("the spec has no `faults:` section"),
        "{none}"
    );
}

#[test]
fn the_fake_spec_embeds_like_a_binary_would() {
    let read = |name: &str| std::fs::read_to_string(fake_dir().join(name)).unwrap();
    let names = [
        "users.json",
        "issues.json",
        "events.json",
        "messages.ndjson",
        "customers.json",
        "contacts.json",
        "tickets.json",
        "deleted_tickets.json",
    ];
    let contents: Vec<String> = names.iter().map(|n| read(n)).collect();
    let files: Vec<(&str, &str)> = names
        .iter()
        .copied()
        .zip(contents.iter().map(String::as_str))
        .collect();
    let sim = Simulator::from_embedded(&read("spec.yaml"), &files).unwrap();
    assert_eq!(sim.name(), "fake");
    assert_eq!(sim.fault_profiles(), ["flaky", "hostile", "users_down"]);
}
