//! JSON -> Arrow throughput: lakeflow-records against arrow-json on GitHub-issue-shaped records.
//!
//! Run with `cargo bench -p lakeflow-records --bench convert`. After the criterion groups a
//! side-by-side table (best of 5 timed runs each) is printed with the ratio to arrow-json.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_json::ReaderBuilder;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use chrono::DateTime;
use criterion::{Criterion, Throughput};
use lakeflow_connect::Record;
use lakeflow_records::Converter;
use serde_json::{Value, json};

/// Records per page in a real run; `cargo test --benches` uses a small page.
const RECORDS: usize = 100_000;

/// SplitMix64: a tiny deterministic generator, so every run converts the same page.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn int(&mut self, n: u64) -> i64 {
        i64::try_from(self.below(n)).unwrap_or_default()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or_default()]
    }

    fn words(&mut self, count: u64) -> String {
        const WORDS: &[&str] = &[
            "the",
            "parser",
            "fails",
            "when",
            "a",
            "connector",
            "returns",
            "nested",
            "objects",
            "with",
            "missing",
            "fields",
            "timestamp",
            "panic",
            "arrow",
            "schema",
            "batch",
            "offset",
            "cursor",
            "retry",
            "rate",
            "limit",
            "null",
            "value",
            "in",
            "of",
            "to",
        ];
        let n = 1 + self.below(count);
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.pick(WORDS));
        }
        out
    }

    fn time(&mut self, from: i64) -> (i64, String) {
        let t = from + self.int(90 * 86_400);
        let text = DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        (t, text)
    }

    fn user(&mut self) -> Value {
        let id = self.int(10_000_000);
        json!({
            "login": format!("user{id}"),
            "id": id,
            "type": if self.chance(95) { "User" } else { "Bot" },
            "site_admin": self.chance(2),
        })
    }
}

fn user_fields() -> Fields {
    Fields::from(vec![
        Field::new("login", DataType::Utf8, false),
        Field::new("id", DataType::Int64, false),
        Field::new("type", DataType::Utf8, true),
        Field::new("site_admin", DataType::Boolean, true),
    ])
}

fn issue_schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let label = Fields::from(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("color", DataType::Utf8, true),
        Field::new("default", DataType::Boolean, true),
    ]);
    let milestone = Fields::from(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("number", DataType::Int64, true),
        Field::new("title", DataType::Utf8, true),
        Field::new("state", DataType::Utf8, true),
        Field::new("due_on", ts.clone(), true),
    ]);
    let reactions: Vec<Field> = [
        "total_count",
        "plus_one",
        "minus_one",
        "laugh",
        "hooray",
        "confused",
        "heart",
        "rocket",
        "eyes",
    ]
    .iter()
    .map(|n| Field::new(*n, DataType::Int64, true))
    .collect();
    let pull_request = Fields::from(vec![
        Field::new("url", DataType::Utf8, true),
        Field::new("merged_at", ts.clone(), true),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("node_id", DataType::Utf8, true),
        Field::new("number", DataType::Int64, true),
        Field::new("title", DataType::Utf8, true),
        Field::new("body", DataType::Utf8, true),
        Field::new("state", DataType::Utf8, true),
        Field::new("locked", DataType::Boolean, true),
        Field::new("user", DataType::Struct(user_fields()), true),
        Field::new_list(
            "labels",
            Field::new("item", DataType::Struct(label), true),
            true,
        ),
        Field::new_list(
            "assignees",
            Field::new("item", DataType::Struct(user_fields()), true),
            true,
        ),
        Field::new("milestone", DataType::Struct(milestone), true),
        Field::new("comments", DataType::Int64, true),
        Field::new("created_at", ts.clone(), true),
        Field::new("updated_at", ts.clone(), true),
        Field::new("closed_at", ts, true),
        Field::new("author_association", DataType::Utf8, true),
        Field::new("reactions", DataType::Struct(Fields::from(reactions)), true),
        Field::new("pull_request", DataType::Struct(pull_request), true),
        Field::new("score", DataType::Float64, true),
    ]))
}

