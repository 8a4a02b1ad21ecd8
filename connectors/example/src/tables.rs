//! The connector's tables: names, Arrow schemas, metadata and the endpoints that serve them.

use std::sync::Arc;

use lakeflow_connect::arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{Error, IngestionType, Result, TableMetadata};

/// A table the connector serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Products,
    Events,
    Users,
    Orders,
    Metrics,
}

/// Where a table's changes (or deletions) are read from, and which fields identify and order
/// them.
pub(crate) struct Feed {
    pub table: Table,
    pub endpoint: &'static str,
    pub key: &'static str,
    pub cursor: &'static str,
}

impl Table {
    pub(crate) const ALL: [Self; 5] = [
        Self::Products,
        Self::Events,
        Self::Users,
        Self::Orders,
        Self::Metrics,
    ];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Events => "events",
            Self::Users => "users",
            Self::Orders => "orders",
            Self::Metrics => "metrics",
        }
    }

    /// The table called `name`, or an error listing every table served (including `metrics`,
    /// which discovery hides but reads accept).
    pub(crate) fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| Error::unknown_table(name, &Self::ALL.map(Self::name)))
    }

    pub(crate) fn metadata(self) -> TableMetadata {
        match self {
            Self::Products => TableMetadata::snapshot(&["product_id"]),
            Self::Events => TableMetadata::new(IngestionType::Append, &[], Some("created_at")),
            Self::Users => TableMetadata::new(IngestionType::Cdc, &["user_id"], Some("updated_at")),
            Self::Orders => TableMetadata::new(
                IngestionType::CdcWithDeletes,
                &["order_id"],
                Some("updated_at"),
            ),
            Self::Metrics => {
                TableMetadata::new(IngestionType::Cdc, &["metric_id"], Some("observed_at"))
            }
        }
    }

    /// The feed of changed rows.
    pub(crate) fn feed(self) -> Feed {
        let (key, cursor) = match self {
            Self::Products => ("product_id", "updated_at"),
            Self::Events => ("event_id", "created_at"),
            Self::Users => ("user_id", "updated_at"),
            Self::Orders => ("order_id", "updated_at"),
            Self::Metrics => ("metric_id", "observed_at"),
        };
        Feed {
            table: self,
            endpoint: self.name(),
            key,
            cursor,
        }
    }

    /// The feed of deleted keys (orders only).
    pub(crate) fn deletes_feed(self) -> Option<Feed> {
        (self == Self::Orders).then_some(Feed {
            table: self,
            endpoint: "orders/deleted",
            key: "order_id",
            cursor: "updated_at",
        })
    }

    pub(crate) fn schema(self) -> SchemaRef {
        let fields = match self {
            Self::Products => vec![
                Field::new("product_id", DataType::Int64, false),
                Field::new("name", DataType::Utf8, true),
                Field::new("category", DataType::Utf8, true),
                Field::new("price", DataType::Decimal128(10, 2), true),
                Field::new("in_stock", DataType::Boolean, true),
                Field::new("tags", list_of(DataType::Utf8), true),
                Field::new("launched_on", DataType::Date32, true),
                Field::new("rating", DataType::Float64, true),
                Field::new(
                    "dimensions",
                    struct_of(&[
                        ("width_cm", DataType::Float64),
                        ("height_cm", DataType::Float64),
                        ("depth_cm", DataType::Float64),
                    ]),
                    true,
                ),
                Field::new("updated_at", timestamp(), true),
            ],
            Self::Events => vec![
                Field::new("event_id", DataType::Utf8, false),
                Field::new("event_type", DataType::Utf8, true),
                Field::new("user_id", DataType::Int64, true),
                Field::new("session_id", DataType::Utf8, true),
                Field::new(
                    "properties",
                    struct_of(&[
                        ("page", DataType::Utf8),
                        ("referrer", DataType::Utf8),
                        ("duration_ms", DataType::Int64),
                    ]),
                    true,
                ),
                Field::new("created_at", timestamp(), false),
            ],
            Self::Users => vec![
                Field::new("user_id", DataType::Int64, false),
                Field::new("email", DataType::Utf8, true),
                Field::new("name", DataType::Utf8, true),
                Field::new("country", DataType::Utf8, true),
                Field::new("is_active", DataType::Boolean, true),
                Field::new("signup_date", DataType::Date32, true),
                Field::new(
                    "address",
                    struct_of(&[
                        ("street", DataType::Utf8),
                        ("city", DataType::Utf8),
                        ("postal_code", DataType::Utf8),
                    ]),
                    true,
                ),
                Field::new("roles", list_of(DataType::Utf8), true),
                Field::new("created_at", timestamp(), true),
                Field::new("updated_at", timestamp(), false),
            ],
            Self::Orders => vec![
                Field::new("order_id", DataType::Int64, false),
                Field::new("user_id", DataType::Int64, true),
                Field::new("status", DataType::Utf8, true),
                Field::new("total", DataType::Decimal128(12, 2), true),
                Field::new("currency", DataType::Utf8, true),
                Field::new(
                    "items",
                    list_of(struct_of(&[
                        ("product_id", DataType::Int64),
                        ("quantity", DataType::Int64),
                        ("unit_price", DataType::Decimal128(10, 2)),
                    ])),
                    true,
                ),
                Field::new(
                    "shipping",
                    struct_of(&[
                        ("carrier", DataType::Utf8),
                        ("tracking_number", DataType::Utf8),
                    ]),
                    true,
                ),
                Field::new("created_at", timestamp(), true),
                Field::new("updated_at", timestamp(), false),
                // Set only on the tombstones of the deletes feed.
                Field::new("deleted_at", timestamp(), true),
            ],
            Self::Metrics => vec![
                Field::new("metric_id", DataType::Utf8, false),
                Field::new(
                    "host",
                    struct_of(&[("name", DataType::Utf8), ("region", DataType::Utf8)]),
                    true,
                ),
                Field::new(
                    "values",
                    struct_of(&[
                        ("cpu_pct", DataType::Float64),
                        ("mem_pct", DataType::Float64),
                    ]),
                    true,
                ),
                Field::new("sample_count", DataType::Int64, true),
                Field::new("observed_at", timestamp(), false),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

fn struct_of(fields: &[(&str, DataType)]) -> DataType {
    DataType::Struct(Fields::from(
        fields
            .iter()
            .map(|(name, data_type)| Field::new(*name, data_type.clone(), true))
            .collect::<Vec<_>>(),
    ))
}
