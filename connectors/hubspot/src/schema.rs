//! Schemas and record shapes.
//!
//! A CRM object's schema comes from its property definitions (the properties API): `id`,
//! `createdAt`, `updatedAt`, `archived` and `archivedAt` at the top level, `properties` as a
//! struct of the typed properties, and one list of ids per associated object (`companies`,
//! `deals`, ...). HubSpot sends every
//! property as a string (or null); [`decorate`] turns them into what their type says, so the
//! converter sees numbers, instants in RFC 3339 and nulls for `""`.
//!
//! Numbers shown with a currency symbol are exact decimals. Owners and pipelines have fixed
//! shapes, in Spark DDL.

use std::sync::Arc;

use chrono::DateTime;
use lakeflow_connect::Record;
use lakeflow_connect::arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use lakeflow_kit::schema::{ddl, list_of, timestamp};
use serde_json::{Map, Value};

/// The objects a CRM record's associations are kept for, as lists of ids.
pub(crate) const ASSOCIATIONS: [&str; 4] = ["contacts", "companies", "deals", "tickets"];

/// What a property's `type` says its values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `number`: a DOUBLE.
    Number,
    /// `number` shown with a currency symbol (amounts, prices): a DECIMAL(38, 6), exact.
    Money,
    /// `bool`: a BOOLEAN.
    Bool,
    /// `date`: a DATE (HubSpot sends `2024-11-02`, or midnight UTC as epoch milliseconds).
    Date,
    /// `datetime`: a UTC TIMESTAMP (ISO text, or epoch milliseconds).
    DateTime,
    /// `string`, `enumeration`, `phone_number` and anything else: a STRING.
    Text,
}

impl Kind {
    /// The kind of a property definition from the properties API.
    pub(crate) fn of_definition(definition: &Value) -> Option<Self> {
        let kind = Self::of(definition["type"].as_str()?);
        let money = definition["showCurrencySymbol"] == Value::Bool(true);
        Some(if kind == Self::Number && money {
            Self::Money
        } else {
            kind
        })
    }

    pub(crate) fn of(property_type: &str) -> Self {
        match property_type {
            "number" => Self::Number,
            "bool" => Self::Bool,
            "date" => Self::Date,
            "datetime" => Self::DateTime,
            _ => Self::Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Self::Number => DataType::Float64,
            Self::Money => DataType::Decimal128(38, 6),
            Self::Bool => DataType::Boolean,
            Self::Date => DataType::Date32,
            Self::DateTime => timestamp(),
            Self::Text => DataType::Utf8,
        }
    }
}

/// One property definition, as the properties API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property {
    pub name: String,
    pub kind: Kind,
}

/// The schema of a CRM object with `properties`, associated with `associates` (each a column
/// of ids named after the object, as the original has them).
pub(crate) fn object_schema(properties: &[Property], associates: &[&str]) -> SchemaRef {
    let typed: Fields = properties
        .iter()
        .map(|p| Field::new(&p.name, p.kind.data_type(), true))
        .collect();
    let mut fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("properties", DataType::Struct(typed), true),
        Field::new("createdAt", timestamp(), true),
        Field::new("updatedAt", timestamp(), false),
        Field::new("archived", DataType::Boolean, true),
        Field::new("archivedAt", timestamp(), true),
    ];
    fields.extend(
        associates
            .iter()
            .map(|name| Field::new(*name, list_of(DataType::Utf8), true)),
    );
    Arc::new(Schema::new(fields))
}

/// Owners (`GET /crm/v3/owners`).
pub(crate) fn owners() -> SchemaRef {
    ddl(
        "id STRING NOT NULL, email STRING, type STRING, firstName STRING, lastName STRING, \
         userId BIGINT, userIdIncludingInactive BIGINT, createdAt TIMESTAMP, updatedAt TIMESTAMP \
         NOT NULL, archived BOOLEAN, teams ARRAY<STRUCT<id STRING, name STRING, primary BOOLEAN>>",
    )
}

/// Deal and ticket pipelines with their stages (`GET /crm/v3/pipelines/{object}`).
pub(crate) fn pipelines() -> SchemaRef {
    ddl(
        "id STRING NOT NULL, label STRING, displayOrder BIGINT, createdAt TIMESTAMP, updatedAt \
         TIMESTAMP, archived BOOLEAN, stages ARRAY<STRUCT<id STRING, label STRING, displayOrder \
         BIGINT, metadata MAP<STRING, STRING>, createdAt TIMESTAMP, updatedAt TIMESTAMP, archived \
         BOOLEAN, writePermissions STRING>>",
    )
}

