//! What the sample connectors serve, through the `python` source.

use lakeflow_connect::arrow_schema::{DataType, TimeUnit};
use lakeflow_connect::{IngestionType, LakeflowConnect, Partition};
use serde_json::json;

use crate::{connect, read_all, table_options};

#[test]
fn tables_schemas_and_metadata_come_from_the_connector() {
    let sample = connect("sample_source.py", &[]);
    assert_eq!(
        sample.list_tables().unwrap(),
        ["users", "events", "orders", "accounts"]
    );
    let none = table_options(&[]);
    let users = sample.get_table_schema("users", &none).unwrap();
    assert!(!users.field_with_name("id").unwrap().is_nullable());
    assert_eq!(
        users.field_with_name("balance").unwrap().data_type(),
        &DataType::Decimal128(12, 2)
    );
    assert_eq!(
        users.field_with_name("birth_date").unwrap().data_type(),
        &DataType::Date32
    );
    assert_eq!(
        users.field_with_name("avatar").unwrap().data_type(),
        &DataType::Binary
    );
    assert!(matches!(
        users.field_with_name("attrs").unwrap().data_type(),
        DataType::Map(..)
    ));
    assert!(matches!(
        users.field_with_name("address").unwrap().data_type(),
        DataType::Struct(..)
    ));
    let events = sample.get_table_schema("events", &none).unwrap();
    assert_eq!(
        events.field_with_name("at").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    assert_eq!(
        events.field_with_name("payload").unwrap().data_type(),
        &DataType::Utf8
    );
    for (table, kind) in [
        ("users", IngestionType::Snapshot),
        ("events", IngestionType::Append),
        ("orders", IngestionType::Cdc),
        ("accounts", IngestionType::CdcWithDeletes),
    ] {
        let metadata = sample.read_table_metadata(table, &none).unwrap();
        assert_eq!(metadata.ingestion_type, kind, "{table}");
        metadata
            .validate(table, &sample.get_table_schema(table, &none).unwrap())
            .unwrap();
    }
    let err = sample
        .get_table_schema("nope", &none)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unknown table `nope`") && err.contains("accounts"),
        "{err}"
    );
}

#[test]
fn incremental_reads_page_by_offset_until_caught_up() {
    let sample = connect("sample_source.py", &[("rows", "7")]);
    let batch = table_options(&[("max_records_per_batch", "3")]);
    let (events, offsets) = read_all(sample.as_ref(), "events", &batch);
    let seqs: Vec<u64> = events.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(offsets.len(), 4, "3 + 3 + 1, then caught up: {offsets:?}");
    // Values Python would not put in JSON arrive as text the records crate reads.
    assert_eq!(events[0]["at"], json!("2024-01-01T00:01:00"));
    let (orders, _) = read_all(sample.as_ref(), "orders", &batch);
    assert_eq!(orders.len(), 7);
    assert_eq!(orders[0]["amount"], json!("3.01"));
    assert_eq!(orders[0]["updated_at"], json!("2024-01-01T00:10:00+00:00"));
    let (users, offsets) = read_all(sample.as_ref(), "users", &table_options(&[]));
    assert_eq!(
        (users.len(), offsets),
        (7, vec![None]),
        "a snapshot has no offset"
    );
    assert_eq!(users[0]["avatar"], json!("AQD/"), "bytes as base64");
    let deletes = sample
        .read_table_deletes(
            "accounts",
            None,
            &table_options(&[("max_records_per_batch", "10")]),
        )
        .unwrap()
        .collect()
        .unwrap();
    let deleted: Vec<u64> = deletes
        .0
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(deleted, [3, 6]);
}

#[test]
fn records_stream_in_chunks_and_an_abandoned_stream_frees_its_process() {
    // 5000 records: more than one chunk.
    let sample = connect("sample_source.py", &[("rows", "5000")]);
    let none = table_options(&[]);
    let mut users = sample.read_table("users", None, &none).unwrap().records;
    let first: Vec<_> = users.by_ref().take(10).collect::<Result<_, _>>().unwrap();
    assert_eq!(first.len(), 10);
    drop(users);
    // The next read starts over, on the same connector.
    let count = sample
        .read_table("users", None, &none)
        .unwrap()
        .records
        .count();
    assert_eq!(count, 5000);
}

