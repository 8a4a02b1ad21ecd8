//! The list cache (filtered and sorted lists kept between pages) never serves a list older
//! than the last write: pages and `since` queries read after a write see it.

use serde_json::{Value, json};

use super::{call, get, ids, start_inline};

const SPEC: &str = r#"
name: cached
now: "2024-06-01T00:00:00Z"
endpoints:
  - name: issues
    path: /issues
    corpus: issues.json
    sort: { field: created_at, direction: desc }
    params:
      since: { role: filter, field: updated_at, op: gte }
      sort: { role: sort_field, values: { created: created_at, updated: updated_at } }
      direction: { role: sort_direction, default: desc }
      page: { role: page }
      per_page: { role: page_size, default: 2, max: 100 }
    pagination: { style: link_header }
  - path: /issues/{number}
    method: PATCH
    corpus: issues.json
    single: { field: number }
    write: { stamp: [updated_at] }
  - path: /issues
    method: POST
    corpus: issues.json
    write: { stamp: [created_at, updated_at] }
"#;

fn corpus() -> String {
    let records: Vec<Value> = (1..=6)
        .map(|n| {
            json!({
                "id": n,
                "number": n,
                "title": format!("issue {n}"),
                "created_at": format!("2024-01-{n:02}T00:00:00Z"),
                "updated_at": format!("2024-02-{n:02}T00:00:00Z"),
            })
        })
        .collect();
    serde_json::to_string(&records).unwrap()
}

fn numbers(url: &str) -> Vec<Value> {
    let reply = get(url, &[]);
    assert_eq!(reply.status, 200, "{url}: {:?}", reply.body);
    ids(reply.body.as_array().unwrap(), "number")
}

#[test]
fn writes_invalidate_cached_lists() {
    let corpus = corpus();
    let sim = start_inline(SPEC, &[("issues.json", &corpus)]);
    let by_updated = |query: &str| {
        sim.url(&format!(
            "/issues?sort=updated&direction=asc&per_page=2{query}"
        ))
    };
    // Fill the cache: the whole list (pages 1 and 2) and a `since` run of it.
    assert_eq!(numbers(&by_updated("")), [1, 2]);
    assert_eq!(numbers(&by_updated("&page=2")), [3, 4]);
    assert_eq!(numbers(&by_updated("&since=2024-02-05T00:00:00Z")), [5, 6]);

    // Issue 2 is updated (stamped 2024-06-01T00:00:01Z): it moves to the end.
    let patched = call(
        "PATCH",
        &sim.url("/issues/2"),
        &[],
        Some(r#"{"title": "edited"}"#),
    );
    assert_eq!(patched.status, 200);
    assert_eq!(numbers(&by_updated("")), [1, 3]);
    assert_eq!(numbers(&by_updated("&page=3")), [6, 2]);
    let since = get(&by_updated("&since=2024-02-05T00:00:00Z"), &[]);
    assert_eq!(ids(since.body.as_array().unwrap(), "number"), [5, 6]);
    assert_eq!(
        numbers(&by_updated("&since=2024-02-05T00:00:00Z&page=2")),
        [2]
    );
    assert_eq!(
        get(&by_updated("&since=2024-06-01T00:00:00Z"), &[]).body[0]["title"],
        "edited",
        "the changed record itself, not the cached one"
    );

    // A created record shows up in the default order (newest created first) and in `since`.
    let created = call(
        "POST",
        &sim.url("/issues"),
        &[],
        Some(r#"{"number": 7, "title": "new"}"#),
    );
    assert_eq!(created.status, 201);
    assert_eq!(numbers(&sim.url("/issues?per_page=3")), [7, 6, 5]);
    assert_eq!(numbers(&by_updated("&since=2024-06-01T00:00:00Z")), [2, 7]);
}
