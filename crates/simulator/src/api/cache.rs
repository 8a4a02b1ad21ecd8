//! The list cache: the filtered and sorted records of a list query, kept so that walking a
//! large corpus page by page costs O(page) per request instead of a filter and a sort of the
//! whole corpus each time.
//!
//! An entry is keyed by the endpoint, the path parameters and the query parameters that select
//! and order records (every parameter but the page, page size, offset and cursor). Every write
//! clears the cache and bumps its version; a selection computed from a snapshot taken before a
//! write is not stored (its version is stale), so a cached entry never predates a write.
//!
//! A range filter on the field the query sorts by (`since` with `sort=updated`, the incremental
//! read of most APIs) is served from the entry of the same query without that filter: when every
//! record's sort field is one date, the records it keeps are a contiguous run of that sorted
//! list, found by binary search. A client that starts a new `since` query after each batch thus
//! costs one binary search per query, not a filter and sort of the corpus.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use crate::query::{ActiveFilter, FilterOp, ParsedQuery, SortSpec};
use crate::value::{FieldPath, SortKey};

/// Entries kept at most; the oldest goes first. Each holds one pointer per record (plus one
/// instant when the sort field is a date), 16 MB for a million records.
const CAPACITY: usize = 32;

/// What selects a list: endpoint index, path parameters, and the non-paging query parameters
/// in a canonical order (sorted by name; repeated names keep their order, which matters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    endpoint: usize,
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
}

impl Key {
    pub(crate) fn new(
        endpoint: usize,
        path: &[(String, String)],
        mut query: Vec<(String, String)>,
    ) -> Self {
        query.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            endpoint,
            path: path.to_vec(),
            query,
        }
    }

    /// The same key without the parameter `name`.
    fn without(&self, name: &str) -> Self {
        Self {
            endpoint: self.endpoint,
            path: self.path.clone(),
            query: self
                .query
                .iter()
                .filter(|(k, _)| k != name)
                .cloned()
                .collect(),
        }
    }
}

/// Records after filters and sort.
#[derive(Debug)]
pub(crate) struct Selection {
    pub(crate) records: Vec<Arc<Value>>,
    /// When the query sorts by one field and every record holds exactly one date there: those
    /// dates (microseconds), in the records' order. Range filters on that field then select a
    /// contiguous run.
    instants: Option<Vec<i64>>,
}

impl Selection {
    pub(crate) fn new(records: Vec<Arc<Value>>, sort: &[SortSpec]) -> Self {
        let instants = match sort {
            [only] => records
                .iter()
                .map(|r| single_instant(&only.field, r))
                .collect::<Option<Vec<i64>>>(),
            _ => None,
        };
        Self { records, instants }
    }

    /// The run of records `filter` keeps, when it is a range on the sort field (`descending` is
    /// the sort's direction) and every record holds one date there.
    fn range(&self, filter: &ActiveFilter, descending: bool) -> Option<Range<usize>> {
        let instants = self.instants.as_ref()?;
        let bound = filter.instant_bound()?;
        let len = instants.len();
        let before = |test: fn(i64, i64) -> bool| instants.partition_point(|&x| test(x, bound));
        let range = match (filter.op(), descending) {
            (FilterOp::Gte, false) => before(|x, b| x < b)..len,
            (FilterOp::Gt, false) => before(|x, b| x <= b)..len,
            (FilterOp::Lte, false) => 0..before(|x, b| x <= b),
            (FilterOp::Lt, false) => 0..before(|x, b| x < b),
            (FilterOp::Gte, true) => 0..before(|x, b| x >= b),
            (FilterOp::Gt, true) => 0..before(|x, b| x > b),
            (FilterOp::Lte, true) => before(|x, b| x > b)..len,
            (FilterOp::Lt, true) => before(|x, b| x >= b)..len,
            _ => return None,
        };
        Some(range)
    }
}

