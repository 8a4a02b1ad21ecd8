//! Snapshot tables: repositories of an organization or of the token's user, and the branches and
//! people of a repository keyed by `owner` and `repo`.

use lakeflow_connect::{LakeflowConnect, TableOptions};
use serde_json::json;

use crate::common::{connector, corpus, read_all, rover, rover_count, simulator};

#[test]
fn repositories_of_an_organization_or_of_the_user() {
    let sim = simulator(None);
    let github = connector(&sim);
    let mine = read_all(&github, "repositories", None, &TableOptions::new());
    assert_eq!(mine.records().count(), corpus("repositories.json").len());
    assert_eq!(mine.offsets.last(), Some(&None), "a snapshot has no offset");
    let org = TableOptions::from([
        ("org".to_owned(), "acme-robotics".to_owned()),
        ("per_page".to_owned(), "4".to_owned()),
    ]);
    let theirs = read_all(&github, "repositories", None, &org);
    let org_repos = corpus("repositories.json")
        .iter()
        .filter(|r| r["owner"]["login"] == "acme-robotics")
        .count();
    assert_eq!(theirs.records().count(), org_repos);
    assert!(
        org_repos < corpus("repositories.json").len(),
        "the user's own repos are left out"
    );
    assert!(
        theirs
            .records()
            .all(|r| r["owner"]["login"] == "acme-robotics")
    );
    let paths: Vec<String> = sim.request_log().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.contains(&"/user/repos".to_owned())
            && paths.contains(&"/orgs/acme-robotics/repos".to_owned())
    );
}

#[test]
fn branches_and_people_carry_their_key_columns() {
    let sim = simulator(None);
    let github = connector(&sim);
    for (table, file) in [
        ("branches", "branches.json"),
        ("collaborators", "collaborators.json"),
        ("assignees", "assignees.json"),
    ] {
        let run = read_all(&github, table, None, &rover(&[("per_page", "7")]));
        let rover_records = rover_count(file);
        assert!(
            rover_records < corpus(file).len(),
            "{file}: other repositories too"
        );
        assert_eq!(run.records().count(), rover_records, "{table}");
        for record in run.records() {
            assert_eq!(
                (&record["owner"], &record["repo"]),
                (&json!("acme-robotics"), &json!("rover"))
            );
            assert_eq!(record["repository_name"], "rover");
        }
        let keys = github
            .read_table_metadata(table, &rover(&[]))
            .unwrap()
            .primary_keys;
        assert_eq!(keys[..2], ["owner", "repo"]);
    }
    // The streamed snapshot fetches pages only as records are pulled.
    let before = sim.request_log().len();
    let mut stream = github
        .read_table("branches", None, &rover(&[("per_page", "3")]))
        .unwrap()
        .records;
    stream.next().unwrap().unwrap();
    assert_eq!(sim.request_log().len() - before, 1);
}
