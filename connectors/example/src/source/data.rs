//! The seeded data set the simulated API serves: records shaped as a REST API sends them
//! (timestamps as RFC 3339 strings, prices as strings, absent nested objects as `null`).

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};

use super::prng::SplitMix64;
use crate::time::format_ts;
use lakeflow_connect::Record;

/// Order statuses the API knows; the `status` filter accepts only these.
pub(crate) const ORDER_STATUSES: &[&str] =
    &["pending", "paid", "shipped", "delivered", "cancelled"];

const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "electronics",
        &["Headphones", "Keyboard", "Charger", "Speaker"],
    ),
    ("books", &["Novel", "Cookbook", "Atlas", "Journal"]),
    ("clothing", &["Jacket", "Sneakers", "Scarf", "Hoodie"]),
    ("home", &["Lamp", "Blender", "Mug", "Pillow"]),
    ("toys", &["Puzzle", "Kite", "Robot Kit", "Board Game"]),
];
const ADJECTIVES: &[&str] = &["Compact", "Classic", "Smart", "Eco", "Deluxe", "Portable"];
const TAGS: &[&str] = &["new", "sale", "bestseller", "eco", "limited", "gift"];
const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson",
];
const COUNTRIES: &[&str] = &["US", "GB", "DE", "FR", "JP", "BR", "IN", "CA"];
const CITIES: &[&str] = &[
    "Springfield",
    "Riverside",
    "Fairview",
    "Madison",
    "Georgetown",
];
const EVENT_TYPES: &[&str] = &["page_view", "click", "search", "add_to_cart", "purchase"];
const PAGES: &[&str] = &["/", "/search", "/products", "/cart", "/checkout"];
const CARRIERS: &[&str] = &["UPS", "DHL", "FedEx"];
const HOSTS: &[(&str, &str)] = &[
    ("web-1", "eu-west-1"),
    ("web-2", "us-east-1"),
    ("db-1", "us-east-1"),
];

/// Users, events and orders start here; metrics are relative to the source's creation instead.
pub(crate) fn base_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).unwrap_or_default() // 2025-01-01T00:00:00Z
}

/// Every collection of the simulated source, freshly generated.
pub(crate) struct Dataset {
    pub products: Vec<Record>,
    pub events: Vec<Record>,
    pub users: Vec<Record>,
    pub orders: Vec<Record>,
    pub deleted_orders: Vec<Record>,
    pub metrics: Vec<Record>,
}

pub(crate) fn generate(seed: u64, now: DateTime<Utc>) -> Dataset {
    let (orders, deleted_orders) = orders(&mut SplitMix64::derived(seed, 4));
    Dataset {
        products: products(&mut SplitMix64::derived(seed, 1)),
        events: events(&mut SplitMix64::derived(seed, 2)),
        users: users(&mut SplitMix64::derived(seed, 3)),
        orders,
        deleted_orders,
        metrics: metrics(&mut SplitMix64::derived(seed, 5), now),
    }
}

fn record(value: Value) -> Record {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("records are built from object literals"),
    }
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn date(rng: &mut SplitMix64, from: (i32, u32, u32), span_days: i64) -> String {
    let start = NaiveDate::from_ymd_opt(from.0, from.1, from.2).unwrap_or_default();
    let day = start + Days::new(rng.range(0, span_days).unsigned_abs());
    day.format("%Y-%m-%d").to_string()
}

/// Cursor values that advance in steps but repeat now and then: ties at a batch boundary are
/// exactly what resume logic must survive. Rows 3 and 4 of every 7 always tie with the row before.
fn tied_times(rng: &mut SplitMix64, start: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
    let mut at = start;
    (0..count)
        .map(|i| {
            if i > 0 && !matches!(i % 7, 3 | 4) && rng.chance(0.7) {
                at += TimeDelta::minutes(rng.range(1, 180));
            }
            at
        })
        .collect()
}