#[test]
fn reads_of_several_tables_at_once_each_get_their_own_process() {
    let sample = connect("sample_source.py", &[("rows", "3000")]);
    let none = table_options(&[]);
    let mut users = sample.read_table("users", None, &none).unwrap().records;
    let mut events = sample
        .read_table(
            "events",
            None,
            &table_options(&[("max_records_per_batch", "3000")]),
        )
        .unwrap()
        .records;
    // Interleaved pulls: neither stream disturbs the other.
    let (mut u, mut e) = (0, 0);
    loop {
        let a = users.next().transpose().unwrap();
        let b = events.next().transpose().unwrap();
        u += usize::from(a.is_some());
        e += usize::from(b.is_some());
        if a.is_none() && b.is_none() {
            break;
        }
    }
    assert_eq!((u, e), (3000, 3000));
}

#[test]
fn partitioned_reads_and_partitioned_streams() {
    let sample = connect("sample_source.py", &[("rows", "10")]);
    let none = table_options(&[]);
    let partitioned = sample.partitioned_reads().expect("SupportsPartition");
    let parts = partitioned.get_partitions("users", &none).unwrap();
    assert_eq!(parts.len(), 3);
    let mut ids: Vec<u64> = Vec::new();
    for part in &parts {
        for record in partitioned.read_partition("users", part, &none).unwrap() {
            ids.push(record.unwrap()["id"].as_u64().unwrap());
        }
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert!(
        sample.partitioned_streams().is_none(),
        "no SupportsPartitionedStream"
    );

    let stream = connect(
        "stream_source.py",
        &[("total", "10"), ("per_partition", "4")],
    );
    let streams = stream
        .partitioned_streams()
        .expect("SupportsPartitionedStream");
    let end = streams.latest_offset("ticks", &none).unwrap();
    assert_eq!(serde_json::Value::Object(end.clone()), json!({"tick": 10}));
    let parts = streams
        .partitions_between("ticks", None, &end, &none)
        .unwrap();
    assert_eq!(parts.len(), 3, "{parts:?}");
    let ticks: Vec<u64> = parts
        .iter()
        .flat_map(|p: &Partition| streams.read_stream_partition("ticks", p, &none).unwrap())
        .map(|r| r.unwrap()["tick"].as_u64().unwrap())
        .collect();
    assert_eq!(ticks, (1..=10).collect::<Vec<_>>());
    assert!(
        streams
            .partitions_between("ticks", Some(&end), &end, &none)
            .unwrap()
            .is_empty()
    );
    let err = streams.latest_offset("plain", &none).unwrap_err();
    assert!(
        matches!(err, lakeflow_connect::Error::NotSupported { .. }),
        "{err}"
    );
}

#[test]
fn print_in_a_connector_does_not_disturb_the_protocol() {
    let noisy = connect("noisy_source.py", &[]);
    let table = noisy.list_tables().unwrap().remove(0);
    let (records, _) = noisy
        .read_table(&table, None, &table_options(&[]))
        .unwrap()
        .collect()
        .unwrap();
    assert!(!records.is_empty());
}

#[test]
fn namespaces_come_from_supports_namespaces() {
    let namespaced = connect("namespaced_source.py", &[]);
    let namespaces = namespaced.namespaces().expect("SupportsNamespaces");
    let path = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        namespaces.list_namespaces(&[]).unwrap(),
        [path(&["acme"]), path(&["umbrella"])]
    );
    assert_eq!(
        namespaces.list_namespaces(&path(&["acme"])).unwrap(),
        [path(&["acme", "rover"]), path(&["acme", "lander"])]
    );
    assert_eq!(
        namespaces
            .list_tables_in(&path(&["acme", "rover"]))
            .unwrap(),
        ["issues"]
    );
    assert!(connect("sample_source.py", &[]).namespaces().is_none());
}
