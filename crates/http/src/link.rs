//! The RFC 8288 `Link` header parser (GitHub, GitLab and others paginate with it).

/// Parses an RFC 8288 `Link` header into `(rel, url)` pairs, one per relation type
/// (lower-cased), in order. Commas and semicolons inside `<...>` and quoted values are handled;
/// malformed entries are skipped.
pub fn parse_link_header(value: &str) -> Vec<(String, String)> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let Some(target) = rest.strip_prefix('<') else {
            // Not a link: skip to the next entry.
            match rest.find(',') {
                Some(i) => rest = &rest[i + 1..],
                None => break,
            }
            continue;
        };
        let Some(end) = target.find('>') else { break };
        let url = &target[..end];
        rest = &target[end + 1..];
        let mut rels = Vec::new();
        while let Some(param) = rest.trim_start().strip_prefix(';') {
            let param = param.trim_start();
            let name_end = param.find(['=', ';', ',']).unwrap_or(param.len());
            let name = param[..name_end].trim();
            rest = &param[name_end..];
            let mut value = String::new();
            if let Some(raw) = rest.strip_prefix('=') {
                let raw = raw.trim_start();
                if let Some(quoted) = raw.strip_prefix('"') {
                    let mut escaped = false;
                    let mut close = quoted.len();
                    for (i, c) in quoted.char_indices() {
                        match c {
                            _ if escaped => {
                                value.push(c);
                                escaped = false;
                            }
                            '\\' => escaped = true,
                            '"' => {
                                close = i + 1;
                                break;
                            }
                            _ => value.push(c),
                        }
                    }
                    rest = &quoted[close.min(quoted.len())..];
                } else {
                    let end = raw.find([';', ',']).unwrap_or(raw.len());
                    value = raw[..end].trim().to_owned();
                    rest = &raw[end..];
                }
            }
            if name.eq_ignore_ascii_case("rel") {
                rels.extend(value.split_whitespace().map(str::to_ascii_lowercase));
            }
        }
        links.extend(rels.into_iter().map(|rel| (rel, url.to_owned())));
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
    }

    #[test]
    fn link_headers() {
        let github = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(
            parse_link_header(github),
            pairs(&[
                (
                    "next",
                    "https://api.github.com/repositories/1/issues?page=2"
                ),
                (
                    "last",
                    "https://api.github.com/repositories/1/issues?page=5"
                ),
            ])
        );
        // Commas inside the URL, unquoted and multi-valued rel, extra params, odd spacing.
        let odd = r#"</a?x=1,2>;rel=next;title="a, \"b\"" ,</b> ; rel="prev first""#;
        assert_eq!(
            parse_link_header(odd),
            pairs(&[("next", "/a?x=1,2"), ("prev", "/b"), ("first", "/b")])
        );
        assert!(parse_link_header("").is_empty());
        assert_eq!(
            parse_link_header(r#"garbage, <https://x/2>; REL="Next""#),
            pairs(&[("next", "https://x/2")])
        );
        assert!(parse_link_header("<https://x/unterminated; rel=next").is_empty());
    }
}
