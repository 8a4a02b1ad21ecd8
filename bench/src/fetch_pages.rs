//! The floor a source sets: fetches every page of a listing one after another, as a tool
//! paging through it does, and discards the bodies (no parsing, no conversion, no writing).
//! `bench/e2e.py` times it beside the tools, on the same simulator, in the same run.
//!
//! Usage: `fetch-pages URL TOKEN` follows `Link: <...>; rel="next"` from `URL` with bearer
//! `TOKEN`, and prints `{"pages": N, "bytes": B}`.

use std::io::Read as _;

use anyhow::{Context as _, Result, bail};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(first), Some(token)) = (args.next(), args.next()) else {
        bail!("usage: fetch-pages URL TOKEN");
    };
    let agent = ureq::Agent::new_with_defaults();
    let (mut pages, mut bytes) = (0u64, 0u64);
    let mut next = Some(url::Url::parse(&first).context("the first URL")?);
    let mut body = Vec::with_capacity(1 << 20);
    while let Some(url) = next.take() {
        let mut response = agent
            .get(url.as_str())
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .with_context(|| format!("GET {url}"))?;
        next = response
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link)
            .map(|link| url.join(&link))
            .transpose()
            .context("the next link")?;
        body.clear();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .context("reading a page")?;
        pages += 1;
        bytes += body.len() as u64;
    }
    println!("{{\"pages\": {pages}, \"bytes\": {bytes}}}");
    Ok(())
}

/// The target of `rel="next"` in a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}
