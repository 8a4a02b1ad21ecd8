//! `LakeflowConnect` for `Box<T>`, `Arc<T>` and `&T`: each forwards every method, the defaulted
//! ones and the capabilities included, to the connector it points to. The lint on each impl makes
//! a method added to the trait later fail the build until it is forwarded here too, instead of
//! silently taking its default (which would hide the wrapped connector's own).

use std::sync::Arc;

use arrow_schema::SchemaRef;

use crate::{
    LakeflowConnect, Namespaces, Offset, PartitionedRead, PartitionedStream, ReadOutput, Result,
    TableMetadata, TableOptions,
};

/// One forwarding impl per pointer type; `$pointer` derefs to the connector.
macro_rules! forward {
    ($($pointer:ty),+ $(,)?) => {$(
        #[deny(clippy::missing_trait_methods)]
        impl<T: ?Sized + LakeflowConnect> LakeflowConnect for $pointer {
            fn list_tables(&self) -> Result<Vec<String>> {
                (**self).list_tables()
            }

            fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
                (**self).get_table_schema(table, options)
            }

            fn read_table_metadata(
                &self,
                table: &str,
                options: &TableOptions,
            ) -> Result<TableMetadata> {
                (**self).read_table_metadata(table, options)
            }

            fn read_table(
                &self,
                table: &str,
                start: Option<&Offset>,
                options: &TableOptions,
            ) -> Result<ReadOutput<'_>> {
                (**self).read_table(table, start, options)
            }

            fn read_table_deletes(
                &self,
                table: &str,
                start: Option<&Offset>,
                options: &TableOptions,
            ) -> Result<ReadOutput<'_>> {
                (**self).read_table_deletes(table, start, options)
            }

            fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
                (**self).partitioned_reads()
            }

            fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
                (**self).partitioned_streams()
            }

            fn namespaces(&self) -> Option<&dyn Namespaces> {
                (**self).namespaces()
            }
        }
    )+};
}

forward!(Box<T>, Arc<T>, &T);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::Schema;

    use super::*;
    use crate::{Error, Partition, RecordStream, TableMetadata};

    /// A connector with every optional method and capability of its own.
    #[derive(Debug)]
    struct Full;

    impl LakeflowConnect for Full {
        fn list_tables(&self) -> Result<Vec<String>> {
            Ok(vec!["t".to_owned()])
        }

        fn get_table_schema(&self, _: &str, _: &TableOptions) -> Result<SchemaRef> {
            Ok(Arc::new(Schema::empty()))
        }

        fn read_table_metadata(&self, _: &str, _: &TableOptions) -> Result<TableMetadata> {
            Ok(TableMetadata::snapshot(&[]))
        }

        fn read_table(
            &self,
            _: &str,
            _: Option<&Offset>,
            _: &TableOptions,
        ) -> Result<ReadOutput<'_>> {
            Ok(ReadOutput::caught_up(None))
        }

        fn read_table_deletes(
            &self,
            _: &str,
            start: Option<&Offset>,
            _: &TableOptions,
        ) -> Result<ReadOutput<'_>> {
            Ok(ReadOutput::caught_up(start.cloned()))
        }

        fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
            Some(self)
        }

        fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
            Some(self)
        }

        fn namespaces(&self) -> Option<&dyn Namespaces> {
            Some(self)
        }
    }

    impl PartitionedRead for Full {
        fn read_partition(
            &self,
            table: &str,
            _: &Partition,
            _: &TableOptions,
        ) -> Result<RecordStream<'_>> {
            Err(Error::not_supported(table, "read_partition"))
        }
    }

    impl PartitionedStream for Full {
        fn latest_offset(&self, _: &str, _: &TableOptions) -> Result<Offset> {
            Ok(Offset::new())
        }

        fn partitions_between(
            &self,
            _: &str,
            _: Option<&Offset>,
            _: &Offset,
            _: &TableOptions,
        ) -> Result<Vec<Partition>> {
            Ok(Vec::new())
        }

        fn read_stream_partition(
            &self,
            table: &str,
            _: &Partition,
            _: &TableOptions,
        ) -> Result<RecordStream<'_>> {
            Err(Error::not_supported(table, "read_stream_partition"))
        }
    }

    impl Namespaces for Full {
        fn list_namespaces(&self, _: &[String]) -> Result<Vec<Vec<String>>> {
            Ok(vec![vec!["ns".to_owned()]])
        }
    }

    /// What a connector offers beyond the required methods.
    fn extras(connector: &dyn LakeflowConnect) -> (bool, bool, bool, bool) {
        let offset: Offset = [("at".to_owned(), 1.into())].into_iter().collect();
        let deletes = connector
            .read_table_deletes("t", Some(&offset), &TableOptions::new())
            .is_ok_and(|output| output.end_offset == Some(offset));
        (
            deletes,
            connector.partitioned_reads().is_some(),
            connector.partitioned_streams().is_some(),
            connector.namespaces().is_some(),
        )
    }

    #[test]
    fn pointers_forward_the_defaulted_methods_and_every_capability() {
        let everything = (true, true, true, true);
        let boxed: Box<dyn LakeflowConnect> = Box::new(Full);
        let shared: Arc<dyn LakeflowConnect> = Arc::new(Full);
        assert_eq!(extras(&Full), everything);
        // Each pointer as a connector in its own right (not through auto-deref).
        assert_eq!(extras(&boxed as &dyn LakeflowConnect), everything);
        assert_eq!(extras(&shared as &dyn LakeflowConnect), everything);
        assert_eq!(extras(&&Full as &dyn LakeflowConnect), everything);
        assert_eq!(extras(&Box::new(Arc::new(&Full))), everything);
        assert_eq!(boxed.list_tables().unwrap(), ["t"]);
        let namespaces = shared.namespaces().expect("forwarded");
        assert_eq!(namespaces.list_namespaces(&[]).unwrap(), [["ns"]]);
    }
}
