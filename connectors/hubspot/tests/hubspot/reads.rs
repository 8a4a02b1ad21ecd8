//! Reads against the shipped corpus: what a first read delivers and in which shape, the
//! lookback, OAuth tokens renewed mid-read, a custom object, the `properties` option, and a
//! private app's token.

use lakeflow_connect::LakeflowConnect;
use lakeflow_connect::arrow_schema::DataType;
use lakeflow_hubspot::{HubSpotConnector, SIMULATOR};
use lakeflow_simulator::Simulator;
use serde_json::{Value, json};

use crate::common::{
    Feed, batch, connection, corpus, corpus_ids, drain, edited, ids, options, simulator,
};

/// The distinct ids, sorted: with the default lookback, the read after the last one that
/// found something delivers the newest records again (the engine's upsert takes them once).
fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn contacts_come_typed_with_their_associations_and_archived_ones_as_deletions() {
    let sim = simulator();
    let hubspot = HubSpotConnector::new(&connection(&sim)).unwrap();
    let (records, _) = drain(&hubspot, "contacts", Feed::Records, None, &options(&[]));
    assert_eq!(sorted(ids(&records)), corpus_ids("contacts.json", false));
    let olivia = records.iter().find(|r| r["id"] == "5101").unwrap();
    let properties = &olivia["properties"];
    // Numbers are numbers, ms-epoch instants RFC 3339, empty values null.
    assert_eq!(properties["num_associated_deals"], json!(3.0));
    assert_eq!(properties["last_demo_at"], json!("2024-03-18T08:02:43Z"));
    assert_eq!(properties["hs_lead_status"], Value::Null);
    // Associated ids, one column per object as the original has them.
    assert_eq!(olivia["companies"], json!(["8801"]));
    assert_eq!(
        olivia["deals"],
        json!(["190344001", "190344014", "190344027"])
    );
    assert!(olivia.get("tickets").is_none());
    // A first read lists them by id.
    let listed = ids(&records);
    assert!(listed.is_sorted(), "{listed:?}");
    let (deleted, _) = drain(&hubspot, "contacts", Feed::Deletes, None, &options(&[]));
    assert_eq!(sorted(ids(&deleted)), ["5114", "5129", "5151", "5158"]);
    let fields: Vec<&String> = deleted[0].keys().collect();
    assert_eq!(fields, ["archived", "archivedAt", "id", "updatedAt"]);
    // A deletion is ordered by its archive time.
    assert_eq!(deleted[0]["updatedAt"], deleted[0]["archivedAt"]);
}

/// The contacts corpus with contact `id` moved to `at` (or left out), as another simulator.
fn contacts_with(id: &str, at: Option<&str>) -> String {
    let mut contacts: Vec<Value> = corpus("contacts.json").into_values().collect();
    contacts.retain(|c| c["id"] != id || at.is_some());
    for contact in contacts.iter_mut().filter(|c| c["id"] == id) {
        contact["updatedAt"] = json!(at);
        contact["properties"]["lastmodifieddate"] = json!(at);
    }
    serde_json::to_string(&contacts).unwrap()
}

fn serve_contacts(contacts: &str) -> lakeflow_simulator::RunningSimulator {
    let files: Vec<(&str, &str)> = SIMULATOR
        .files
        .iter()
        .map(|(name, text)| {
            (
                *name,
                if *name == "contacts.json" {
                    contacts
                } else {
                    *text
                },
            )
        })
        .collect();
    Simulator::from_embedded(SIMULATOR.spec, &files)
        .unwrap()
        .start()
        .unwrap()
}

#[test]
fn the_lookback_finds_a_change_the_search_index_had_not_yet_when_a_newer_one_was_read() {
    // Contact 5139 is changed ten seconds before the newest contact (5106, at
    // 02:53:01.257), but HubSpot's index has it only after a read has seen 5106.
    let late = "2025-06-27T02:52:51.257Z";
    let before = serve_contacts(&contacts_with("5139", None));
    let hubspot = HubSpotConnector::new(&connection(&before)).unwrap();
    // From a date, the first read is a search too.
    let from_2024 = options(&[("start_date", "2024-01-01")]);
    let (_, offsets) = drain(&hubspot, "contacts", Feed::Records, None, &from_2024);
    let caught_up = offsets.last().cloned().unwrap();
    assert_eq!(caught_up["cursor"], json!("2025-06-27T02:53:01.257Z"));
    let after = serve_contacts(&contacts_with("5139", Some(late)));
    let hubspot = HubSpotConnector::new(&connection(&after)).unwrap();
    // By default the search asks again 30 seconds before the position.
    let (found, _) = drain(
        &hubspot,
        "contacts",
        Feed::Records,
        Some(caught_up.clone()),
        &options(&[]),
    );
    assert!(
        ids(&found).contains(&"5139".to_owned()),
        "{:?}",
        ids(&found)
    );
    // Without lookback it would be lost.
    let none = options(&[("lookback_seconds", "0")]);
    let (missed, _) = drain(&hubspot, "contacts", Feed::Records, Some(caught_up), &none);
    assert!(missed.is_empty(), "{:?}", ids(&missed));
}