fn issue(rng: &mut Rng, i: usize) -> Value {
    let id = 1_000_000_000 + i64::try_from(i).unwrap_or_default();
    let (created, created_at) = rng.time(1_600_000_000);
    let (updated, updated_at) = rng.time(created);
    let closed_at = if rng.chance(40) {
        json!(rng.time(updated).1)
    } else {
        Value::Null
    };
    let labels: Vec<Value> = (0..rng.below(5))
        .map(|_| {
            json!({
                "id": rng.int(1 << 40),
                "name": rng.pick(&["bug", "enhancement", "good first issue", "question", "docs"]),
                "color": format!("{:06x}", rng.below(1 << 24)),
                "default": rng.chance(30),
            })
        })
        .collect();
    let assignees: Vec<Value> = (0..rng.below(3)).map(|_| rng.user()).collect();
    let milestone = if rng.chance(30) {
        json!({
            "id": rng.int(1 << 30),
            "number": rng.int(100),
            "title": format!("v{}.{}", rng.below(3), rng.below(20)),
            "state": "open",
            "due_on": if rng.chance(50) { json!(rng.time(created).1) } else { Value::Null },
        })
    } else {
        Value::Null
    };
    let pull_request = if rng.chance(10) {
        json!({"url": format!("https://api.github.com/repos/o/r/pulls/{i}"), "merged_at": null})
    } else {
        Value::Null
    };
    let body = if rng.chance(80) {
        json!(rng.words(60))
    } else {
        Value::Null
    };
    let mut reactions = serde_json::Map::new();
    for name in [
        "plus_one",
        "minus_one",
        "laugh",
        "hooray",
        "confused",
        "heart",
        "rocket",
        "eyes",
    ] {
        reactions.insert(name.to_owned(), json!(rng.int(5)));
    }
    reactions.insert("total_count".to_owned(), json!(rng.int(40)));
    json!({
        "id": id,
        "node_id": format!("I_kwDO{id:x}"),
        "number": i,
        "title": rng.words(12),
        "body": body,
        "state": if closed_at.is_null() { "open" } else { "closed" },
        "locked": rng.chance(3),
        "user": rng.user(),
        "labels": labels,
        "assignees": assignees,
        "milestone": milestone,
        "comments": rng.int(50),
        "created_at": created_at,
        "updated_at": updated_at,
        "closed_at": closed_at,
        "author_association": rng.pick(&["OWNER", "MEMBER", "CONTRIBUTOR", "NONE"]),
        "reactions": reactions,
        "pull_request": pull_request,
        "score": f64::from(u32::try_from(rng.below(1_000_000)).unwrap_or_default()) / 1000.0,
    })
}

struct Page {
    schema: SchemaRef,
    records: Vec<Record>,
    ndjson: Vec<u8>,
}

fn page(n: usize) -> Page {
    let mut rng = Rng(42);
    let records: Vec<Record> = (0..n)
        .map(|i| match issue(&mut rng, i) {
            Value::Object(m) => m,
            _ => unreachable!("issues are objects"),
        })
        .collect();
    let mut ndjson = Vec::new();
    for r in &records {
        serde_json::to_writer(&mut ndjson, r).expect("serialisable");
        ndjson.push(b'\n');
    }
    Page {
        schema: issue_schema(),
        records,
        ndjson,
    }
}

fn ours(converter: &Converter, page: &Page) -> RecordBatch {
    converter.convert(&page.records).expect("converts")
}

fn arrow_serialize(page: &Page) -> RecordBatch {
    let mut decoder = ReaderBuilder::new(page.schema.clone())
        .build_decoder()
        .expect("decoder");
    decoder.serialize(&page.records).expect("serializes");
    decoder.flush().expect("flushes").expect("one batch")
}

fn arrow_decode(page: &Page) -> RecordBatch {
    let mut decoder = ReaderBuilder::new(page.schema.clone())
        .with_batch_size(page.records.len())
        .build_decoder()
        .expect("decoder");
    let read = decoder.decode(&page.ndjson).expect("decodes");
    assert_eq!(read, page.ndjson.len());
    decoder.flush().expect("flushes").expect("one batch")
}

fn best_of(runs: usize, mut f: impl FnMut() -> RecordBatch) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let full_run = std::env::args().any(|a| a == "--bench");
    let n = if full_run { RECORDS } else { 1_000 };
    let page = page(n);
    let converter = Converter::new(page.schema.clone()).expect("supported schema");

    // The comparison is only fair if both sides produce the same batch.
    assert_eq!(ours(&converter, &page), arrow_serialize(&page));
    assert_eq!(ours(&converter, &page), arrow_decode(&page));

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    let mut group = c.benchmark_group("json_to_arrow");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("lakeflow_records", |b| b.iter(|| ours(&converter, &page)));
    group.bench_function("arrow_json_serialize", |b| {
        b.iter(|| arrow_serialize(&page));
    });
    group.bench_function("arrow_json_decode_ndjson", |b| {
        b.iter(|| arrow_decode(&page));
    });
    group.finish();
    c.final_summary();

    if !full_run {
        return;
    }
    let runs = 5;
    let t_ours = best_of(runs, || ours(&converter, &page));
    let t_ser = best_of(runs, || arrow_serialize(&page));
    let t_dec = best_of(runs, || arrow_decode(&page));
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("\n{n} GitHub-issue records, best of {runs}:");
    println!("| path | time (ms) | records/s | time relative to ours |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, t) in [
        ("lakeflow-records Converter::convert", t_ours),
        ("arrow-json Decoder::serialize (parsed values)", t_ser),
        ("arrow-json Decoder::decode (NDJSON bytes)", t_dec),
    ] {
        println!(
            "| {name} | {:.1} | {:.0} | {:.2}x |",
            t.as_secs_f64() * 1e3,
            rate(t),
            t.as_secs_f64() / t_ours.as_secs_f64()
        );
    }
}
