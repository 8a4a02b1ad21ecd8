//! Large portals: HubSpot's search pages through at most 10,000 results per query, which a read
//! asking every page by value never reaches, even across a run of more than a page of contacts
//! modified in the same millisecond (paged by id); and an object with many properties is listed
//! with its properties asked in chunks, so URLs stay short.

use chrono::{DateTime, TimeDelta};
use lakeflow_connect::ConnectionOptions;
use lakeflow_hubspot::{HubSpotConnector, SIMULATOR};
use lakeflow_kit::time::format_ts;
use lakeflow_simulator::Simulator;
use serde_json::{Value, json};

use crate::common::{Feed, batch, drain, ids, options};

/// Contacts' list, search and properties only (so no associations are read); no auth (a private
/// app token is sent and ignored).
const SPEC: &str = r#"
name: hubspot-large
endpoints:
  - name: contacts properties
    path: /crm/v3/properties/contacts
    corpus: properties_contacts.json
    records_key: results
  - name: contacts
    path: /crm/v3/objects/contacts
    corpus: contacts.json
    records_key: results
    sort: { field: id, direction: asc }
    strict: true
    params:
      limit: { role: limit, default: 10, max: 100 }
      after: { role: cursor }
      properties: { role: select, field: properties }
      archived: { role: filter, field: archived, default: false }
    pagination: { style: next_after }
  - name: contacts search
    path: /crm/v3/objects/contacts/search
    method: POST
    corpus: contacts.json
    search: { max_results: 10000, default_limit: 10, max_limit: 200 }
"#;

const CONTACTS: usize = 10_300;
/// Positions (0-based, in search order) that share one `lastmodifieddate`: 300 contacts, more
/// than a page of 200, across the 10,000th result.
const TIE: std::ops::RangeInclusive<usize> = 9_900..=10_199;

/// Contacts modified a millisecond apart, but those of [`TIE`] all at the same millisecond.
fn contacts() -> Vec<Value> {
    let base = DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z")
        .unwrap()
        .to_utc();
    (0..CONTACTS)
        .map(|i| {
            let step = if TIE.contains(&i) { *TIE.start() } else { i };
            let at = format_ts(base + TimeDelta::milliseconds(i64::try_from(step).unwrap()));
            let at = if at.contains('.') {
                at
            } else {
                at.replace('Z', ".000Z")
            };
            json!({
                "id": (300_000 + i).to_string(),
                "properties": {"email": format!("buyer{i}@example.com"), "lastmodifieddate": at,
                    "createdate": at, "hs_object_id": (300_000 + i).to_string()},
                "createdAt": at,
                "updatedAt": at,
                "archived": false,
            })
        })
        .collect()
}

/// The simulator of [`SPEC`] over `contacts` with `properties` defined.
fn serve(contacts: &str, properties: &str) -> lakeflow_simulator::RunningSimulator {
    Simulator::from_embedded(
        SPEC,
        &[
            ("contacts.json", contacts),
            ("properties_contacts.json", properties),
        ],
    )
    .unwrap()
    .start()
    .unwrap()
}

fn connector(sim: &lakeflow_simulator::RunningSimulator) -> HubSpotConnector {
    let mut connection: ConnectionOptions = [
        ("base_url", sim.base_url()),
        ("requests_per_10_seconds", "100000".to_owned()),
        ("search_requests_per_second", "100000".to_owned()),
    ]
    .into_iter()
    .collect();
    connection.insert_secret("access_token", "pat-na1-test");
    HubSpotConnector::new(&connection).unwrap()
}

#[test]
fn a_table_past_the_cap_is_read_whole_across_a_tie_larger_than_a_page() {
    let corpus = contacts();
    let text = serde_json::to_string(&corpus).unwrap();
    let properties = SIMULATOR
        .files
        .iter()
        .find(|(name, _)| *name == "properties_contacts.json")
        .unwrap()
        .1;
    let sim = serve(&text, properties);
    let hubspot = connector(&sim);
    let expected: Vec<String> = corpus
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    // One batch for the whole table, then batches of 250 that stop inside the tie.
    for batch_size in ["20000", "250"] {
        let read = options(&[
            ("lookback_seconds", "0"),
            ("max_records_per_batch", batch_size),
            ("associations", "none"),
            // A first read from a date goes through search.
            ("start_date", "2025-01-01"),
        ]);
        let (first, offset) = batch(&hubspot, "contacts", Feed::Records, None, &read).unwrap();
        let (rest, _) = drain(&hubspot, "contacts", Feed::Records, offset, &read);
        let mut records = first;
        records.extend(rest);
        assert_eq!(
            ids(&records),
            expected,
            "every contact exactly once, in search order (batches of {batch_size})"
        );
    }
    let log = sim.request_log();
    assert!(
        log.iter().all(|r| r.status == Some(200)),
        "no query goes past the cap"
    );
}

/// Custom properties with long names: about 4,900 characters of names in all.
const WIDE: usize = 120;
const WIDE_CONTACTS: usize = 250;

fn wide_name(n: usize) -> String {
    format!("brightline_warehouse_custom_field_{n:03}")
}

#[test]
fn many_properties_are_listed_in_chunks_and_merged() {
    let mut definitions = vec![
        json!({"name": "email", "type": "string"}),
        json!({"name": "lastmodifieddate", "type": "datetime"}),
    ];
    definitions.extend((0..WIDE).map(|n| json!({"name": wide_name(n), "type": "string"})));
    let contacts: Vec<Value> = (0..WIDE_CONTACTS)
        .map(|i| {
            let mut properties = serde_json::Map::new();
            properties.insert("email".to_owned(), json!(format!("c{i}@example.com")));
            properties.insert(
                "lastmodifieddate".to_owned(),
                json!("2025-02-03T04:05:06.789Z"),
            );
            for n in 0..WIDE {
                properties.insert(wide_name(n), json!(format!("{i}-{n}")));
            }
            json!({"id": (400_000 + i).to_string(), "properties": properties,
                "createdAt": "2025-02-03T04:05:06.789Z", "updatedAt": "2025-02-03T04:05:06.789Z",
                "archived": false})
        })
        .collect();
    let sim = serve(
        &serde_json::to_string(&contacts).unwrap(),
        &serde_json::to_string(&definitions).unwrap(),
    );
    let hubspot = connector(&sim);
    let read = options(&[("associations", "none")]);
    let (records, _) = drain(&hubspot, "contacts", Feed::Records, None, &read);
    assert_eq!(records.len(), WIDE_CONTACTS, "each contact once");
    for (i, record) in records.iter().enumerate() {
        let properties = record["properties"].as_object().unwrap();
        assert_eq!(properties.len(), WIDE + 2, "contact {i}");
        assert_eq!(
            properties[&wide_name(WIDE - 1)],
            json!(format!("{i}-{}", WIDE - 1))
        );
    }
    // Three pages of 100, each asked in three chunks of properties (the simulator sends only
    // the properties asked for, as HubSpot does).
    let lists = sim
        .request_log()
        .iter()
        .filter(|r| r.path == "/crm/v3/objects/contacts")
        .count();
    assert_eq!(lists, 3 * 3);
}
