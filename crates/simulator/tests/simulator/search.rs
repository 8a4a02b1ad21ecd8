//! HubSpot-style search: filters on properties (instants given in milliseconds), sorts, paging
//! by `after`, the cap on how far one query pages, archived records left out, and the index lag;
//! and the associations batch read that gives what search results leave out.

use serde_json::{Value, json};

use super::{call, start_inline};

const SPEC: &str = r#"
name: search
now: "2025-06-01T00:00:00Z"
endpoints:
  - path: /crm/v3/objects/contacts/search
    method: POST
    corpus: contacts.json
    search: { max_results: 6, default_limit: 4, max_limit: 5, lag: { field: updatedAt, seconds: 60 } }
"#;

/// Twelve contacts: ids 1..=12, modified a minute apart from 10:00, ids 5, 6 and 7 in the same
/// second; 9 archived; 12 changed within the lag.
fn contacts() -> String {
    let records: Vec<Value> = (1..=12)
        .map(|id: u32| {
            let minute = match id {
                6 | 7 => 5,
                12 => 0,
                other => other,
            };
            let modified = if id == 12 {
                "2025-05-31T23:59:30.000Z".to_owned()
            } else {
                format!("2025-05-20T10:{minute:02}:00.000Z")
            };
            json!({
                "id": id.to_string(),
                "properties": {"email": format!("c{id}@brightline.test"), "lastmodifieddate": modified},
                "updatedAt": modified,
                "archived": id == 9,
            })
        })
        .collect();
    serde_json::to_string(&records).unwrap()
}

fn search(sim: &lakeflow_simulator::RunningSimulator, body: &Value) -> super::Reply {
    call(
        "POST",
        &sim.url("/crm/v3/objects/contacts/search"),
        &[("Content-Type", "application/json")],
        Some(&body.to_string()),
    )
}

fn ids(reply: &super::Reply) -> Vec<String> {
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn filters_sorts_and_pages_up_to_the_cap() {
    let contacts = contacts();
    let sim = start_inline(SPEC, &[("contacts.json", &contacts)]);
    // At or after 10:03 (in milliseconds), oldest first: 3, 4, then 5, 6, 7 (one second,
    // ordered by id), 8, 10, 11. Archived 9 and lagging 12 are not found.
    let since = 1_747_735_380_000_i64; // 2025-05-20T10:03:00Z
    let body = |after: Option<&str>| {
        json!({
            "filterGroups": [{"filters": [
                {"propertyName": "lastmodifieddate", "operator": "GTE", "value": since.to_string()}
            ]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "limit": 4,
            "after": after,
        })
    };
    let first = search(&sim, &body(None));
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["total"], 8);
    assert_eq!(ids(&first), ["3", "4", "5", "6"]);
    assert_eq!(first.body["paging"]["next"]["after"], "4");
    let second = search(&sim, &body(Some("4")));
    assert_eq!(ids(&second), ["7", "8"], "the page stops at the cap of 6");
    assert!(
        second.body.get("paging").is_none(),
        "no paging past the cap"
    );
    let past = search(&sim, &body(Some("6")));
    assert_eq!(past.status, 400);

    // Newest first by the short form, and a filter group OR-ed with another.
    let newest = search(
        &sim,
        &json!({
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": "c1@brightline.test"}]},
                {"filters": [{"propertyName": "email", "operator": "IN", "values": ["c2@brightline.test", "c11@brightline.test"]}]}
            ],
            "sorts": ["-lastmodifieddate"],
        }),
    );
    assert_eq!(ids(&newest), ["11", "2", "1"]);
    let unknown = search(
        &sim,
        &json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "x"}]}]}),
    );
    assert_eq!(unknown.status, 400);
}

#[test]
fn the_hubspot_connector_spec_searches_its_corpus() {
    // The spec issue 19's connector reads: OAuth tokens, and a search finding the bulk import's
    // five contacts that share one `lastmodifieddate` (given in milliseconds, as HubSpot takes it).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../connectors/hubspot/simulator/spec.yaml");
    let sim = lakeflow_simulator::Simulator::load(&path)
        .expect("the HubSpot spec loads")
        .start()
        .unwrap();
    let token = call(
        "POST",
        &sim.url("/oauth/v1/token"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(
            "grant_type=refresh_token&refresh_token=rt-hubspot-conformance-1\
             &client_id=lakeflow-hubspot-test&client_secret=lakeflow-conformance-secret-7f3a",
        ),
    );
    let bearer = format!("Bearer {}", token.body["access_token"].as_str().unwrap());
    let at = 1_726_581_731_406_i64; // 2024-09-17T14:02:11.406Z
    let body = json!({
        "filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "BETWEEN",
             "value": at.to_string(), "highValue": at.to_string()}
        ]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "limit": 100,
    });
    let found = call(
        "POST",
        &sim.url("/crm/v3/objects/contacts/search"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        Some(&body.to_string()),
    );
    assert_eq!(found.status, 200, "{:?}", found.body);
    assert_eq!(ids(&found), ["5121", "5122", "5123", "5124", "5125"]);
    // Search results carry no associations, as on HubSpot (`omit`)...
    let results = found.body["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r.get("associations").is_none()));
    // ...the associations batch read has them: ids as numbers, inputs without any as errors.
    let links = call(
        "POST",
        &sim.url("/crm/v4/associations/contacts/companies/batch/read"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        Some(&json!({"inputs": [{"id": "5101"}, {"id": "5999"}]}).to_string()),
    );
    assert_eq!(links.status, 207, "{:?}", links.body);
    assert_eq!(links.body["results"][0]["from"]["id"], json!("5101"));
    assert_eq!(links.body["results"][0]["to"][0]["toObjectId"], json!(8801));
    assert_eq!(links.body["numErrors"], json!(1));
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"id": i.to_string()})).collect();
    let refused = call(
        "POST",
        &sim.url("/crm/v4/associations/contacts/companies/batch/read"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        Some(&json!({ "inputs": too_many }).to_string()),
    );
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    // The list's `properties=` (role `select`) sends only the properties asked for.
    let listed = call(
        "GET",
        &sim.url("/crm/v3/objects/contacts?limit=3&properties=email,firstname&properties=city"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    for contact in listed.body["results"].as_array().unwrap() {
        let mut keys: Vec<&String> = contact["properties"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["city", "email", "firstname"], "{contact}");
    }
    // A created contact repeats its new id as `hs_object_id` (`write.id_copies`), which search
    // filters and sorts ties by.
    let created = call(
        "POST",
        &sim.url("/crm/v3/objects/contacts"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        Some(&json!({"properties": {"email": "new@example.com"}}).to_string()),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        created.body["properties"]["hs_object_id"], created.body["id"],
        "{:?}",
        created.body
    );
}
