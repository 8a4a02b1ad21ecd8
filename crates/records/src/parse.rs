//! Parsing of scalar text and JSON numbers: integers, floats, booleans, decimals and binary.
//!
//! Every function is allocation-free except binary decoding, which writes into a caller-owned
//! scratch buffer. Failures are static reasons; the caller adds the value and the expected type.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Number;

/// Why a scalar could not be parsed.
pub(crate) type Reason = &'static str;

pub(crate) const OUT_OF_RANGE: Reason = "out of range";

/// An integer from a JSON number: integers as they are, floats truncated toward zero.
pub(crate) fn int_from_number(n: &Number) -> Result<i128, Reason> {
    if let Some(v) = n.as_i64() {
        return Ok(i128::from(v));
    }
    if let Some(v) = n.as_u64() {
        return Ok(i128::from(v));
    }
    let f = n.as_f64().ok_or("not a finite number")?;
    truncate_float(f)
}

/// `f` truncated toward zero, if it fits an `i128` comfortably (every target type is narrower).
fn truncate_float(f: f64) -> Result<i128, Reason> {
    // 2^64 is beyond every target type; anything larger in magnitude is out of range anyway.
    const LIMIT: f64 = 18_446_744_073_709_551_616.0;
    if !f.is_finite() {
        return Err("not a finite number");
    }
    let t = f.trunc();
    if t.abs() > LIMIT {
        return Err(OUT_OF_RANGE);
    }
    #[allow(clippy::cast_possible_truncation)] // bounded just above
    Ok(t as i128)
}

/// An integer from text: `[+-]digits`, or `[+-]digits.digits` truncated toward zero (the Python
/// original's `int(float(s))`, but exact). Surrounding whitespace is ignored.
pub(crate) fn int_from_str(s: &str) -> Result<i128, Reason> {
    const NOT_INT: Reason = "not an integer";
    let b = s.trim().as_bytes();
    let (neg, digits) = split_sign(b);
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(NOT_INT);
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return Err(NOT_INT);
    }
    let mut acc: i128 = 0;
    for &c in int {
        if !c.is_ascii_digit() {
            return Err(NOT_INT);
        }
        acc = acc
            .checked_mul(10)
            .and_then(|a| a.checked_add(i128::from(c - b'0')))
            .ok_or(OUT_OF_RANGE)?;
    }
    Ok(if neg { -acc } else { acc })
}

fn split_sign(b: &[u8]) -> (bool, &[u8]) {
    match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    }
}

/// A float from text (Rust's float grammar, which also takes `inf` and `NaN`), trimmed.
pub(crate) fn float_from_str(s: &str) -> Result<f64, Reason> {
    s.trim().parse().map_err(|_| "not a number")
}

/// A boolean from text: `true/t/yes/y/1` and `false/f/no/n/0`, any case, trimmed.
pub(crate) fn bool_from_str(s: &str) -> Result<bool, Reason> {
    let s = s.trim();
    const TRUE: [&str; 5] = ["true", "t", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "f", "no", "n", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Ok(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Ok(false)
    } else {
        Err("not a recognised boolean (true/t/yes/y/1 or false/f/no/n/0)")
    }
}

/// The unscaled value of decimal text (`[+-]digits[.digits][e[+-]digits]`) at `scale`, rounded
/// half away from zero, checked against `precision` digits. Exact: no float is involved.
pub(crate) fn decimal_from_str(s: &str, precision: u8, scale: i8) -> Result<i128, Reason> {
    const NOT_DECIMAL: Reason = "not a decimal number";
    let b = s.trim().as_bytes();
    let (neg, rest) = split_sign(b);
    let (mantissa, exp) = match rest.iter().position(|&c| c == b'e' || c == b'E') {
        Some(e) => (
            &rest[..e],
            parse_exponent(&rest[e + 1..]).ok_or(NOT_DECIMAL)?,
        ),
        None => (rest, 0),
    };
    let (int, frac) = match mantissa.iter().position(|&c| c == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    if (int.is_empty() && frac.is_empty()) || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return Err(NOT_DECIMAL);
    }
    let digits = || int.iter().chain(frac).map(|c| c - b'0');
    let n_digits = i64::try_from(int.len() + frac.len()).map_err(|_| NOT_DECIMAL)?;
    let int_len = i64::try_from(int.len()).map_err(|_| NOT_DECIMAL)?;
    // How many leading digits lie at or above the 10^-scale place.
    let keep = int_len + exp + i64::from(scale);
    let mut acc: i128 = 0;
    let overflow = "exceeds the precision";
    if keep > 0 {
        for d in digits().take(usize::try_from(keep.min(n_digits)).unwrap_or(0)) {
            acc = acc
                .checked_mul(10)
                .and_then(|a| a.checked_add(i128::from(d)))
                .ok_or(overflow)?;
        }
        if acc != 0 && keep > n_digits {
            let zeros = u32::try_from(keep - n_digits).map_err(|_| overflow)?;
            acc = 10i128
                .checked_pow(zeros)
                .and_then(|p| acc.checked_mul(p))
                .ok_or(overflow)?;
        }
    }
    // Round half away from zero on the first dropped digit.
    if keep >= 0 && keep < n_digits {
        let first_dropped = digits()
            .nth(usize::try_from(keep).unwrap_or(0))
            .unwrap_or(0);
        if first_dropped >= 5 {
            acc = acc.checked_add(1).ok_or(overflow)?;
        }
    }
    let limit = 10i128
        .checked_pow(u32::from(precision))
        .unwrap_or(i128::MAX);
    if acc >= limit {
        return Err(overflow);
    }
    Ok(if neg { -acc } else { acc })
}

fn parse_exponent(b: &[u8]) -> Option<i64> {
    let (neg, digits) = split_sign(b);
    if digits.is_empty() {
        return None;
    }
    let mut e: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        // Saturate: a huge exponent is an overflow or a zero either way.
        e = (e * 10 + i64::from(c - b'0')).min(1_000_000);
    }
    Some(if neg { -e } else { e })
}

