//! The simulated API: determinism, paging and cursor ranges, injected failures and retries,
//! and API keys.

use std::sync::Arc;
use std::time::Duration;

use lakeflow_connect::{Error, LakeflowConnect, Record, Secret, TableOptions};
use lakeflow_example::{ClientConfig, ExampleConnector, ExampleSource, Request, SourceConfig};
use serde_json::Value;

use crate::common::{api_rows, connector, options, patient, quiet_source, read_all};

const DATED: [&str; 4] = ["products", "events", "users", "orders"];

fn without(records: &[Record], field: &str) -> Vec<Record> {
    records
        .iter()
        .cloned()
        .map(|mut r| {
            r.remove(field);
            r
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_data_and_another_seed_differs() {
    let (a, b, other) = (quiet_source(21), quiet_source(21), quiet_source(22));
    for endpoint in DATED.into_iter().chain(["orders/deleted"]) {
        assert_eq!(api_rows(&a, endpoint), api_rows(&b, endpoint), "{endpoint}");
    }
    for endpoint in ["products", "users", "orders"] {
        assert_ne!(
            api_rows(&a, endpoint),
            api_rows(&other, endpoint),
            "{endpoint}"
        );
    }
    // Metrics move with the creation time; everything but the timestamp is seeded.
    let metrics = |s: &ExampleSource| without(&api_rows(s, "metrics"), "observed_at");
    assert_eq!(metrics(&a), metrics(&b));
    assert_ne!(metrics(&a), metrics(&other));
}

#[test]
fn pages_cover_a_range_once_with_exclusive_since_and_inclusive_until() {
    let source = quiet_source(3);
    let users = api_rows(&source, "users");
    assert_eq!(users.len(), 40);
    let pivot = users[10]["updated_at"].as_str().unwrap().to_owned();
    let fetch = |request: Request| {
        source
            .get(&request.param("page_size", "100"))
            .unwrap()
            .records
    };
    let after = fetch(Request::new("users").param("since", pivot.as_str()));
    let upto = fetch(Request::new("users").param("until", pivot.as_str()));
    assert_eq!(
        after.len() + upto.len(),
        40,
        "the two ranges partition the table"
    );
    assert!(upto.iter().any(|r| r["updated_at"] == pivot.as_str()));
    assert!(after.iter().all(|r| r["updated_at"] != pivot.as_str()));
    // Pages of 7: tokens until the end, then none.
    let first = source
        .get(&Request::new("users").param("page_size", "7"))
        .unwrap();
    assert_eq!(first.records.len(), 7);
    assert!(first.has_more);
    assert_eq!(first.next_page_token.as_deref(), Some("7"));
    let last = source
        .get(
            &Request::new("users")
                .param("page_size", "7")
                .param("page_token", "35"),
        )
        .unwrap();
    assert_eq!(
        (last.records.len(), last.has_more, last.next_page_token),
        (5, false, None)
    );
    // Events answer at most `limit` rows and say whether more follow.
    let events = source
        .get(&Request::new("events").param("limit", "10"))
        .unwrap();
    assert_eq!((events.records.len(), events.has_more), (10, true));
}

#[test]
fn retries_read_everything_despite_a_high_error_rate() {
    let flaky = Arc::new(ExampleSource::new(SourceConfig {
        seed: 8,
        error_rate: 0.3,
        api_key: None,
    }));
    let steady = quiet_source(8);
    let (c_flaky, c_steady) = (connector(&flaky), connector(&steady));
    let opts = options(&[("max_records_per_batch", "10")]);
    for table in ["events", "users", "orders"] {
        let got = read_all(&c_flaky, table, None, &opts, false);
        let want = read_all(&c_steady, table, None, &opts, false);
        assert_eq!(got.batches, want.batches, "{table}");
    }
    let got = read_all(&c_flaky, "orders", None, &opts, true);
    assert_eq!(got.values("order_id").len(), 6);
    let (products, _) = c_flaky
        .read_table("products", None, &TableOptions::new())
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(products.len(), 50);
    let (requests, injected) = flaky.request_stats();
    assert!(
        injected > 5 && injected < requests,
        "{injected} of {requests} failed"
    );
}

#[test]
fn an_always_failing_source_gives_retriable_errors_naming_the_table() {
    let source = Arc::new(ExampleSource::new(SourceConfig {
        seed: 1,
        error_rate: 1.0,
        api_key: None,
    }));
    let config = ClientConfig {
        max_retries: 2,
        retry_base: Duration::from_micros(10),
        ..ClientConfig::default()
    };
    let c = ExampleConnector::with_source(Arc::clone(&source), config);
    let none = TableOptions::new();
    for table in ["events", "users", "orders", "metrics"] {
        let error = c.read_table(table, None, &none).err().unwrap();
        assert!(error.is_retriable(), "{error}");
        assert!(
            matches!(error, Error::RateLimited { .. } | Error::Transport { .. }),
            "{error}"
        );
        assert!(error.to_string().contains(&format!("`{table}`")), "{error}");
        assert!(error.to_string().contains("3 attempts"), "{error}");
    }
    // A snapshot streams: the error arrives as the first item.
    let mut products = c.read_table("products", None, &none).unwrap().records;
    let error = products.next().unwrap().unwrap_err();
    assert!(
        error.is_retriable() && error.to_string().contains("`products`"),
        "{error}"
    );
    assert!(products.next().is_none(), "the stream ends after an error");
    assert!(c.list_tables().unwrap_err().is_retriable());
    // Schema and metadata need no API call.
    c.get_table_schema("users", &none).unwrap();
    // Turning the failures off makes the same source readable.
    source.set_error_rate(0.0);
    assert_eq!(c.list_tables().unwrap().len(), 4);
}

#[test]
fn a_wrong_api_key_is_an_auth_error_that_does_not_echo_the_key() {
    let key = Secret::new("sk_test_opensesame");
    let source = Arc::new(ExampleSource::new(SourceConfig {
        seed: 1,
        error_rate: 0.0,
        api_key: Some(key.clone()),
    }));
    let wrong = ClientConfig {
        api_key: Some(Secret::new("sk_test_guess")),
        ..patient()
    };
    let c = ExampleConnector::with_source(Arc::clone(&source), wrong);
    let error = c
        .read_table("users", None, &TableOptions::new())
        .err()
        .unwrap();
    assert!(matches!(error, Error::Auth { .. }), "{error}");
    let text = format!("{error} {error:?} {source:?}");
    assert!(
        !text.contains("opensesame") && !text.contains("guess"),
        "{text}"
    );
    let right = ExampleConnector::with_source(
        source,
        ClientConfig {
            api_key: Some(key),
            ..patient()
        },
    );
    assert_eq!(right.list_tables().unwrap().len(), 4);
}

#[test]
fn records_are_json_as_an_api_sends_them() {
    let source = quiet_source(5);
    let products = api_rows(&source, "products");
    assert!(
        products
            .iter()
            .all(|p| p["price"].is_string() && p["tags"].is_array())
    );
    let orders = api_rows(&source, "orders");
    assert!(
        orders
            .iter()
            .all(|o| o["total"].is_number() && o["items"].is_array())
    );
    let users = api_rows(&source, "users");
    let date = users[0]["signup_date"].as_str().unwrap();
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{date}"
    );
    let event = &api_rows(&source, "events")[0];
    assert_eq!(event["created_at"], Value::from("2025-01-01T00:00:01Z"));
}