fn products(rng: &mut SplitMix64) -> Vec<Record> {
    (1..=50)
        .map(|id: i64| {
            let (category, nouns) = *rng.pick(CATEGORIES);
            let name = format!("{} {}", rng.pick(ADJECTIVES), rng.pick(nouns));
            let mut tags: Vec<&str> = Vec::new();
            for _ in 0..rng.range(0, 3) {
                let tag = *rng.pick(TAGS);
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            let rating = if rng.chance(0.1) {
                Value::Null
            } else {
                json!(rng.range(10, 50) as f64 / 10.0)
            };
            let dimensions = if rng.chance(0.2) {
                Value::Null
            } else {
                json!({
                    "width_cm": rng.range(5, 120) as f64,
                    "height_cm": rng.range(5, 120) as f64 / 2.0,
                    "depth_cm": rng.range(1, 60) as f64,
                })
            };
            let updated = base_time() - TimeDelta::hours(rng.range(1, 90 * 24));
            record(json!({
                "product_id": id,
                "name": name,
                "category": category,
                "price": money(rng.range(199, 49_999)),
                "in_stock": rng.chance(0.8),
                "tags": tags,
                "launched_on": date(rng, (2022, 1, 1), 1000),
                "rating": rating,
                "dimensions": dimensions,
                "updated_at": format_ts(updated),
            }))
        })
        .collect()
}

fn events(rng: &mut SplitMix64) -> Vec<Record> {
    (1..=100)
        .map(|i: i64| {
            let kind = *rng.pick(EVENT_TYPES);
            // Only page-level events carry properties; the others send an explicit null.
            let properties = if matches!(kind, "page_view" | "search" | "click") {
                json!({
                    "page": rng.pick(PAGES),
                    "referrer": if rng.chance(0.5) { Value::Null } else { json!("https://search.example.com") },
                    "duration_ms": rng.range(20, 30_000),
                })
            } else {
                Value::Null
            };
            record(json!({
                "event_id": format!("evt_{i:05}"),
                "event_type": kind,
                "user_id": rng.range(1, 40),
                "session_id": format!("sess_{:08x}", rng.next_u64() as u32),
                "properties": properties,
                "created_at": format_ts(base_time() + TimeDelta::seconds(i)),
            }))
        })
        .collect()
}

fn users(rng: &mut SplitMix64) -> Vec<Record> {
    let times = tied_times(rng, base_time() + TimeDelta::hours(1), 40);
    (1..=40)
        .zip(times)
        .map(|(id, updated): (i64, _)| {
            let (first, last) = (*rng.pick(FIRST), *rng.pick(LAST));
            let address = if rng.chance(0.25) {
                Value::Null
            } else {
                json!({
                    "street": format!("{} Main Street", rng.range(1, 999)),
                    "city": rng.pick(CITIES),
                    "postal_code": format!("{:05}", rng.range(1000, 99_999)),
                })
            };
            let mut roles = vec!["viewer"];
            if rng.chance(0.3) {
                roles.push("editor");
            }
            if rng.chance(0.1) {
                roles.push("admin");
            }
            record(json!({
                "user_id": id,
                "email": format!("{}.{}{id}@example.com", first.to_lowercase(), last.to_lowercase()),
                "name": format!("{first} {last}"),
                "country": rng.pick(COUNTRIES),
                "is_active": rng.chance(0.85),
                "signup_date": date(rng, (2023, 1, 1), 700),
                "address": address,
                "roles": roles,
                "created_at": format_ts(updated - TimeDelta::days(rng.range(0, 400))),
                "updated_at": format_ts(updated),
            }))
        })
        .collect()
}

/// Live orders and the tombstones of orders deleted before the source was created.
fn orders(rng: &mut SplitMix64) -> (Vec<Record>, Vec<Record>) {
    let times = tied_times(rng, base_time() + TimeDelta::hours(2), 66);
    let (mut live, mut deleted) = (Vec::new(), Vec::new());
    for (i, updated) in times.into_iter().enumerate() {
        let id = 1001 + i as i64;
        if i % 11 == 5 {
            // Pairs of deletions share a timestamp so the deletes feed has ties too.
            let at = base_time() + TimeDelta::days(10) + TimeDelta::hours(deleted.len() as i64 / 2);
            let at = format_ts(at);
            deleted.push(record(
                json!({"order_id": id, "updated_at": at, "deleted_at": at}),
            ));
            continue;
        }
        let lines: Vec<(i64, i64, i64)> = (0..rng.range(1, 4))
            .map(|_| (rng.range(1, 50), rng.range(1, 3), rng.range(199, 9_999)))
            .collect();
        let total_cents: i64 = lines.iter().map(|(_, qty, cents)| qty * cents).sum();
        let items: Vec<Value> = lines
            .iter()
            .map(|(product, qty, cents)| {
                json!({"product_id": product, "quantity": qty, "unit_price": money(*cents)})
            })
            .collect();
        let status = *rng.pick(ORDER_STATUSES);
        let shipping = if matches!(status, "shipped" | "delivered") {
            json!({"carrier": rng.pick(CARRIERS), "tracking_number": format!("TRK{:010}", rng.next_u64() % 10_000_000_000)})
        } else {
            Value::Null
        };
        live.push(record(json!({
            "order_id": id,
            "user_id": rng.range(1, 40),
            "status": status,
            "total": total_cents as f64 / 100.0,
            "currency": if rng.chance(0.8) { "USD" } else { "EUR" },
            "items": items,
            "shipping": shipping,
            "created_at": format_ts(updated - TimeDelta::hours(rng.range(0, 72))),
            "updated_at": format_ts(updated),
        })));
    }
    (live, deleted)
}

/// How far back the metrics history goes: samples start just after `now - METRICS_RETENTION`.
pub(crate) const METRICS_RETENTION: TimeDelta = TimeDelta::hours(2);

/// Samples on every 5-minute mark per host, from just after `now - METRICS_RETENTION` to one
/// hour after `now`: the future part is what the connector's init-time cap must leave for a
/// later run.
fn metrics(rng: &mut SplitMix64, now: DateTime<Utc>) -> Vec<Record> {
    let step = 300;
    let start = ((now - METRICS_RETENTION).timestamp() / step + 1) * step;
    let mut samples = Vec::new();
    for k in 0..36 {
        let at = DateTime::from_timestamp(start + k * step, 0).unwrap_or_default();
        for (name, region) in HOSTS {
            let values = if rng.chance(0.05) {
                Value::Null
            } else {
                json!({
                    "cpu_pct": rng.range(0, 1000) as f64 / 10.0,
                    "mem_pct": rng.range(100, 950) as f64 / 10.0,
                })
            };
            samples.push(record(json!({
                "metric_id": format!("m-{:05}", samples.len() + 1),
                "host": {"name": name, "region": region},
                "values": values,
                "sample_count": rng.range(1, 60),
                "observed_at": format_ts(at),
            })));
        }
    }
    samples
}
