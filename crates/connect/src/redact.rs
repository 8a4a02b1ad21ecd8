//! Scrubbing secret values out of everything a connector says: its errors, its record streams'
//! errors and its `Debug` output.
//!
//! Connectors keep the options they declare secret in [`crate::Secret`] themselves (and the
//! conformance suite checks that they do). What they cannot know is that a value given for an
//! ordinary option is secret too: `base_url = "${GITHUB_TOKEN}"` in a connections file, or
//! `-o base_url=@file` on the command line. [`crate::ConnectorDescriptor::connect`] therefore
//! wraps a connector built with such values so that they never appear in what it reports.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use arrow_schema::SchemaRef;

use crate::{
    ConnectionOptions, Error, LakeflowConnect, Namespaces, Offset, Partition, PartitionedRead,
    PartitionedStream, ReadOutput, RecordStream, Result, TableMetadata, TableOptions,
};

/// Values shorter than this many characters are not scrubbed from free text: they would match
/// ordinary words and numbers and garble every message (an `InvalidOption` about a secret
/// option still never shows its value, whatever its length).
pub const MIN_REDACTED_CHARS: usize = 4;

/// What a secret value is replaced with.
const REDACTED: &str = "***";

/// The secret values of one set of connection options, and the options they belong to.
///
/// `Debug` shows how many values there are, never the values.
#[derive(Clone, Default)]
pub struct Redactor {
    /// The options whose values are secret.
    keys: BTreeSet<String>,
    /// The values scrubbed from text, longest first (so a value containing another goes first).
    values: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("options", &self.keys)
            .field("values", &self.values.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor for the values `options` holds as secret
    /// ([`ConnectionOptions::insert_secret`]).
    pub fn new(options: &ConnectionOptions) -> Self {
        let mut keys = BTreeSet::new();
        let mut values = Vec::new();
        for (key, value) in options.secrets() {
            keys.insert(key.to_owned());
            if value.chars().count() >= MIN_REDACTED_CHARS && !values.iter().any(|v| v == value) {
                values.push(value.to_owned());
            }
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Self { keys, values }
    }

    /// Whether there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `text` with every secret value replaced by `***`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for value in &self.values {
            if text.contains(value.as_str()) {
                text = Cow::Owned(text.replace(value.as_str(), REDACTED));
            }
        }
        text
    }

    fn scrub(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(redacted) => redacted,
        }
    }

    /// `error` with every secret value scrubbed from every part of it.
    pub fn redact_error(&self, error: Error) -> Error {
        if self.is_empty() {
            return error;
        }
        let s = |text: String| self.scrub(text);
        let all = |texts: Vec<String>| texts.into_iter().map(s).collect();
        match error {
            Error::UnknownSource { name, available } => Error::UnknownSource {
                name: s(name),
                available: all(available),
            },
            Error::UnknownTable { table, available } => Error::UnknownTable {
                table: s(table),
                available: all(available),
            },
            Error::MissingOption { option, table } => Error::MissingOption {
                option: s(option),
                table: table.map(s),
            },
            Error::UnknownOption {
                option,
                table,
                known,
            } => Error::UnknownOption {
                option: s(option),
                table: table.map(s),
                known: all(known),
            },
            Error::InvalidOption {
                option,
                value,
                reason,
            } => Error::InvalidOption {
                value: if self.keys.contains(&option) {
                    REDACTED.to_owned()
                } else {
                    s(value)
                },
                option: s(option),
                reason: s(reason),
            },
            Error::InvalidOffset { table, reason } => Error::InvalidOffset {
                table: s(table),
                reason: s(reason),
            },
            Error::InvalidMetadata { table, reason } => Error::InvalidMetadata {
                table: s(table),
                reason: s(reason),
            },
            Error::SchemaMismatch {
                table,
                field,
                reason,
            } => Error::SchemaMismatch {
                table: s(table),
                field: s(field),
                reason: s(reason),
            },
            // Listed, not left to a catch-all, so that a new variant must be redacted here.
            message @ (Error::Auth { .. }
            | Error::RateLimited { .. }
            | Error::Transport { .. }
            | Error::Protocol { .. }
            | Error::Connector { .. }) => message.map_message(s),
            Error::NotSupported { table, operation } => Error::NotSupported {
                table: s(table),
                operation: s(operation),
            },
        }
    }

    /// `connector`, wrapped so that its errors and `Debug` output are scrubbed; unchanged when
    /// there is nothing to scrub.
    pub fn wrap(self, connector: Box<dyn LakeflowConnect>) -> Box<dyn LakeflowConnect> {
        if self.is_empty() {
            connector
        } else {
            Box::new(Redacting {
                inner: connector,
                redactor: self,
            })
        }
    }
}

