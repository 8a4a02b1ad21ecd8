//! HubSpot's search pages through at most 10,000 results per query: a table with more is read
//! by restarting the query from the last value delivered. Here the 10,000th result falls inside
//! a run of contacts modified in the same millisecond.

use chrono::{DateTime, TimeDelta};
use lakeflow_connect::ConnectionOptions;
use lakeflow_hubspot::{HubSpotConnector, SIMULATOR};
use lakeflow_kit::time::format_ts;
use lakeflow_simulator::Simulator;
use serde_json::{Value, json};

use crate::common::{Feed, batch, drain, ids, options};

/// Contacts' search and properties only (so no associations are read); no auth (a private app
/// token is sent and ignored).
const SPEC: &str = r#"
name: hubspot-cap
endpoints:
  - name: contacts properties
    path: /crm/v3/properties/contacts
    corpus: properties_contacts.json
    records_key: results
  - name: contacts search
    path: /crm/v3/objects/contacts/search
    method: POST
    corpus: contacts.json
    search: { max_results: 10000, default_limit: 10, max_limit: 200 }
"#;

const CONTACTS: usize = 10_050;
/// Positions (0-based, in search order) that share one `lastmodifieddate`: 9,996..=10,004.
const TIE: std::ops::RangeInclusive<usize> = 9_996..=10_004;

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

#[test]
fn a_table_past_the_cap_is_read_whole_with_a_tie_on_the_boundary() {
    let corpus = contacts();
    let text = serde_json::to_string(&corpus).unwrap();
    let properties = SIMULATOR
        .files
        .iter()
        .find(|(name, _)| *name == "properties_contacts.json")
        .unwrap()
        .1;
    let sim = Simulator::from_embedded(
        SPEC,
        &[
            ("contacts.json", &text),
            ("properties_contacts.json", properties),
        ],
    )
    .unwrap()
    .start()
    .unwrap();
    let mut connection: ConnectionOptions = [
        ("base_url", sim.base_url()),
        ("search_requests_per_second", "100000".to_owned()),
    ]
    .into_iter()
    .collect();
    connection.insert_secret("access_token", "pat-na1-test");
    let hubspot = HubSpotConnector::new(&connection).unwrap();
    // No lookback, and a batch larger than the cap: the first query stops at its 10,000th
    // result, inside the tie, and the next read restarts from the tie's value.
    let read = options(&[
        ("lookback_seconds", "0"),
        ("max_records_per_batch", "20000"),
        ("associations", "none"),
    ]);
    let (first, offset) = batch(&hubspot, "contacts", Feed::Records, None, &read).unwrap();
    assert_eq!(
        first.len(),
        10_000,
        "one query serves at most 10,000 results"
    );
    let offset = offset.unwrap();
    assert_eq!(
        offset["keys_at_cursor"],
        json!(["309996", "309997", "309998", "309999"]),
        "the tie's members delivered so far: {offset:?}"
    );
    let (rest, _) = drain(&hubspot, "contacts", Feed::Records, Some(offset), &read);
    let expected: Vec<String> = corpus
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let mut records = first;
    records.extend(rest);
    assert_eq!(
        ids(&records),
        expected,
        "every contact exactly once, in search order"
    );
}
