//! Reads Python's `marshal` format (version 4), in which the host sends record chunks: the
//! interpreter writes it several times faster than JSON, which is most of what the host adds to
//! a connector's own cost. Only the types a chunk of JSON-like records holds are read: `None`,
//! booleans, integers, floats, strings, bytes (as base64, as the JSON path sends them), lists,
//! tuples, sets and dicts; the host sends anything else (dates, decimals, rows) as JSON instead.
//!
//! The format, as CPython's `Python/marshal.c` writes it: one type byte (the high bit set means
//! "remember this object": later `r <index>` refers back to it), then the value. CPython flags
//! every object with more than one reference, most of which are never referred back to (a
//! chunk's list, records the connector also holds), so a flagged container is remembered by
//! where its bytes are and decoded again only if something refers to it.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

/// What cannot be read, and where.
#[derive(Debug, thiserror::Error)]
#[error("marshal data: {message} at byte {at}")]
pub(crate) struct MarshalError {
    message: String,
    at: usize,
}

const FLAG_REF: u8 = 0x80;

/// The value `bytes` holds.
pub(crate) fn read(bytes: &[u8]) -> Result<Value, MarshalError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        refs: Vec::new(),
        replaying: false,
    };
    let value = reader.value()?;
    if reader.at != bytes.len() {
        return Err(reader.error("trailing bytes after the value"));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Objects flagged for reference, in order.
    refs: Vec<Remembered>,
    /// Decoding a container again for a reference: its flags were registered the first time.
    replaying: bool,
}

/// A flagged object, as a reference gets it back.
enum Remembered {
    /// A container still being read (a reference to it would be a cycle).
    Pending,
    Scalar(Value),
    /// A container: the bytes of its encoding, type byte first.
    Container(usize, usize),
}