#[test]
fn access_tokens_that_stop_working_mid_read_are_renewed() {
    // Each access token serves three requests; the read needs about ten.
    let sim = edited(&[(
        "token_lifetime_seconds: 1800",
        "token_lifetime_seconds: 1800\n  token_uses: 3",
    )]);
    let hubspot = HubSpotConnector::new(&connection(&sim)).unwrap();
    let small_pages = options(&[("per_page", "7")]);
    let (records, _) = drain(&hubspot, "contacts", Feed::Records, None, &small_pages);
    assert_eq!(sorted(ids(&records)), corpus_ids("contacts.json", false));
    let grants = sim.oauth().unwrap().grants();
    assert!(grants >= 3, "{grants} access tokens");
}

#[test]
fn a_custom_object_is_a_table_by_its_name() {
    let sim = simulator();
    let hubspot = HubSpotConnector::new(&connection(&sim)).unwrap();
    let tables = hubspot.list_tables().unwrap();
    assert_eq!(
        tables[11..],
        ["robots", "owners", "deal_pipelines", "ticket_pipelines"]
    );
    let schema = hubspot.get_table_schema("robots", &options(&[])).unwrap();
    let DataType::Struct(properties) = schema.field_with_name("properties").unwrap().data_type()
    else {
        panic!("properties is not a struct: {schema:?}");
    };
    assert!(properties.find("serial_number").is_some(), "{properties:?}");
    let (robots, _) = drain(&hubspot, "robots", Feed::Records, None, &options(&[]));
    assert_eq!(sorted(ids(&robots)), corpus_ids("robots.json", false));
    let heartbeat = robots
        .iter()
        .filter_map(|r| r["properties"]["last_heartbeat_at"].as_str())
        .next()
        .unwrap();
    assert!(
        heartbeat.ends_with('Z') && heartbeat.contains('T'),
        "{heartbeat}"
    );
    let (gone, _) = drain(&hubspot, "robots", Feed::Deletes, None, &options(&[]));
    assert_eq!(ids(&gone), ["7003008"]);
    // Its fully qualified name reads the same object.
    let (same, _) = drain(
        &hubspot,
        "p44120311_robots",
        Feed::Records,
        None,
        &options(&[]),
    );
    assert_eq!(sorted(ids(&same)), sorted(ids(&robots)));
}

