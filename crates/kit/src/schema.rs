//! Arrow schemas written the way data engineers already write them: Spark SQL DDL.
//!
//! ```
//! use lakeflow_kit::schema::ddl;
//!
//! let schema = ddl("id BIGINT NOT NULL, title STRING, labels ARRAY<STRING>,
//!                   user STRUCT<login: STRING, id: BIGINT>, created_at TIMESTAMP,
//!                   `+1` INT, price DECIMAL(10, 2), extra MAP<STRING, STRING>");
//! assert_eq!(schema.fields().len(), 8);
//! assert!(!schema.field(0).is_nullable() && schema.field(1).is_nullable());
//! ```
//!
//! | DDL | Arrow |
//! |---|---|
//! | `STRING`, `VARCHAR(n)`, `CHAR(n)`, `VARIANT`, `JSON` | Utf8 (variants and JSON as their JSON text) |
//! | `BIGINT`/`LONG`, `INT`/`INTEGER`, `SMALLINT`/`SHORT`, `TINYINT`/`BYTE` | Int64, Int32, Int16, Int8 |
//! | `DOUBLE`, `FLOAT`/`REAL` | Float64, Float32 |
//! | `BOOLEAN` | Boolean |
//! | `DECIMAL(p, s)` (`DECIMAL` alone: 10, 0) | Decimal128(p, s) |
//! | `DATE` | Date32 |
//! | `TIMESTAMP`, `TIMESTAMP_NTZ` | Timestamp(µs, UTC), Timestamp(µs) |
//! | `BINARY` | Binary |
//! | `ARRAY<T>` | List of nullable `item` |
//! | `MAP<K, V>` | Map of `entries` (`key` not null, `value` nullable) |
//! | `STRUCT<name: T, ...>` | Struct |
//!
//! Keywords are case-insensitive, a name may be quoted with backticks, the colon after a struct
//! field's name is optional, `NOT NULL` makes a column required and `COMMENT '...'` is skipped.
//! [`spark_type`] gives the same mapping for one type name as Spark's JSON schemas write it
//! (`decimal(10,2)`, `timestamp_ntz`).

use std::sync::Arc;

use lakeflow_connect::arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// A DDL text that does not parse: what was expected, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema DDL: {message} at character {at} (near `{near}`)")]
pub struct DdlError {
    /// What was expected, or what went wrong.
    pub message: String,
    /// The 0-based character position.
    pub at: usize,
    /// The text from there, shortened.
    pub near: String,
}