impl Reader<'_> {
    fn error(&self, message: &str) -> MarshalError {
        MarshalError {
            message: message.to_owned(),
            at: self.at,
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], MarshalError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error("unexpected end"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, MarshalError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<usize, MarshalError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn i32(&mut self) -> Result<i32, MarshalError> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn text(&mut self, len: usize) -> Result<String, MarshalError> {
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Err(self.error("a string that is not UTF-8")),
        }
    }

    fn value(&mut self) -> Result<Value, MarshalError> {
        let start = self.at;
        let code = self.byte()?;
        let slot = (code & FLAG_REF != 0 && !self.replaying).then(|| {
            self.refs.push(Remembered::Pending);
            self.refs.len() - 1
        });
        let value = match code & !FLAG_REF {
            b'N' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'i' => Value::from(self.i32()?),
            b'l' => self.long()?,
            b'g' => {
                let b = self.take(8)?;
                float(f64::from_le_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))
            }
            b'u' | b't' | b'a' | b'A' => {
                let len = self.u32()?;
                Value::String(self.text(len)?)
            }
            b'z' | b'Z' => {
                let len = usize::from(self.byte()?);
                Value::String(self.text(len)?)
            }
            b's' => {
                let len = self.u32()?;
                let bytes = self.take(len)?;
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            b'[' | b'(' | b'<' | b'>' => {
                let len = self.u32()?;
                self.items(len)?
            }
            b')' => {
                let len = usize::from(self.byte()?);
                self.items(len)?
            }
            b'{' => self.dict()?,
            b'r' => {
                let index = self.u32()?;
                match self.refs.get(index) {
                    Some(Remembered::Scalar(value)) => value.clone(),
                    Some(Remembered::Container(from, to)) => self.replay(*from, *to)?,
                    _ => return Err(self.error("a reference to an unknown object")),
                }
            }
            other => {
                self.at -= 1;
                return Err(self.error(&format!("unsupported type code {:?}", char::from(other))));
            }
        };
        if let Some(slot) = slot {
            self.refs[slot] = if value.is_array() || value.is_object() {
                Remembered::Container(start, self.at)
            } else {
                Remembered::Scalar(value.clone())
            };
        }
        Ok(value)
    }

    /// The container encoded at `from..to`, decoded again.
    fn replay(&mut self, from: usize, to: usize) -> Result<Value, MarshalError> {
        let (at, replaying) = (self.at, self.replaying);
        self.at = from;
        self.replaying = true;
        let value = self.value();
        let consumed = self.at;
        (self.at, self.replaying) = (at, replaying);
        match value {
            Ok(_) if consumed != to => Err(self.error("a referenced object decoded differently")),
            other => other,
        }
    }

    fn items(&mut self, len: usize) -> Result<Value, MarshalError> {
        // The length comes from the data: do not trust it for an allocation.
        let mut items = Vec::with_capacity(len.min(self.bytes.len() - self.at));
        for _ in 0..len {
            items.push(self.value()?);
        }
        Ok(Value::Array(items))
    }

    /// Key, value, key, value, ..., then `0`. JSON keys are strings: other keys become their
    /// JSON text, as `json.dumps` writes them.
    fn dict(&mut self) -> Result<Value, MarshalError> {
        let mut map = Map::new();
        loop {
            if self.bytes.get(self.at) == Some(&b'0') {
                self.at += 1;
                return Ok(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(key) => key,
                other => other.to_string(),
            };
            let value = self.value()?;
            map.insert(key, value);
        }
    }

    /// An integer too large for `i`: base-2^15 digits, least significant first, the count's
    /// sign the number's.
    fn long(&mut self) -> Result<Value, MarshalError> {
        let count = self.i32()?;
        let mut digits = Vec::new();
        for _ in 0..count.unsigned_abs() {
            let b = self.take(2)?;
            digits.push(u16::from_le_bytes([b[0], b[1]]));
        }
        let mut magnitude: u128 = 0;
        for digit in digits.iter().rev() {
            magnitude = magnitude
                .checked_mul(1 << 15)
                .and_then(|m| m.checked_add(u128::from(*digit)))
                .ok_or_else(|| self.error("an integer beyond 128 bits"))?;
        }
        let number = if count < 0 {
            i64::try_from(magnitude).ok().map(|m| Number::from(-m))
        } else {
            u64::try_from(magnitude).ok().map(Number::from)
        };
        // Beyond 64 bits: its digits, which the records crate reads for decimals and strings.
        Ok(number.map_or_else(
            || {
                let sign = if count < 0 { "-" } else { "" };
                Value::String(format!("{sign}{magnitude}"))
            },
            Value::Number,
        ))
    }
}

/// A float; the non-finite ones as the strings the JSON path sends.
fn float(value: f64) -> Value {
    Number::from_f64(value).map_or_else(
        || {
            Value::String(
                if value.is_nan() {
                    "NaN"
                } else if value > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                }
                .to_owned(),
            )
        },
        Value::Number,
    )
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use serde_json::json;

    use super::*;

    /// `marshal.dumps(<expr>, 4)` by the test machine's `python3`.
    fn dumps(expr: &str) -> Vec<u8> {
        let code =
            format!("import marshal, sys; sys.stdout.buffer.write(marshal.dumps({expr}, 4))");
        let out = Command::new("python3")
            .args(["-c", &code])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    fn records_read_as_json_would_give_them() {
        let expr = r#"[{"id": i, "name": "user-%d" % i, "é": "ünï", "score": i / 4, "ok": i % 2 == 0,
            "none": None, "tags": ["a", "b"], "t": (1, 2), "nested": {"x": i}, "raw": b"\x00\xff",
            "big": 2**70, "neg": -(2**40), "nan": float("nan"), "inf": float("-inf"), 3: "int key"}
            for i in range(3)]"#;
        let value = read(&dumps(expr)).unwrap();
        let first = &value[0];
        assert_eq!(first["id"], json!(0));
        assert_eq!(first["name"], json!("user-0"));
        assert_eq!(first["é"], json!("ünï"));
        assert_eq!(value[1]["score"], json!(0.25));
        assert_eq!(first["ok"], json!(true));
        assert_eq!(first["none"], Value::Null);
        assert_eq!(first["tags"], json!(["a", "b"]));
        assert_eq!(first["t"], json!([1, 2]));
        assert_eq!(value[2]["nested"], json!({"x": 2}));
        assert_eq!(first["raw"], json!("AP8="));
        assert_eq!(first["big"], json!("1180591620717411303424"));
        assert_eq!(first["neg"], json!(-1_099_511_627_776_i64));
        assert_eq!(
            (&first["nan"], &first["inf"]),
            (&json!("NaN"), &json!("-Infinity"))
        );
        assert_eq!(first["3"], json!("int key"));
        // Shared objects (interned keys, a list referenced twice) come back whole.
        let shared = read(&dumps("(lambda l: [l, l, {'k': l}])([1, 'x'])")).unwrap();
        assert_eq!(shared, json!([[1, "x"], [1, "x"], {"k": [1, "x"]}]));
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        for bytes in [
            &b"["[..],
            b"[\xff\xff\xff\xff",
            b"r\x05\x00\x00\x00",
            b"\x01",
            b"NN",
        ] {
            assert!(read(bytes).is_err(), "{bytes:?}");
        }
    }
}