/// A connector whose every error and `Debug` output goes through a [`Redactor`]. Its optional
/// capabilities are its own, present exactly when the wrapped connector's are.
struct Redacting {
    inner: Box<dyn LakeflowConnect>,
    redactor: Redactor,
}

impl fmt::Debug for Redacting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = if f.alternate() {
            format!("{:#?}", self.inner)
        } else {
            format!("{:?}", self.inner)
        };
        f.write_str(&self.redactor.redact(&text))
    }
}

impl Redacting {
    fn check<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|e| self.redactor.redact_error(e))
    }

    fn stream<'a>(&'a self, records: RecordStream<'a>) -> RecordStream<'a> {
        Box::new(records.map(|record| self.check(record)))
    }

    fn output<'a>(&'a self, output: Result<ReadOutput<'a>>) -> Result<ReadOutput<'a>> {
        let output = self.check(output)?;
        Ok(ReadOutput {
            records: self.stream(output.records),
            end_offset: output.end_offset,
        })
    }
}

/// The wrapped connector's capability, which exists whenever ours is called.
fn capability<'a, C: ?Sized>(capability: Option<&'a C>, table: &str) -> Result<&'a C> {
    capability.ok_or_else(|| Error::not_supported(table, "this capability"))
}

// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl LakeflowConnect for Redacting {
    fn list_tables(&self) -> Result<Vec<String>> {
        self.check(self.inner.list_tables())
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        self.check(self.inner.get_table_schema(table, options))
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        self.check(self.inner.read_table_metadata(table, options))
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.output(self.inner.read_table(table, start, options))
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.output(self.inner.read_table_deletes(table, start, options))
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        self.inner
            .partitioned_reads()
            .map(|_| self as &dyn PartitionedRead)
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        self.inner
            .partitioned_streams()
            .map(|_| self as &dyn PartitionedStream)
    }

    fn namespaces(&self) -> Option<&dyn Namespaces> {
        self.inner.namespaces().map(|_| self as &dyn Namespaces)
    }
}

// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl PartitionedRead for Redacting {
    fn get_partitions(&self, table: &str, options: &TableOptions) -> Result<Vec<Partition>> {
        let reads = capability(self.inner.partitioned_reads(), table)?;
        self.check(reads.get_partitions(table, options))
    }

    fn read_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let reads = capability(self.inner.partitioned_reads(), table)?;
        let records = self.check(reads.read_partition(table, partition, options))?;
        Ok(self.stream(records))
    }
}

// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl PartitionedStream for Redacting {
    fn latest_offset(&self, table: &str, options: &TableOptions) -> Result<Offset> {
        let streams = capability(self.inner.partitioned_streams(), table)?;
        self.check(streams.latest_offset(table, options))
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        let streams = capability(self.inner.partitioned_streams(), table)?;
        self.check(streams.partitions_between(table, start, end, options))
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let streams = capability(self.inner.partitioned_streams(), table)?;
        let records = self.check(streams.read_stream_partition(table, partition, options))?;
        Ok(self.stream(records))
    }
}

// Every method is its own: a default would bypass the wrapper.
#[deny(clippy::missing_trait_methods)]
impl Namespaces for Redacting {
    fn list_namespaces(&self, parent: &[String]) -> Result<Vec<Vec<String>>> {
        let namespaces = capability(self.inner.namespaces(), "")?;
        self.check(namespaces.list_namespaces(parent))
    }

