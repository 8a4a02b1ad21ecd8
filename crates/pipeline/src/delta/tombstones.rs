//! The state tables kept beside a destination table, under `_lakeflow/` (ignored by readers):
//! tombstones (the deletes recorded, so a late, older upsert cannot resurrect a key) and the
//! changes an SCD 2 table keeps aside (see `versions.rs`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use url::Url;

use super::rewrite::{OnMatch, Precedence};
use super::table::Target;
use crate::error::{Result, TableContext as _};

/// Column of the tombstone table holding the sequence value of the delete.
pub const TOMBSTONE_SEQUENCE: &str = "__DELETED_AT";

/// Where a table's tombstones live, in the folder of the table's state generation (a full
/// refresh starts a new one).
pub(crate) fn tombstones_url(table_url: &Url, generation: u64) -> Url {
    state_table_url(table_url, generation, "tombstones")
}

/// Where an SCD 2 table keeps the changes that made no version.
pub(crate) fn kept_aside_url(table_url: &Url, generation: u64) -> Url {
    state_table_url(table_url, generation, "unchanged")
}

fn state_table_url(table_url: &Url, generation: u64, name: &str) -> Url {
    let mut url = table_url.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    // Generation 0 keeps the layout of tables made before full refreshes had generations.
    let folder = if generation == 0 {
        format!("_lakeflow/{name}/")
    } else {
        format!("_lakeflow/g{generation}/{name}/")
    };
    url.join(&folder).unwrap_or(url)
}

impl Target {
    /// Records deletes in this tombstone table: key columns plus [`TOMBSTONE_SEQUENCE`]. SCD 1
    /// needs only the newest delete per key; SCD 2 (`every`) keeps each one, since an older
    /// delete still closes a version that a late change opens before it.
    pub(crate) async fn record_deletes(
        &mut self,
        deletes: &RecordBatch,
        keys: &[String],
        sequence: &str,
        every: bool,
    ) -> Result<()> {
        let mut fields: Vec<Arc<Field>> = Vec::new();
        let mut columns = Vec::new();
        for name in keys.iter().map(String::as_str).chain([sequence]) {
            let index = deletes.schema().index_of(name).table(&self.name)?;
            let field = deletes.schema().field(index).clone();
            let field = if name == sequence {
                field.with_name(TOMBSTONE_SEQUENCE).with_nullable(true)
            } else {
                field
            };
            fields.push(Arc::new(field));
            columns.push(deletes.column(index).clone());
        }
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns).table(&self.name)?;
        self.ensure_schema(&schema).await?;
        if every {
            let mut on = keys.to_vec();
            on.push(TOMBSTONE_SEQUENCE.to_owned());
            let add = OnMatch::Upsert(Precedence::Always);
            self.rewrite_matched(&batch, &on, add, None, None).await?;
        } else {
            let newer = OnMatch::Upsert(Precedence::Newer(TOMBSTONE_SEQUENCE));
            self.rewrite_matched(&batch, keys, newer, None, None)
                .await?;
        }
        Ok(())
    }
}
