//! A list request as the simulator understood it ([`ParsedQuery`]: filters, sort, page position)
//! and the links back to it ([`UrlBuilder`]). Below both `api`, which resolves queries against an
//! endpoint, and `pagination`, which answers pages of them.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value;

use crate::value::{FieldPath, Operand, SortKey, compare_to_operand};

/// A filter parameter's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
}

impl FilterOp {
    pub(crate) const NAMES: &'static str = "eq, ne, gt, gte, lt, lte, in";

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "in" => Self::In,
            _ => return None,
        })
    }
}

/// A filter taken from the query (or a filter parameter's default).
#[derive(Debug, Clone)]
pub(crate) struct ActiveFilter {
    field: FieldPath,
    op: FilterOp,
    operands: Vec<Operand>,
    /// The query parameter that set it; `None` when it is the parameter's default.
    param: Option<String>,
}

impl ActiveFilter {
    /// A filter on `field`; `param` is the query parameter that set it, `None` for a default.
    pub(crate) fn new(
        field: FieldPath,
        op: FilterOp,
        operands: Vec<Operand>,
        param: Option<String>,
    ) -> Self {
        Self {
            field,
            op,
            operands,
            param,
        }
    }

    /// A filter set by query parameter `param`, for tests.
    #[cfg(test)]
    pub(crate) fn given(param: &str, field: &str, op: FilterOp, value: &str) -> Self {
        Self {
            field: FieldPath::parse(field).expect("a valid path"),
            op,
            operands: vec![Operand::new(value)],
            param: Some(param.to_owned()),
        }
    }

    pub(crate) fn field(&self) -> &FieldPath {
        &self.field
    }

    pub(crate) fn op(&self) -> FilterOp {
        self.op
    }

    pub(crate) fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// For a range filter (`gt`, `gte`, `lt`, `lte`) whose value is a date: that instant in
    /// microseconds, as the comparison rules read it.
    pub(crate) fn instant_bound(&self) -> Option<i64> {
        if !matches!(
            self.op,
            FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte
        ) {
            return None;
        }
        let raw = Value::String(self.operands.first()?.raw.clone());
        match SortKey::of(Some(&raw)) {
            SortKey::Instant(micros) => Some(micros),
            _ => None,
        }
    }

    pub(crate) fn matches(&self, record: &Value) -> bool {
        let values = self.field.lookup(record);
        // Whether some value at the field compares with `operand` as `test` wants.
        let any = |operand: &Operand, test: fn(Ordering) -> bool| {
            values
                .iter()
                .any(|v| compare_to_operand(v, operand).is_some_and(test))
        };
        let Some(first) = self.operands.first() else {
            return true;
        };
        match self.op {
            FilterOp::Eq => any(first, Ordering::is_eq),
            FilterOp::Ne => !any(first, Ordering::is_eq),
            FilterOp::Gt => any(first, Ordering::is_gt),
            FilterOp::Gte => any(first, Ordering::is_ge),
            FilterOp::Lt => any(first, Ordering::is_lt),
            FilterOp::Lte => any(first, Ordering::is_le),
            FilterOp::In => self.operands.iter().any(|o| any(o, Ordering::is_eq)),
        }
    }
}

/// Everything the query asked for, resolved against the endpoint's parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedQuery {
    pub(crate) filters: Vec<ActiveFilter>,
    /// The filter parameters given (name, raw value), for tokens that carry them.
    pub(crate) filter_pairs: Vec<(String, String)>,
    pub(crate) sort: Vec<SortSpec>,
    pub(crate) page: Option<u64>,
    pub(crate) page_start: u64,
    pub(crate) page_param: Option<String>,
    pub(crate) size: u64,
    pub(crate) offset: Option<u64>,
    pub(crate) cursor: Option<String>,
    pub(crate) cursor_param: Option<String>,
}

impl ParsedQuery {
    /// Applies filters and sort. Sort keys are extracted once per record, and the sort is
    /// stable, so equal keys keep corpus order.
    pub(crate) fn select(&self, records: Vec<Arc<Value>>) -> Vec<Arc<Value>> {
        let kept: Vec<Arc<Value>> = records
            .into_iter()
            .filter(|r| self.filters.iter().all(|f| f.matches(r)))
            .collect();
        if self.sort.is_empty() {
            return kept;
        }
        let mut keyed: Vec<(Vec<SortKey>, Arc<Value>)> = kept
            .into_iter()
            .map(|r| {
                let keys = self
                    .sort
                    .iter()
                    .map(|s| SortKey::of(s.field.first(&r)))
                    .collect();
                (keys, r)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for ((x, y), spec) in a.iter().zip(b).zip(&self.sort) {
                let order = if spec.descending { y.cmp(x) } else { x.cmp(y) };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        });
        keyed.into_iter().map(|(_, r)| r).collect()
    }
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortSpec {
    pub(crate) field: FieldPath,
    pub(crate) descending: bool,
}

impl SortSpec {
    pub(crate) fn ascending(field: FieldPath) -> Self {
        Self {
            field,
            descending: false,
        }
    }
}

/// Builds links back to the current request with some query parameters changed.
#[derive(Debug, Clone)]
pub(crate) struct UrlBuilder {
    base: String,
    pairs: Vec<(String, String)>,
}

impl UrlBuilder {
    pub(crate) fn new(base_url: &str, path: &str, pairs: &[(String, String)]) -> Self {
        Self {
            base: format!("{base_url}{path}"),
            pairs: pairs.to_vec(),
        }
    }

    /// The URL with each named parameter set (`Some`, in place of its first occurrence, or
    /// appended) or removed (`None`); other parameters keep their order.
    pub(crate) fn with(&self, changes: &[(&str, Option<String>)]) -> String {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut done: Vec<&str> = Vec::new();
        for (key, value) in &self.pairs {
            match changes.iter().find(|(name, _)| name == key) {
                Some((name, new)) => {
                    if !done.contains(name) {
                        done.push(name);
                        if let Some(new) = new {
                            out.push((key.clone(), new.clone()));
                        }
                    }
                }
                None => out.push((key.clone(), value.clone())),
            }
        }
        for (name, new) in changes {
            if let (false, Some(new)) = (done.contains(name), new) {
                out.push(((*name).to_owned(), new.clone()));
            }
        }
        if out.is_empty() {
            return self.base.clone();
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&out)
            .finish();
        format!("{}?{query}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_builder_replaces_in_place_and_appends() {
        let pairs = vec![
            ("state".to_owned(), "open".to_owned()),
            ("page".to_owned(), "1".to_owned()),
            ("since".to_owned(), "2024-01-01T00:00:00Z".to_owned()),
        ];
        let url = UrlBuilder::new("http://h", "/x", &pairs);
        assert_eq!(
            url.with(&[
                ("page", Some("2".into())),
                ("since", None),
                ("cursor", Some("a b".into()))
            ]),
            "http://h/x?state=open&page=2&cursor=a+b"
        );
        assert_eq!(
            UrlBuilder::new("http://h", "/x", &[]).with(&[]),
            "http://h/x"
        );
    }
}
