//! Schemas and record shapes.
//!
//! A CRM object's schema comes from its property definitions (the properties API): `id`,
//! `createdAt`, `updatedAt`, `archived` and `archivedAt` at the top level, `properties` as a
//! struct of the typed properties, and `associations` as lists of ids. HubSpot sends every
//! property as a string (or null); [`decorate`] turns them into what their type says, so the
//! converter sees numbers, instants in RFC 3339 and nulls for `""`.
//!
//! Owners and pipelines have fixed shapes, in Spark DDL.

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

/// The schema of a CRM object with `properties`.
pub(crate) fn object_schema(properties: &[Property]) -> SchemaRef {
    let typed: Fields = properties
        .iter()
        .map(|p| Field::new(&p.name, p.kind.data_type(), true))
        .collect();
    let associations: Fields = ASSOCIATIONS
        .iter()
        .map(|name| Field::new(*name, list_of(DataType::Utf8), true))
        .collect();
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("properties", DataType::Struct(typed), true),
        Field::new("createdAt", timestamp(), true),
        Field::new("updatedAt", timestamp(), false),
        Field::new("archived", DataType::Boolean, true),
        Field::new("archivedAt", timestamp(), true),
        Field::new("associations", DataType::Struct(associations), true),
    ]))
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

/// A CRM record as its schema has it: the properties of `properties` typed (others dropped),
/// and associations as lists of ids.
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
    let ids = record.remove("associations").map(|associations| {
        let mut lists = Map::new();
        for name in ASSOCIATIONS {
            let mut ids: Vec<Value> = Vec::new();
            let linked = associations[name]["results"]
                .as_array()
                .into_iter()
                .flatten();
            for id in linked.filter_map(|link| link.get("id")) {
                // The same record is listed once per association type (primary, labelled).
                let id = Value::String(id.as_str().map_or_else(|| id.to_string(), str::to_owned));
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if !ids.is_empty() {
                lists.insert(name.to_owned(), Value::Array(ids));
            }
        }
        lists
    });
    if let Some(lists) = ids.filter(|lists| !lists.is_empty()) {
        record.insert("associations".to_owned(), Value::Object(lists));
    }
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
        Kind::Bool | Kind::Text => Value::String(text),
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
    fn values_take_their_propertys_type_and_associations_become_ids() {
        let properties = [
            property("amount", Kind::Number),
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
                "hs_is_closed": "false", "not_in_schema": "x"},
            "associations": {"contacts": {"results": [
                {"id": "5101", "type": "deal_to_contact"},
                {"id": "5101", "type": "deal_to_contact_primary"},
                {"id": "5102", "type": "deal_to_contact"}]},
                "p44120311_robots": {"results": [{"id": "7003001", "type": "x"}]}}
        })
        .as_object()
        .unwrap()
        .clone();
        decorate(&mut record, &properties);
        assert_eq!(
            Value::Object(record),
            json!({
                "id": "190344001",
                "properties": {"amount": 312750.5, "closedate": null,
                    "last_demo_at": "2024-03-18T08:02:43Z",
                    "hs_lastmodifieddate": "2024-11-08T20:45:32.735Z", "dealname": "Fleet 12",
                    "hs_is_closed": "false"},
                "associations": {"contacts": ["5101", "5102"]}
            })
        );
        let mut bare = json!({"id": "1", "associations": {}})
            .as_object()
            .unwrap()
            .clone();
        decorate(&mut bare, &properties);
        assert!(!bare.contains_key("associations"), "{bare:?}");
        assert_eq!(
            typed_value(json!("1730505600000"), Kind::Date),
            json!("2024-11-02")
        );
        assert_eq!(typed_value(json!("n/a"), Kind::Number), json!("n/a"));
    }

    #[test]
    fn the_schema_types_each_property() {
        let schema = object_schema(&[
            property("amount", Kind::Number),
            property("closedate", Kind::Date),
        ]);
        let DataType::Struct(fields) = schema.field_with_name("properties").unwrap().data_type()
        else {
            panic!("properties is not a struct");
        };
        assert_eq!(fields[0].data_type(), &DataType::Float64);
        assert_eq!(fields[1].data_type(), &DataType::Date32);
        assert!(!schema.field_with_name("updatedAt").unwrap().is_nullable());
    }
}