/// The schema a DDL column list describes.
///
/// # Panics
/// When `text` does not parse: schemas written in code are checked by the connector's tests
/// (every table's schema is built there). Use [`parse`] for text from elsewhere.
pub fn ddl(text: &str) -> SchemaRef {
    parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The schema a DDL column list describes, or what is wrong with it.
///
/// # Errors
/// [`DdlError`] naming the position.
pub fn parse(text: &str) -> Result<SchemaRef, DdlError> {
    let mut parser = Parser { text, pos: 0 };
    let fields = parser.fields(None)?;
    parser.skip_space();
    if parser.pos < text.len() {
        return Err(parser.error("expected `,` or the end"));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// The Arrow type of a Spark type name as Spark's JSON schemas write the simple ones
/// (`string`, `long`, `decimal(10,2)`, `timestamp_ntz`, ...).
///
/// # Errors
/// [`DdlError`] for an unknown name.
pub fn spark_type(name: &str) -> Result<DataType, DdlError> {
    let mut parser = Parser { text: name, pos: 0 };
    let data_type = parser.data_type()?;
    parser.skip_space();
    if parser.pos < name.len() {
        return Err(parser.error("unexpected text after the type"));
    }
    Ok(data_type)
}

/// The schema a Spark JSON schema describes (`StructType.jsonValue()` in PySpark:
/// `{"type": "struct", "fields": [{"name", "type", "nullable", "metadata"}]}`), with the types
/// of the table above; nullability is kept at every depth.
///
/// # Errors
/// [`DdlError`] naming the field path and what is wrong with it.
pub fn from_spark_json(schema: &serde_json::Value) -> Result<SchemaRef, DdlError> {
    match spark_json_type(schema, "")? {
        DataType::Struct(fields) => Ok(Arc::new(Schema::new(fields))),
        other => Err(json_error("", &format!("expected a struct, got {other}"))),
    }
}

fn json_error(path: &str, message: &str) -> DdlError {
    DdlError {
        message: message.to_owned(),
        at: 0,
        near: if path.is_empty() {
            "the schema".to_owned()
        } else {
            path.to_owned()
        },
    }
}

/// One Spark JSON type at `path`: a name (`"long"`, `"decimal(10,2)"`) or an object for
/// structs, arrays and maps.
fn spark_json_type(value: &serde_json::Value, path: &str) -> Result<DataType, DdlError> {
    use serde_json::Value;
    let object = match value {
        Value::String(name) => {
            return spark_type(name).map_err(|e| json_error(path, &e.message));
        }
        Value::Object(object) => object,
        other => return Err(json_error(path, &format!("expected a type, got {other}"))),
    };
    let flag = |key: &str| object.get(key).and_then(Value::as_bool).unwrap_or(true);
    let child = |key: &str, name: &str| {
        let value = object
            .get(key)
            .ok_or_else(|| json_error(path, &format!("missing `{key}`")))?;
        spark_json_type(value, &format!("{path}{name}"))
    };
    match object.get("type").and_then(Value::as_str) {
        Some("struct") => {
            let fields = object
                .get("fields")
                .and_then(Value::as_array)
                .ok_or_else(|| json_error(path, "a struct needs `fields`"))?;
            let fields = fields
                .iter()
                .map(|field| {
                    let name = field
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| json_error(path, "a field needs a `name`"))?;
                    let field_path = if path.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    };
                    let data_type = field
                        .get("type")
                        .ok_or_else(|| json_error(&field_path, "a field needs a `type`"))
                        .and_then(|t| spark_json_type(t, &field_path))?;
                    let nullable = field
                        .get("nullable")
                        .and_then(Value::as_bool)
                        .unwrap_or(true);
                    Ok(Field::new(name, data_type, nullable))
                })
                .collect::<Result<Vec<_>, DdlError>>()?;
            Ok(DataType::Struct(Fields::from(fields)))
        }
        Some("array") => {
            let item = child("elementType", "[]")?;
            Ok(DataType::List(Arc::new(Field::new(
                "item",
                item,
                flag("containsNull"),
            ))))
        }
        Some("map") => Ok(map_of(
            child("keyType", "{key}")?,
            child("valueType", "{value}")?,
            flag("valueContainsNull"),
        )),
        other => Err(json_error(path, &format!("unknown type {other:?}"))),
    }
}

/// The timestamp type of every instant column: microseconds, UTC.
pub fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A list of nullable `item`s of `item`.
pub fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

/// A map from string keys to nullable values of `value`, as Spark writes maps.
pub fn map_of(key: DataType, value: DataType, values_nullable: bool) -> DataType {
    let entries = Fields::from(vec![
        Field::new("key", key, false),
        Field::new("value", value, values_nullable),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn error(&self, message: &str) -> DdlError {
        DdlError {
            message: message.to_owned(),
            at: self.text[..self.pos].chars().count(),
            near: self.rest().chars().take(24).collect(),
        }
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    /// Consumes `token` (case-insensitive) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let rest = self.rest();
        let matches = rest.len() >= token.len()
            && rest.is_char_boundary(token.len())
            && rest[..token.len()].eq_ignore_ascii_case(token);
        // A keyword must end where a word ends (`INT` is not the start of `INTERVAL`).
        let word_ends = !token.ends_with(|c: char| c.is_ascii_alphanumeric())
            || !rest[token.len().min(rest.len())..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        if matches && word_ends {
            self.pos += token.len();
        }
        matches && word_ends
    }

    fn expect(&mut self, token: &str) -> Result<(), DdlError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{token}`")))
        }
    }

    /// A bare word (letters, digits, `_`) or a backtick-quoted name.
    fn name(&mut self) -> Result<String, DdlError> {
        self.skip_space();
        if let Some(quoted) = self.rest().strip_prefix('`') {
            let end = quoted
                .find('`')
                .ok_or_else(|| self.error("unclosed backtick"))?;
            let name = quoted[..end].to_owned();
            self.pos += end + 2;
            return Ok(name);
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.error("expected a name"));
        }
        let name = self.rest()[..len].to_owned();
        self.pos += len;
        Ok(name)
    }

    fn number(&mut self) -> Result<u8, DdlError> {
        self.skip_space();
        let len = self
            .rest()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest().len());
        let number = self.rest()[..len]
            .parse()
            .map_err(|_| self.error("expected a number up to 255"))?;
        self.pos += len;
        Ok(number)
    }

    /// `name [:] TYPE [NOT NULL] [COMMENT '...']`, separated by commas, up to `close` (or the
    /// end of the text).
    fn fields(&mut self, close: Option<&str>) -> Result<Vec<Field>, DdlError> {
        let mut fields = Vec::new();
        loop {
            let name = self.name()?;
            self.eat(":");
            let data_type = self.data_type()?;
            let nullable = !(self.eat("NOT") && {
                self.expect("NULL")?;
                true
            });
            if self.eat("COMMENT") {
                self.skip_space();
                let quoted = self.rest().strip_prefix('\'');
                let end = quoted
                    .and_then(|q| q.find('\''))
                    .ok_or_else(|| self.error("expected a quoted comment"))?;
                self.pos += end + 2;
            }
            fields.push(Field::new(name, data_type, nullable));
            if !self.eat(",") {
                break;
            }
            // A trailing comma before the end is allowed.
            self.skip_space();
            if self.rest().is_empty() || close.is_some_and(|c| self.rest().starts_with(c)) {
                break;
            }
        }
        Ok(fields)
    }

    fn data_type(&mut self) -> Result<DataType, DdlError> {
        if self.eat("ARRAY") {
            self.expect("<")?;
            let item = self.data_type()?;
            self.expect(">")?;
            return Ok(list_of(item));
        }
        if self.eat("MAP") {
            self.expect("<")?;
            let key = self.data_type()?;
            self.expect(",")?;
            let value = self.data_type()?;
            self.expect(">")?;
            return Ok(map_of(key, value, true));
        }
        if self.eat("STRUCT") {
            self.expect("<")?;
            let fields = self.fields(Some(">"))?;
            self.expect(">")?;
            return Ok(DataType::Struct(Fields::from(fields)));
        }
        if self.eat("DECIMAL") || self.eat("NUMERIC") || self.eat("DEC") {
            if !self.eat("(") {
                return Ok(DataType::Decimal128(10, 0));
            }
            let precision = self.number()?;
            let scale = if self.eat(",") { self.number()? } else { 0 };
            self.expect(")")?;
            let scale = i8::try_from(scale).map_err(|_| self.error("scale too large"))?;
            return Ok(DataType::Decimal128(precision, scale));
        }
        let start = self.pos;
        let name = self.name()?.to_ascii_lowercase();
        let simple = match name.as_str() {
            "string" | "variant" | "json" => DataType::Utf8,
            "varchar" | "char" => {
                self.expect("(")?;
                self.number()?;
                self.expect(")")?;
                DataType::Utf8
            }
            "bigint" | "long" => DataType::Int64,
            "int" | "integer" => DataType::Int32,
            "smallint" | "short" => DataType::Int16,
            "tinyint" | "byte" => DataType::Int8,
            "double" => DataType::Float64,
            "float" | "real" => DataType::Float32,
            "boolean" => DataType::Boolean,
            "date" => DataType::Date32,
            "timestamp" | "timestamp_ltz" => timestamp(),
            "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "binary" => DataType::Binary,
            "void" => DataType::Null,
            _ => {
                self.pos = start;
                return Err(self.error("unknown type"));
            }
        };
        Ok(simple)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_maps() {
        let schema = ddl(
            "a STRING, b BIGINT NOT NULL, c int, d SMALLINT, e TINYINT, f DOUBLE,
             g FLOAT, h BOOLEAN, i DECIMAL(38, 9), j DATE, k TIMESTAMP, l TIMESTAMP_NTZ,
             m BINARY, n ARRAY<STRUCT<x: INT, `y z` STRING NOT NULL>>, o MAP<STRING, BIGINT>,
             p VARIANT COMMENT 'as JSON text', q VARCHAR(10), r DECIMAL,",
        );
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(
            types[..13],
            [
                &DataType::Utf8,
                &DataType::Int64,
                &DataType::Int32,
                &DataType::Int16,
                &DataType::Int8,
                &DataType::Float64,
                &DataType::Float32,
                &DataType::Boolean,
                &DataType::Decimal128(38, 9),
                &DataType::Date32,
                &timestamp(),
                &DataType::Timestamp(TimeUnit::Microsecond, None),
                &DataType::Binary,
            ]
        );
        let item = DataType::Struct(Fields::from(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("y z", DataType::Utf8, false),
        ]));
        assert_eq!(types[13], &list_of(item));
        assert_eq!(types[14], &map_of(DataType::Utf8, DataType::Int64, true));
        assert_eq!(
            types[15..],
            [
                &DataType::Utf8,
                &DataType::Utf8,
                &DataType::Decimal128(10, 0)
            ]
        );
        assert!(!schema.field(1).is_nullable() && schema.field(0).is_nullable());
        assert_eq!(spark_type("decimal(10,2)"), Ok(DataType::Decimal128(10, 2)));
        assert_eq!(spark_type("timestamp_ntz").unwrap(), types[11].clone());
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = parse("id BIGINT, name STRNG").unwrap_err();
        assert_eq!(
            err.to_string(),
            "schema DDL: unknown type at character 16 (near `STRNG`)"
        );
        let err = parse("tags ARRAY<STRING").unwrap_err();
        assert!(err.message.contains("`>`"), "{err}");
        let err = parse("id BIGINT id2 INT").unwrap_err();
        assert!(err.message.contains("`,`"), "{err}");
        assert!(
            parse("id INTERVAL").is_err(),
            "INT must not match the start of INTERVAL"
        );
        assert!(spark_type("struct").is_err());
    }

    #[test]
    fn spark_json_schemas_map_like_ddl() {
        let json = serde_json::json!({"type": "struct", "fields": [
            {"name": "id", "type": "long", "nullable": false, "metadata": {}},
            {"name": "price", "type": "decimal(10,2)", "nullable": true, "metadata": {}},
            {"name": "seen", "type": "timestamp_ntz", "nullable": true, "metadata": {}},
            {"name": "tags", "type": {"type": "array", "elementType": "string",
                "containsNull": false}, "nullable": true, "metadata": {}},
            {"name": "attrs", "type": {"type": "map", "keyType": "string",
                "valueType": "integer", "valueContainsNull": true}, "nullable": true},
            {"name": "owner", "type": {"type": "struct", "fields": [
                {"name": "login", "type": "string", "nullable": false}]}, "nullable": true},
            {"name": "doc", "type": "variant", "nullable": true},
        ]});
        let expected = ddl(
            "id BIGINT NOT NULL, price DECIMAL(10, 2), seen TIMESTAMP_NTZ,
            tags ARRAY<STRING>, attrs MAP<STRING, INT>, owner STRUCT<login: STRING NOT NULL>,
            doc VARIANT",
        );
        let schema = from_spark_json(&json).unwrap();
        assert_eq!(
            schema.field(3).data_type(),
            &DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))),
            "containsNull is kept"
        );
        for i in [0, 1, 2, 4, 5, 6] {
            assert_eq!(schema.field(i), expected.field(i));
        }
        let bad = serde_json::json!({"type": "struct", "fields": [
            {"name": "owner", "type": {"type": "struct", "fields": [
                {"name": "login", "type": "strng"}]}}]});
        let err = from_spark_json(&bad).unwrap_err().to_string();
        assert!(
            err.contains("owner.login") && err.contains("unknown type"),
            "{err}"
        );
    }
}