#[test]
fn the_properties_option_narrows_the_schema_and_the_request() {
    let sim = simulator();
    let hubspot = HubSpotConnector::new(&connection(&sim)).unwrap();
    let two = options(&[("properties", "email, lifecyclestage")]);
    let schema = hubspot.get_table_schema("contacts", &two).unwrap();
    let DataType::Struct(properties) = schema.field_with_name("properties").unwrap().data_type()
    else {
        panic!("properties is not a struct");
    };
    let names: Vec<&str> = properties.iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["email", "lifecyclestage"]);
    let (records, _) = batch(&hubspot, "contacts", Feed::Records, None, &two).unwrap();
    for record in &records {
        let keys: Vec<&String> = record["properties"].as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["email", "lifecyclestage"].contains(&k.as_str())),
            "{keys:?}"
        );
    }
    let err = hubspot
        .get_table_schema("contacts", &options(&[("properties", "email,fax_number")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`fax_number`") && err.contains("`contacts`"),
        "{err}"
    );
    // The original's names for the same: `include_properties`, and `exclude_properties`.
    let names = |options: &lakeflow_connect::TableOptions| -> Vec<String> {
        let schema = hubspot.get_table_schema("contacts", options).unwrap();
        let DataType::Struct(fields) = schema.field_with_name("properties").unwrap().data_type()
        else {
            panic!("properties is not a struct");
        };
        fields.iter().map(|f| f.name().clone()).collect()
    };
    let included = names(&options(&[("include_properties", "email, lifecyclestage")]));
    assert_eq!(included, ["email", "lifecyclestage"]);
    let all = names(&options(&[]));
    let rest = names(&options(&[("exclude_properties", "email")]));
    assert_eq!(rest.len(), all.len() - 1);
    assert!(!rest.contains(&"email".to_owned()));
}

#[test]
fn a_private_apps_token_is_sent_as_bearer() {
    let oauth = SIMULATOR
        .spec
        .split("\noauth:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap();
    let sim = edited(&[(
        &format!("\noauth:\n{oauth}\n"),
        "\nauth: { scheme: bearer, token: pat-na1-11aa22bb }\n",
    )]);
    let mut options_ = connection(&sim);
    for name in ["client_id", "client_secret", "refresh_token"] {
        options_.remove(name);
    }
    options_.insert_secret("access_token", "pat-na1-11aa22bb");
    let hubspot = HubSpotConnector::new(&options_).unwrap();
    let (deals, _) = drain(&hubspot, "deals", Feed::Records, None, &options(&[]));
    assert_eq!(sorted(ids(&deals)), corpus_ids("deals.json", false));
    let (owners, _) = drain(&hubspot, "owners", Feed::Records, None, &options(&[]));
    assert_eq!(owners.len(), corpus("owners.json").len());
    let (pipelines, _) = batch(
        &hubspot,
        "deal_pipelines",
        Feed::Records,
        None,
        &options(&[]),
    )
    .unwrap();
    assert_eq!(ids(&pipelines), ["default", "8723001"]);
}

#[test]
fn associations_come_from_the_associations_api_and_the_option_narrows_them() {
    let sim = simulator();
    let hubspot = HubSpotConnector::new(&connection(&sim)).unwrap();
    // Search results carry no associations (as on HubSpot): these come from batch reads.
    let (deals, _) = batch(&hubspot, "deals", Feed::Records, None, &options(&[])).unwrap();
    // Amounts (shown with a currency symbol) are exact decimals, passed on as text.
    let schema = hubspot.get_table_schema("deals", &options(&[])).unwrap();
    let DataType::Struct(properties) = schema.field_with_name("properties").unwrap().data_type()
    else {
        panic!("properties is not a struct");
    };
    let amount = properties.find("amount").unwrap().1;
    assert_eq!(amount.data_type(), &DataType::Decimal128(38, 6));
    let first = deals.iter().find(|d| d["id"] == "190344001").unwrap();
    assert_eq!(
        first["properties"]["amount"],
        json!(corpus("deals.json")["190344001"]["properties"]["amount"])
    );
    let expected = corpus("deals.json");
    for deal in &deals {
        let id = deal["id"].as_str().unwrap();
        // Listed once each, in HubSpot's order.
        let mut contacts: Vec<&str> = Vec::new();
        let links = expected[id]["associations"]["contacts"]["results"].as_array();
        for link in links.into_iter().flatten() {
            let linked = link["id"].as_str().unwrap();
            if !contacts.contains(&linked) {
                contacts.push(linked);
            }
        }
        let read: Vec<&str> = deal
            .get("contacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|id| id.as_str().unwrap())
            .collect();
        assert_eq!(read, contacts, "deal {id}");
    }
    let batch_reads = |sim: &lakeflow_simulator::RunningSimulator| {
        sim.request_log()
            .iter()
            .filter(|r| r.path.starts_with("/crm/v4/associations/deals/"))
            .count()
    };
    // One batch read per associated object for the whole batch.
    assert_eq!(batch_reads(&sim), 3);
    let only = options(&[("associations", "companies")]);
    let (deals, _) = batch(&hubspot, "deals", Feed::Records, None, &only).unwrap();
    assert!(deals.iter().all(|d| d.get("contacts").is_none()));
    assert!(deals.iter().any(|d| d.get("companies").is_some()));
    assert_eq!(batch_reads(&sim), 4);
    let none = options(&[("associations", "none")]);
    let (deals, _) = batch(&hubspot, "deals", Feed::Records, None, &none).unwrap();
    assert!(deals.iter().all(|d| d.get("companies").is_none()));
    assert_eq!(batch_reads(&sim), 4, "`none` asks nothing");
}

#[test]
fn a_first_read_lists_in_batches_that_resume_then_hands_over_to_search() {
    let sim = simulator();
    let hubspot = HubSpotConnector::new(&connection(&sim)).unwrap();
    let small = options(&[("max_records_per_batch", "20")]);
    let (records, offsets) = drain(&hubspot, "contacts", Feed::Records, None, &small);
    // Each contact exactly once, in three batches of the list; then the offset is search's,
    // at the time the list began: nothing is newer for this connector.
    assert_eq!(ids(&records), corpus_ids("contacts.json", false));
    assert!(
        offsets[..2].iter().all(|o| o.contains_key("backfill")),
        "{offsets:?}"
    );
    let last = offsets.last().unwrap().clone();
    assert!(
        last.contains_key("cursor") && !last.contains_key("backfill"),
        "{last:?}"
    );
    let searches = |sim: &lakeflow_simulator::RunningSimulator| {
        sim.request_log()
            .iter()
            .filter(|r| r.path.ends_with("/search"))
            .count()
    };
    assert_eq!(searches(&sim), 0);
    // The next run searches from there.
    let later = chrono::Utc::now() + chrono::TimeDelta::minutes(1);
    let next = HubSpotConnector::new_at(&connection(&sim), later).unwrap();
    let (found, _) = batch(&next, "contacts", Feed::Records, Some(&last), &small).unwrap();
    assert!(found.is_empty(), "{:?}", ids(&found));
    assert_eq!(searches(&sim), 1);
}
