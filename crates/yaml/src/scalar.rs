//! Scalar resolution with the YAML 1.2 core schema, and the anchors and tags the loader refuses.

use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

use crate::node::ScalarKind;

pub(crate) fn no_anchor(anchor: usize) -> Result<(), String> {
    if anchor == 0 {
        Ok(())
    } else {
        Err("anchors (`&name`) are not supported".into())
    }
}

/// The core-schema tag suffix of `tag`, when it is one (`!!str` -> `str`).
fn core_tag(tag: &Tag) -> Option<&str> {
    (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!").then_some(tag.suffix.as_str())
}

pub(crate) fn no_tag(tag: Option<&Tag>, allowed: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if core_tag(t) == Some(allowed) => Ok(()),
        Some(t) => Err(format!("unsupported tag `{}{}`", t.handle, t.suffix)),
    }
}

/// Resolves a scalar's type: quoted and block scalars are strings, plain ones follow the core
/// schema; the core tags `!!str`, `!!int`, `!!float`, `!!bool` and `!!null` force a type.
pub(crate) fn resolve(
    text: &str,
    style: TScalarStyle,
    tag: Option<&Tag>,
) -> Result<ScalarKind, String> {
    let plain = plain_kind(text);
    let Some(tag) = tag else {
        return Ok(if style == TScalarStyle::Plain {
            plain
        } else {
            ScalarKind::Str
        });
    };
    let wanted = core_tag(tag);
    match (wanted, plain) {
        (Some("str"), _) => Ok(ScalarKind::Str),
        (Some("null"), ScalarKind::Null)
        | (Some("bool"), ScalarKind::Bool(_))
        | (Some("int"), ScalarKind::Int)
        | (Some("float"), ScalarKind::Float) => Ok(plain),
        (Some("float"), ScalarKind::Int) => Ok(ScalarKind::Float),
        (Some(suffix @ ("null" | "bool" | "int" | "float")), _) => {
            Err(format!("`{text}` is not a valid !!{suffix}"))
        }
        _ => Err(format!("unsupported tag `{}{}`", tag.handle, tag.suffix)),
    }
}

/// The YAML 1.2 core schema type of a plain scalar.
fn plain_kind(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float,
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if is_digits(unsigned, 10)
        || text.strip_prefix("0o").is_some_and(|d| is_digits(d, 8))
        || text.strip_prefix("0x").is_some_and(|d| is_digits(d, 16))
    {
        return ScalarKind::Int;
    }
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || is_float(unsigned) {
        return ScalarKind::Float;
    }
    ScalarKind::Str
}

fn is_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, without a sign.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => is_digits(frac, 10),
        Some((int, frac)) => is_digits(int, 10) && (frac.is_empty() || is_digits(frac, 10)),
        None => is_digits(mantissa, 10),
    };
    let exponent_ok =
        exponent.is_none_or(|e| is_digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> ScalarKind {
        plain_kind(text)
    }

    #[test]
    fn core_schema_plain_scalars() {
        for t in ["", "~", "null", "NULL"] {
            assert_eq!(kinds(t), ScalarKind::Null, "{t}");
        }
        assert_eq!(kinds("True"), ScalarKind::Bool(true));
        assert_eq!(kinds("FALSE"), ScalarKind::Bool(false));
        for t in ["0", "-12", "+7", "0o17", "0x1F"] {
            assert_eq!(kinds(t), ScalarKind::Int, "{t}");
        }
        for t in ["1.5", "-.5", "1.", "1e3", "2.5E-3", ".inf", "-.Inf", ".nan"] {
            assert_eq!(kinds(t), ScalarKind::Float, "{t}");
        }
        // YAML 1.1 booleans and other look-alikes are strings in 1.2.
        for t in [
            "yes", "no", "on", "1_000", "0b1", "1.2.3", "e3", ".", "-", "0x", "1e",
        ] {
            assert_eq!(kinds(t), ScalarKind::Str, "{t}");
        }
    }
}