/// A CRM record as its schema has it: the properties of `properties` typed (others dropped).
pub(crate) fn decorate(record: &mut Record, properties: &[Property]) {
    if let Some(Value::Object(values)) = record.get_mut("properties") {
        let mut typed = Map::with_capacity(properties.len());
        for property in properties {
            if let Some(value) = values.remove(&property.name) {
                typed.insert(property.name.clone(), typed_value(value, property.kind));
            }
        }
        *values = typed;
    }
    // Associations come from the associations API (search sends none): see `read`.
    record.remove("associations");
}

/// A property value as its kind has it: `""` is null, numbers are numbers, epoch milliseconds
/// are RFC 3339 instants (or dates). Text that does not parse is left for the converter to
/// refuse, naming the column and the value.
fn typed_value(value: Value, kind: Kind) -> Value {
    let Value::String(text) = value else {
        return value;
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Value::Null;
    }
    let millis = || {
        trimmed
            .parse::<i64>()
            .ok()
            .filter(|_| trimmed.len() >= 10)
            .and_then(DateTime::from_timestamp_millis)
    };
    match kind {
        Kind::Number => trimmed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        Kind::DateTime => millis().map_or(Value::String(text), |at| {
            Value::String(lakeflow_kit::time::format_ts(at))
        }),
        Kind::Date => millis().map_or(Value::String(text), |at| {
            Value::String(at.date_naive().to_string())
        }),
        // The converter reads decimal text exactly.
        Kind::Money | Kind::Bool | Kind::Text => Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn property(name: &str, kind: Kind) -> Property {
        Property {
            name: name.to_owned(),
            kind,
        }
    }

    #[test]
    fn values_take_their_propertys_type() {
        let properties = [
            property("amount", Kind::Money),
            property("closedate", Kind::Date),
            property("last_demo_at", Kind::DateTime),
            property("hs_lastmodifieddate", Kind::DateTime),
            property("dealname", Kind::Text),
            property("hs_is_closed", Kind::Bool),
        ];
        let mut record = json!({
            "id": "190344001",
            "properties": {"amount": "312750.5", "closedate": "", "last_demo_at": "1710748963000",
                "hs_lastmodifieddate": "2024-11-08T20:45:32.735Z", "dealname": "Fleet 12",
                "hs_is_closed": "false", "not_in_schema": "x"}
        })
        .as_object()
        .unwrap()
        .clone();
        decorate(&mut record, &properties);
        assert_eq!(
            Value::Object(record),
            json!({
                "id": "190344001",
                "properties": {"amount": "312750.5", "closedate": null,
                    "last_demo_at": "2024-03-18T08:02:43Z",
                    "hs_lastmodifieddate": "2024-11-08T20:45:32.735Z", "dealname": "Fleet 12",
                    "hs_is_closed": "false"}
            })
        );
        assert_eq!(
            typed_value(json!("1730505600000"), Kind::Date),
            json!("2024-11-02")
        );
        assert_eq!(typed_value(json!("n/a"), Kind::Number), json!("n/a"));
        assert_eq!(typed_value(json!("12.5"), Kind::Number), json!(12.5));
        let amount = json!({"name": "amount", "type": "number", "showCurrencySymbol": true});
        assert_eq!(Kind::of_definition(&amount), Some(Kind::Money));
        let count = json!({"name": "quantity", "type": "number"});
        assert_eq!(Kind::of_definition(&count), Some(Kind::Number));
    }

    #[test]
    fn the_schema_types_each_property() {
        let schema = object_schema(
            &[
                property("amount", Kind::Number),
                property("closedate", Kind::Date),
                property("price", Kind::Money),
            ],
            &["contacts"],
        );
        let DataType::Struct(fields) = schema.field_with_name("properties").unwrap().data_type()
        else {
            panic!("properties is not a struct");
        };
        assert_eq!(fields[0].data_type(), &DataType::Float64);
        assert_eq!(fields[1].data_type(), &DataType::Date32);
        assert_eq!(fields[2].data_type(), &DataType::Decimal128(38, 6));
        assert!(!schema.field_with_name("updatedAt").unwrap().is_nullable());
        let contacts = schema.field_with_name("contacts").unwrap().data_type();
        assert_eq!(contacts, &list_of(DataType::Utf8));
    }
}