    fn list_tables_in(&self, namespace: &[String]) -> Result<Vec<String>> {
        let namespaces = capability(self.inner.namespaces(), "")?;
        self.check(namespaces.list_tables_in(namespace))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::Schema;

    use super::*;
    use crate::{ConnectorDescriptor, OptionSpec, Record};

    /// A connector that, like many, echoes its (non-secret) base URL in errors and `Debug`.
    #[derive(Debug)]
    struct Echoing {
        base_url: String,
    }

    impl Echoing {
        fn error(&self) -> Error {
            Error::Transport {
                status: Some(500),
                message: format!("GET {}/items failed", self.base_url),
                retriable: false,
            }
        }
    }

    impl LakeflowConnect for Echoing {
        fn list_tables(&self) -> Result<Vec<String>> {
            Err(self.error())
        }

        fn get_table_schema(&self, _: &str, _: &TableOptions) -> Result<SchemaRef> {
            Ok(Arc::new(Schema::empty()))
        }

        fn read_table_metadata(&self, table: &str, _: &TableOptions) -> Result<TableMetadata> {
            Err(Error::invalid_offset(table, self.base_url.clone()))
        }

        fn read_table(
            &self,
            _: &str,
            _: Option<&Offset>,
            _: &TableOptions,
        ) -> Result<ReadOutput<'_>> {
            let records = vec![Ok(Record::new()), Err(self.error())];
            Ok(ReadOutput::streaming(records.into_iter(), None))
        }

        fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
            Some(self)
        }
    }

    impl PartitionedRead for Echoing {
        fn read_partition(
            &self,
            _: &str,
            _: &Partition,
            _: &TableOptions,
        ) -> Result<RecordStream<'_>> {
            Err(self.error())
        }
    }

    fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
        let base_url = options.get("base_url").unwrap_or("https://default.test");
        if !base_url.starts_with("https://") {
            return Err(Error::invalid_option(
                "base_url",
                base_url,
                format!("`{base_url}` must start with https://"),
            ));
        }
        Ok(Box::new(Echoing {
            base_url: base_url.to_owned(),
        }))
    }

    const OPTIONS: &[OptionSpec] = &[OptionSpec::optional("base_url", "API root")];

    const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
        name: "echoing",
        description: "echoes its base URL",
        connection_options: OPTIONS,
        table_options: &[],
        auth: &[],
        constructor: construct,
        simulator: None,
    };

    fn from_env(value: &str) -> ConnectionOptions {
        let mut options = ConnectionOptions::new();
        options.insert_secret("base_url", value);
        options
    }

    #[test]
    fn a_secret_given_for_an_ordinary_option_is_not_echoed_by_validation() {
        let Err(err) = DESCRIPTOR.connect(&from_env("ghp_s3cr3t_token")) else {
            panic!("the constructor should reject the value");
        };
        let text = format!("{err} {err:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert_eq!(
            err.to_string(),
            "invalid value \"***\" for option `base_url`: `***` must start with https://"
        );
        // A short value is never shown as the value of its option either.
        let Err(err) = DESCRIPTOR.connect(&from_env("ab")) else {
            panic!("the constructor should reject the value");
        };
        assert!(
            err.to_string().starts_with("invalid value \"***\""),
            "{err}"
        );
        // A literal value is the user's own text: echoed as before.
        let literal: ConnectionOptions = [("base_url", "ftp://x")].into_iter().collect();
        let Err(err) = DESCRIPTOR.connect(&literal) else {
            panic!("the constructor should reject the value");
        };
        assert!(err.to_string().contains("\"ftp://x\""), "{err}");
    }

    #[test]
    fn a_secret_is_scrubbed_from_everything_the_connector_reports() {
        let connector = DESCRIPTOR
            .connect(&from_env("https://user:s3cr3t@api.test"))
            .unwrap();
        let mut said = vec![
            format!("{connector:?}"),
            format!("{connector:#?}"),
            connector.list_tables().unwrap_err().to_string(),
            connector
                .read_table_metadata("t", &TableOptions::new())
                .unwrap_err()
                .to_string(),
        ];
        let output = connector
            .read_table("t", None, &TableOptions::new())
            .unwrap();
        let records: Vec<_> = output.records.collect();
        assert!(records[0].is_ok());
        said.push(records[1].as_ref().unwrap_err().to_string());
        let reads = connector.partitioned_reads().expect("kept");
        said.push(
            reads
                .read_partition("t", &Partition::new(), &TableOptions::new())
                .err()
                .expect("fails")
                .to_string(),
        );
        assert!(connector.partitioned_streams().is_none());
        assert!(connector.namespaces().is_none());
        for text in &said {
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(text.contains("***"), "{text}");
        }
        assert_eq!(said[2], "transport error (HTTP 500): GET ***/items failed");
    }

    #[test]
    fn redactor_scrubs_longest_values_first_and_skips_short_ones() {
        let mut options = ConnectionOptions::new();
        options.insert_secret("a", "abcd");
        options.insert_secret("b", "abcdef");
        options.insert_secret("c", "xy");
        options.insert("d", "plain");
        let redactor = Redactor::new(&options);
        assert_eq!(redactor.redact("abcdef abcd xy plain"), "*** *** xy plain");
        assert!(matches!(redactor.redact("nothing"), Cow::Borrowed(_)));
        let debug = format!("{redactor:?}");
        assert!(!debug.contains("abcd"), "{debug}");
        assert!(Redactor::new(&ConnectionOptions::new()).is_empty());
    }
}