/// The unscaled decimal of a JSON number, from its textual representation.
pub(crate) fn decimal_from_number(n: &Number, precision: u8, scale: i8) -> Result<i128, Reason> {
    if let (Some(v), Ok(s @ 0..=38)) = (n.as_i64(), u32::try_from(scale)) {
        // Fast path: an integer at a non-negative scale needs no text.
        let v = 10i128
            .checked_pow(s)
            .and_then(|p| i128::from(v).checked_mul(p))
            .ok_or("exceeds the precision")?;
        let limit = 10i128
            .checked_pow(u32::from(precision))
            .unwrap_or(i128::MAX);
        return if v.abs() >= limit {
            Err("exceeds the precision")
        } else {
            Ok(v)
        };
    }
    let mut buf = StackText::default();
    write!(buf, "{n}").map_err(|_| "not a decimal number")?;
    decimal_from_str(buf.as_str(), precision, scale)
}

/// A small fixed buffer for formatting a number without allocating.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Bytes from text: standard base64 with padding, else even-length hex, else the UTF-8 bytes.
/// Writes into `out` (cleared first) and returns it.
pub(crate) fn binary_from_str<'a>(s: &'a str, out: &'a mut Vec<u8>) -> &'a [u8] {
    out.clear();
    if STANDARD.decode_vec(s, out).is_ok() {
        return out;
    }
    out.clear();
    let b = s.as_bytes();
    if b.len().is_multiple_of(2) && b.iter().all(u8::is_ascii_hexdigit) {
        out.extend(b.chunks_exact(2).map(|p| (hex(p[0]) << 4) | hex(p[1])));
        return out;
    }
    b
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(int_from_str(" 42 "), Ok(42));
        assert_eq!(int_from_str("-12.7"), Ok(-12));
        assert_eq!(int_from_str("+.5"), Ok(0));
        assert_eq!(int_from_str("5."), Ok(5));
        assert!(int_from_str(".").is_err());
        assert!(int_from_str("1e3").is_err());
        assert!(int_from_str("12.x").is_err());
        assert!(int_from_str("").is_err());
        assert_eq!(
            int_from_str("99999999999999999999999999999999999999999"),
            Err(OUT_OF_RANGE)
        );
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal_from_str("1.005", 10, 2), Ok(101));
        assert_eq!(decimal_from_str("-1.005", 10, 2), Ok(-101));
        assert_eq!(decimal_from_str("1.004", 10, 2), Ok(100));
        assert_eq!(decimal_from_str("0.005", 10, 2), Ok(1));
        assert_eq!(decimal_from_str("0.0049", 10, 2), Ok(0));
        assert_eq!(decimal_from_str("1.5e2", 10, 2), Ok(15000));
        assert_eq!(decimal_from_str("15e-3", 10, 2), Ok(2));
        assert_eq!(decimal_from_str("123", 5, -1), Ok(12));
        assert_eq!(decimal_from_str("125", 5, -1), Ok(13));
        assert_eq!(
            decimal_from_str("999.995", 5, 2),
            Err("exceeds the precision")
        );
        assert_eq!(decimal_from_str("999.994", 5, 2), Ok(99999));
        assert_eq!(decimal_from_str("0e999999999", 5, 2), Ok(0));
        assert!(decimal_from_str("1e999999999", 38, 2).is_err());
        assert!(decimal_from_str("1e", 5, 2).is_err());
        assert!(decimal_from_str("abc", 5, 2).is_err());
    }

    #[test]
    fn binary() {
        let mut buf = Vec::new();
        assert_eq!(binary_from_str("aGk=", &mut buf), b"hi");
        // "0aFf" would be valid base64; six hex digits are not.
        assert_eq!(binary_from_str("0aFf10", &mut buf), [0x0a, 0xff, 0x10]);
        assert_eq!(binary_from_str("hé!", &mut buf), "hé!".as_bytes());
    }
}
