//! Every registered connector runs the conformance suite: adding a descriptor to `CONNECTORS`
//! without a `connectors/<name>/tests/conformance.rs` that builds a `Conformance` suite and
//! asserts that it passed fails CI.

use std::path::PathBuf;

use lakeflow_connectors::{CONNECTOR_CRATES, CONNECTORS};

/// What the code of a conformance test must contain: building the suite and asserting its
/// report. Comments are left out before searching, so a mention in a comment does not count.
const REQUIRED: [&str; 2] = ["Conformance::", ".assert_passed()"];

#[test]
fn every_registered_connector_has_a_conformance_test() {
    // crates/connectors -> the workspace root.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut missing = Vec::new();
    for (descriptor, krate) in CONNECTORS.iter().zip(CONNECTOR_CRATES) {
        // `connectors/<name>`, or for a source built into the framework (`python`: the
        // `lakeflow_pyhost` crate) `crates/<crate without lakeflow_>`.
        let builtin = root
            .join("crates")
            .join(krate.trim_start_matches("lakeflow_"))
            .join("tests/conformance.rs");
        let path = root
            .join("connectors")
            .join(descriptor.name)
            .join("tests/conformance.rs");
        let path = if path.exists() { path } else { builtin };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let lacking = lacking(&text);
                if !lacking.is_empty() {
                    missing.push(format!(
                        "{}: {} has no {} outside comments",
                        descriptor.name,
                        path.display(),
                        lacking.join(" or ")
                    ));
                }
            }
            Err(error) => missing.push(format!(
                "{}: cannot read {}: {error}",
                descriptor.name,
                path.display()
            )),
        }
    }
    assert!(
        missing.is_empty(),
        "connectors without a conformance test (see docs/connector-development.md):\n{}",
        missing.join("\n")
    );
    assert!(!CONNECTORS.is_empty());
}

/// `lakeflow sources` shows how each source authenticates, and users configure it with the
/// options the method names: every registered connector declares at least one auth method, and
/// each option a method names is one of its connection options.
#[test]
fn every_registered_connector_declares_sound_auth_methods() {
    let mut problems = Vec::new();
    for descriptor in CONNECTORS {
        if descriptor.auth.is_empty() {
            problems.push(format!(
                "{}: declares no auth method (use `AuthKind::None` when it needs none)",
                descriptor.name
            ));
        }
        problems.extend(descriptor.auth_problems());
    }
    assert!(
        problems.is_empty(),
        "unsound auth declarations:\n{}",
        problems.join("\n")
    );
}

/// The entries of [`REQUIRED`] that the code of `source` (without comments) lacks.
fn lacking(source: &str) -> Vec<&'static str> {
    let code = without_comments(source);
    REQUIRED
        .into_iter()
        .filter(|needle| !code.contains(needle))
        .collect()
}

/// `source` with line and block comments (doc comments included) removed. String literals are
/// kept whole, so `"http://..."` is not mistaken for a comment; a `'` starts a character literal
/// only when one character (or an escape) and a closing `'` follow, otherwise it is a lifetime.
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let next = chars.get(i + 1).copied();
        match chars[i] {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                // Block comments nest in Rust.
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            'r' if matches!(next, Some('"' | '#')) && !ident_before(&chars, i) => {
                // A raw string: r"..." or r#"..."#, closed by a quote and as many hashes.
                let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
                let open = i + 1 + hashes;
                let end = if chars.get(open) == Some(&'"') {
                    let closes = |at: &usize| {
                        chars[*at] == '"'
                            && chars[at + 1..]
                                .iter()
                                .take(hashes)
                                .filter(|c| **c == '#')
                                .count()
                                == hashes
                    };
                    (open + 1..chars.len())
                        .find(closes)
                        .map_or(chars.len(), |at| at + 1 + hashes)
                } else {
                    i + 1
                };
                out.extend(&chars[i..end]);
                i = end;
            }
            '"' => {
                out.push('"');
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    match chars[i] {
                        '\\' => {
                            if let Some(&escaped) = chars.get(i + 1) {
                                out.push(escaped);
                            }
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            '\'' => {
                let literal = match (next, chars.get(i + 2), chars.get(i + 3)) {
                    (Some('\\'), _, _) => chars[i + 2..]
                        .iter()
                        .position(|c| *c == '\'')
                        .map(|at| i + 2 + at + 1),
                    (Some(_), Some('\''), _) => Some(i + 3),
                    _ => None,
                };
                let end = literal.unwrap_or(i + 1);
                out.extend(&chars[i..end]);
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Whether the character before `i` belongs to an identifier: then an `r` at `i` is part of
/// it (`for"` cannot occur, but `bar#` in a macro could), not a raw string prefix.
fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

#[test]
fn a_suite_mentioned_only_in_comments_does_not_count() {
    let commented = r#"
        // Conformance::new(&DESCRIPTOR).run().assert_passed();
        /* Conformance::new(&DESCRIPTOR)
           /* nested */ .run().assert_passed(); */
        /// lakeflow_testkit::Conformance::new(&DESCRIPTOR).run().assert_passed()
        fn conformance() { let url = "http://example.test"; let c = '"'; }
    "#;
    assert_eq!(lacking(commented), REQUIRED.to_vec());
    let partial = "fn t() { lakeflow_testkit::Conformance::new(&D).run(); } // .assert_passed()";
    assert_eq!(lacking(partial), [".assert_passed()"]);
    let real = r##"
        fn t<'a>(x: &'a str) {
            let url = "http://x.test/*"; // a comment
            let raw = r#"not "a" comment // here"#;
            let quote = '\'';
            Conformance::new(&D).run().assert_passed();
        }
    "##;
    assert!(lacking(real).is_empty(), "{}", without_comments(real));
    // Strings that look like comments stay strings.
    assert!(without_comments(real).contains("\"http://x.test/*\""));
    assert!(without_comments(real).contains("not \"a\" comment // here"));
    assert!(!without_comments(real).contains("a comment\n"));
}