/// The field's date in microseconds when the record holds exactly one value there and it is a
/// date string: then a filter on the field and the sort agree on that instant.
fn single_instant(field: &FieldPath, record: &Value) -> Option<i64> {
    match field.lookup(record).as_slice() {
        [value @ Value::String(_)] => match SortKey::of(Some(value)) {
            SortKey::Instant(micros) => Some(micros),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Debug, Default)]
struct Inner {
    version: u64,
    entries: VecDeque<(Key, Arc<Selection>)>,
}

/// Hits and misses, counted in tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) hits: u64,
    pub(crate) range_hits: u64,
    pub(crate) misses: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ListCache {
    inner: Mutex<Inner>,
    #[cfg(test)]
    stats: Mutex<Stats>,
}

impl ListCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn count(&self, update: fn(&mut Stats)) {
        update(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    #[cfg(not(test))]
    #[allow(clippy::unused_self)]
    fn count(&self, _update: fn(&mut Stats)) {}

    /// Forgets every entry; called after each write.
    pub(crate) fn invalidate(&self) {
        let mut inner = self.lock();
        inner.version += 1;
        inner.entries.clear();
    }

    fn get(inner: &Inner, key: &Key) -> Option<Arc<Selection>> {
        inner
            .entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s.clone())
    }

    /// The records `query` selects, as a run of a cached selection: from the cache, from the
    /// cached selection without a range filter on the sort field, or computed by `compute` from
    /// the filters it is given (and then cached).
    pub(crate) fn select(
        &self,
        key: &Key,
        query: &ParsedQuery,
        compute: impl FnOnce(&ParsedQuery) -> Vec<Arc<Value>>,
    ) -> (Arc<Selection>, Range<usize>) {
        // A range filter on the (single) sort field, given in the query: served from the
        // selection without it.
        let ranged = match query.sort.as_slice() {
            [sort] => query.filters.iter().position(|f| {
                f.param().is_some() && f.field() == &sort.field && f.instant_bound().is_some()
            }),
            _ => None,
        };
        let descending = query.sort.first().is_some_and(|s| s.descending);
        let version = {
            let inner = self.lock();
            if let Some(found) = Self::get(&inner, key) {
                self.count(|s| s.hits += 1);
                let len = found.records.len();
                return (found, 0..len);
            }
            if let Some(i) = ranged {
                let filter = &query.filters[i];
                let base = key.without(filter.param().unwrap_or_default());
                if let Some(found) = Self::get(&inner, &base)
                    && let Some(range) = found.range(filter, descending)
                {
                    self.count(|s| s.range_hits += 1);
                    return (found, range);
                }
            }
            self.count(|s| s.misses += 1);
            inner.version
        };
        // Computed outside the lock: other requests keep being served meanwhile.
        if let Some(i) = ranged {
            let filter = &query.filters[i];
            let mut base_query = query.clone();
            base_query.filters.remove(i);
            let base = Arc::new(Selection::new(compute(&base_query), &query.sort));
            if let Some(range) = base.range(filter, descending) {
                let base_key = key.without(filter.param().unwrap_or_default());
                self.insert(base_key, base.clone(), version);
                return (base, range);
            }
            // Not a run (some record holds no single date there): filter it instead.
            let kept = base.records[..]
                .iter()
                .filter(|r| filter.matches(r))
                .cloned()
                .collect();
            let selection = Arc::new(Selection::new(kept, &query.sort));
            self.insert(key.clone(), selection.clone(), version);
            let len = selection.records.len();
            return (selection, 0..len);
        }
        let selection = Arc::new(Selection::new(compute(query), &query.sort));
        self.insert(key.clone(), selection.clone(), version);
        let len = selection.records.len();
        (selection, 0..len)
    }

    /// Stores a selection computed at `version`, unless a write happened since.
    fn insert(&self, key: Key, selection: Arc<Selection>, version: u64) {
        let mut inner = self.lock();
        if inner.version != version || Self::get(&inner, &key).is_some() {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back((key, selection));
    }

    #[cfg(test)]
    pub(crate) fn stats(&self) -> Stats {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use serde_json::json;

    use super::*;

    fn corpus() -> Vec<Arc<Value>> {
        (0..10)
            .map(|i| {
                Arc::new(json!({
                    "id": i,
                    "updated_at": format!("2024-01-{:02}T00:00:00Z", 10 - i),
                }))
            })
            .collect()
    }

    /// `?sort=updated&direction=asc[&since=...]` over `corpus()`.
    fn query(since: Option<&str>) -> (Key, ParsedQuery) {
        let mut pairs = vec![
            ("sort".to_owned(), "updated".to_owned()),
            ("direction".to_owned(), "asc".to_owned()),
        ];
        let mut query = ParsedQuery {
            sort: vec![SortSpec::ascending(FieldPath::parse("updated_at").unwrap())],
            ..ParsedQuery::default()
        };
        if let Some(since) = since {
            pairs.push(("since".to_owned(), since.to_owned()));
            query.filters.push(ActiveFilter::given(
                "since",
                "updated_at",
                FilterOp::Gte,
                since,
            ));
        }
        (Key::new(0, &[], pairs), query)
    }

    /// Selects through the cache, counting how often the corpus is filtered and sorted.
    fn select(cache: &ListCache, computed: &Cell<usize>, since: Option<&str>) -> Vec<i64> {
        let (key, query) = query(since);
        let (selection, range) = cache.select(&key, &query, |q| {
            computed.set(computed.get() + 1);
            q.select(corpus())
        });
        selection.records[range]
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    }

    #[test]
    fn pages_of_one_query_filter_and_sort_once() {
        let cache = ListCache::default();
        let computed = Cell::new(0);
        let all: Vec<i64> = (0..10).rev().collect();
        assert_eq!(select(&cache, &computed, None), all);
        assert_eq!(select(&cache, &computed, None), all);
        assert_eq!(computed.get(), 1);
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn a_range_on_the_sort_field_is_a_run_of_the_unfiltered_list() {
        let cache = ListCache::default();
        let computed = Cell::new(0);
        // updated_at of id i is 2024-01-(10 - i): since the 7th keeps ids 3, 2, 1, 0.
        assert_eq!(
            select(&cache, &computed, Some("2024-01-07T00:00:00Z")),
            vec![3, 2, 1, 0]
        );
        assert_eq!(
            select(&cache, &computed, Some("2024-01-08T12:00:00+00:00")),
            vec![1, 0]
        );
        assert_eq!(
            select(&cache, &computed, Some("2030-01-01")),
            Vec::<i64>::new()
        );
        assert_eq!(computed.get(), 1, "one filter and sort for every `since`");
        assert_eq!(cache.stats().range_hits, 2);
        // The same answers as filtering the corpus itself.
        let (_, q) = query(Some("2024-01-07T00:00:00Z"));
        let direct: Vec<i64> = q
            .select(corpus())
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(direct, vec![3, 2, 1, 0]);
    }

    #[test]
    fn a_write_invalidates_every_entry() {
        let cache = ListCache::default();
        let computed = Cell::new(0);
        select(&cache, &computed, None);
        select(&cache, &computed, Some("2024-01-07T00:00:00Z"));
        assert_eq!(computed.get(), 1);
        assert_eq!(cache.len(), 1);
        cache.invalidate();
        assert_eq!(cache.len(), 0);
        select(&cache, &computed, Some("2024-01-07T00:00:00Z"));
        select(&cache, &computed, None);
        assert_eq!(
            computed.get(),
            2,
            "recomputed once after the write, then cached"
        );
    }

    #[test]
    fn a_selection_computed_across_a_write_is_not_kept() {
        let cache = ListCache::default();
        let (key, query) = query(None);
        // The write lands while the selection is being computed from the old records.
        let _ = cache.select(&key, &query, |q| {
            cache.invalidate();
            q.select(corpus())
        });
        assert_eq!(cache.len(), 0, "a stale selection must not be cached");
        let _ = cache.select(&key, &query, |q| q.select(corpus()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn records_without_one_date_fall_back_to_filtering() {
        let cache = ListCache::default();
        let mut records = corpus();
        records.push(Arc::new(json!({"id": 99, "updated_at": null})));
        let (key, query) = query(Some("2024-01-09T00:00:00Z"));
        let (selection, range) = cache.select(&key, &query, |q| q.select(records.clone()));
        let ids: Vec<i64> = selection.records[range]
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![1, 0]);
    }
}
