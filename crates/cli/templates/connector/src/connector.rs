//! [`{{Name}}Connector`]: the `LakeflowConnect` implementation, dispatching each table to the
//! kit's strategy its definition names.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    ConnectionOptions, Error, LakeflowConnect, MAX_RECORDS_PER_BATCH, Offset, ReadOutput, Result,
    TableMetadata, TableOptions, check_options, parse_option, positive_option,
};
use lakeflow_kit::ascending::{Ascending, read_since};
use lakeflow_kit::time::{format_ts, horizon, parse_ts};
use lakeflow_kit::{ReadCtx, ReadSettings, Snapshot};

use crate::CONNECTION_OPTIONS;
use crate::client::{{Name}}Client;
use crate::tables::{Read, TABLES};

const DEFAULT_MAX_RECORDS: u64 = 1000;
const MAX_PER_PAGE: u64 = 100;

/// The `{{name}}` connector.
///
/// Its construction time bounds every incremental read (see [`lakeflow_kit::time::horizon`]):
/// records changed in or after the second it was built are left to a connector built later.
///
/// `Debug` shows the client, never the token.
#[derive(Debug)]
pub struct {{Name}}Connector {
    client: {{Name}}Client,
    init: DateTime<Utc>,
}

impl {{Name}}Connector {
    /// Builds a connector from connection options (`base_url`, `api_token`).
    ///
    /// # Errors
    /// [`Error::MissingOption`], [`Error::UnknownOption`] or [`Error::InvalidOption`] naming
    /// the offending option.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        check_options(options.keys(), CONNECTION_OPTIONS, None)?;
        Ok(Self {
            client: {{Name}}Client::new(options)?,
            init: Utc::now(),
        })
    }
}

impl LakeflowConnect for {{Name}}Connector {
    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(TABLES.names())
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        TABLES.schema(table, options)
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        TABLES.metadata(table, options)
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let (def, read) = TABLES.read(table, options)?;
        let settings = read_settings(options)?;
        let ctx = ReadCtx {
            table: def.name,
            source: &self.client,
            settings,
            horizon: horizon(self.init),
        };
        match read {
            Read::Ascending { path } => {
                let asc = Ascending {
                    ctx: &ctx,
                    cursor: def.cursor.unwrap_or("updated_at"),
                    key: def.primary_keys.first().copied().unwrap_or("id"),
                    keep: |_| true,
                    filters_since: true,
                    decorate: &|_| {},
                };
                let request = |since: Option<DateTime<Utc>>| {
                    let request = self
                        .client
                        .get(path)
                        .query("sort", "updated_at")
                        .query("direction", "asc")
                        .query("per_page", settings.per_page);
                    match since {
                        Some(since) => request.query("since", format_ts(since)),
                        None => request,
                    }
                };
                let (records, end) = read_since(&asc, start, &request)?;
                Ok(ReadOutput::from_records(records, end))
            }
            Read::Snapshot { path } => {
                let request = self.client.get(path).query("per_page", settings.per_page);
                let pages = ctx.pages(request, "");
                Ok(ReadOutput::streaming(
                    Snapshot::new(&ctx, pages, |_| {}),
                    None,
                ))
            }
        }
    }
}

/// The settings the kit's strategies read by, from the table options (checked by the registry).
fn read_settings(options: &TableOptions) -> Result<ReadSettings> {
    let get = |name: &str| {
        options
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let max_records = positive_option(options, MAX_RECORDS_PER_BATCH, DEFAULT_MAX_RECORDS)?;
    let per_page = parse_option(get("per_page"), "per_page", MAX_PER_PAGE)?;
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        let raw = get("per_page").unwrap_or_default();
        return Err(Error::invalid_option(
            "per_page",
            raw,
            "must be between 1 and 100",
        ));
    }
    let lookback = parse_option(get("lookback_seconds"), "lookback_seconds", 0_i64)?;
    if lookback < 0 {
        let raw = get("lookback_seconds").unwrap_or_default();
        return Err(Error::invalid_option(
            "lookback_seconds",
            raw,
            "must not be negative",
        ));
    }
    let start_date = get("start_date")
        .map(|raw| {
            parse_date(raw).ok_or_else(|| {
                Error::invalid_option(
                    "start_date",
                    raw,
                    "expected RFC 3339 (2024-01-01T00:00:00Z) or a date (2024-01-01)",
                )
            })
        })
        .transpose()?;
    Ok(ReadSettings {
        start_date,
        lookback: TimeDelta::seconds(lookback),
        max_records: usize::try_from(max_records).unwrap_or(usize::MAX),
        per_page,
        window: TimeDelta::days(1),
    })
}

/// RFC 3339, or a date meaning its midnight UTC.
fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    parse_ts(raw).or_else(|| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|at| at.and_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> TableOptions {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn settings_parse_and_name_bad_values() {
        let settings = read_settings(&options(&[("start_date", "2024-03-01")])).unwrap();
        assert_eq!(
            settings.start_date.map(format_ts).as_deref(),
            Some("2024-03-01T00:00:00Z")
        );
        for (name, value) in [
            ("start_date", "yesterday"),
            ("per_page", "0"),
            ("lookback_seconds", "-5"),
            (MAX_RECORDS_PER_BATCH, "0"),
        ] {
            let err = read_settings(&options(&[(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
