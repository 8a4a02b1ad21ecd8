//! Write-back: changes made through the source are seen by a fresh connector reading from the
//! previous end offset.

use lakeflow_connect::{Record, TableOptions};
use serde_json::json;

use lakeflow_testkit::fixtures::object as record;

use crate::common::{connector, options, quiet_source, read_all};

#[test]
fn inserted_users_and_events_are_read_after_the_previous_end() {
    let source = quiet_source(12);
    let none = TableOptions::new();
    let users_end = read_all(&connector(&source), "users", None, &none, false)
        .end()
        .cloned();
    let events_end = read_all(&connector(&source), "events", None, &none, false)
        .end()
        .cloned();
    let stored = source
        .insert(
            "users",
            record(json!({"user_id": 41, "email": "new@example.com", "name": "New User"})),
        )
        .unwrap();
    assert!(
        stored["updated_at"].is_string(),
        "the source stamps the cursor"
    );
    source
        .insert(
            "events",
            record(json!({"event_id": "evt_00101", "event_type": "click"})),
        )
        .unwrap();
    let fresh = connector(&source);
    let users = read_all(&fresh, "users", users_end, &none, false);
    assert_eq!(users.values("user_id"), [json!(41)]);
    let events = read_all(&fresh, "events", events_end, &none, false);
    assert_eq!(events.values("event_id"), [json!("evt_00101")]);
}

#[test]
fn an_upsert_moves_the_row_to_a_new_cursor() {
    let source = quiet_source(12);
    let none = TableOptions::new();
    let first = read_all(&connector(&source), "users", None, &none, false);
    let end = first.end().cloned();
    let before = first
        .records()
        .find(|u| u["user_id"] == 7)
        .cloned()
        .unwrap();
    let after = source
        .upsert("users", record(json!({"user_id": 7, "country": "NZ"})))
        .unwrap();
    assert_eq!(after["email"], before["email"], "fields not given are kept");
    assert!(after["updated_at"].as_str() > end.as_ref().unwrap()["cursor"].as_str());
    let second = read_all(&connector(&source), "users", end.clone(), &none, false);
    let changed: Vec<&Record> = second.records().collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0]["user_id"].clone(), changed[0]["country"].clone()),
        (json!(7), json!("NZ"))
    );
    assert_eq!(second.end().unwrap()["cursor"], after["updated_at"]);
    assert_ne!(second.end(), end.as_ref());
}

#[test]
fn a_delete_leaves_a_tombstone_in_the_deletes_feed() {
    let source = quiet_source(12);
    let none = TableOptions::new();
    let c = connector(&source);
    let orders_end = read_all(&c, "orders", None, &none, false).end().cloned();
    let deletes_end = read_all(&c, "orders", None, &none, true).end().cloned();
    let victim = read_all(&c, "orders", None, &none, false).values("order_id")[3].clone();
    source.delete("orders", &victim).unwrap();
    let fresh = connector(&source);
    let deletes = read_all(&fresh, "orders", deletes_end, &none, true);
    let tombstones: Vec<&Record> = deletes.records().collect();
    assert_eq!(tombstones.len(), 1);
    assert_eq!(tombstones[0]["order_id"], victim);
    assert!(tombstones[0]["updated_at"].is_string());
    // The live feed has nothing new, and a full re-read no longer has the order.
    assert!(
        read_all(&fresh, "orders", orders_end, &none, false)
            .records()
            .next()
            .is_none()
    );
    assert!(
        !read_all(&fresh, "orders", None, &none, false)
            .values("order_id")
            .contains(&victim)
    );
}

#[test]
fn writes_are_validated_like_an_api_validates_them() {
    let source = quiet_source(12);
    assert_eq!(
        source
            .insert("users", record(json!({"user_id": 1})))
            .unwrap_err()
            .status,
        409
    );
    let missing = source
        .insert("users", record(json!({"email": "x@example.com"})))
        .unwrap_err();
    assert_eq!(
        (missing.status, missing.param.as_deref()),
        (400, Some("user_id"))
    );
    let bad_time = source
        .insert(
            "users",
            record(json!({"user_id": 99, "updated_at": "noon"})),
        )
        .unwrap_err();
    assert_eq!(bad_time.param.as_deref(), Some("updated_at"));
    assert_eq!(
        source.delete("orders", &json!(999_999)).unwrap_err().status,
        404
    );
    assert_eq!(
        source
            .upsert("customers", record(json!({"id": 1})))
            .unwrap_err()
            .status,
        404
    );
    // A deleted order cannot be deleted twice, and products (no deletes feed) just disappear.
    let products = crate::common::api_rows(&source, "products");
    source
        .delete("products", &products[0]["product_id"])
        .unwrap();
    assert_eq!(crate::common::api_rows(&source, "products").len(), 49);
}

#[test]
fn a_connector_stops_at_its_init_time_and_a_fresh_one_reads_on() {
    let source = quiet_source(13);
    for (table, key, rows) in [
        (
            "users",
            "user_id",
            [json!({"user_id": 3}), json!({"user_id": 5})],
        ),
        (
            "events",
            "event_id",
            [
                json!({"event_id": "evt_90001"}),
                json!({"event_id": "evt_90002"}),
            ],
        ),
    ] {
        // Events never cut inside a server response, so their responses must hold one row.
        let one = if table == "events" {
            options(&[("max_records_per_batch", "1"), ("limit", "1")])
        } else {
            options(&[("max_records_per_batch", "1")])
        };
        let old = connector(&source);
        let end = read_all(&old, table, None, &TableOptions::new(), false)
            .end()
            .cloned();
        // Both changes land after `old` was built; the first one is still read (its cursor was
        // before the init time), then the cap stops `old` although more rows exist.
        for row in rows {
            source.upsert(table, record(row)).unwrap();
        }
        let capped = read_all(&old, table, end.clone(), &one, false);
        assert_eq!(capped.values(key).len(), 1, "{table}");
        let fresh = read_all(&connector(&source), table, end, &one, false);
        assert_eq!(fresh.values(key).len(), 2, "{table}");
    }
}
