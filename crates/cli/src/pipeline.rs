//! What `run`, `validate` and `status` share: loading a spec, resolving its connection, and
//! building the connector.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use lakeflow_connect::{ConnectionOptions, ConnectorDescriptor, LakeflowConnect};
use lakeflow_pipeline::Warehouse;
use lakeflow_spec::{Connections, PipelineSpec};

/// Where the pipeline's inputs and outputs are.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline spec (YAML or JSON, the original's format).
    pub spec: PathBuf,
    /// The warehouse root: a directory, or an object-store URL (s3://, gs://, az:// with the
    /// matching build feature).
    #[arg(long, default_value = "warehouse", env = "LAKEFLOW_WAREHOUSE")]
    pub warehouse: String,
    /// The connections file (default: lakeflow.toml beside the spec, then $LAKEFLOW_CONFIG, then
    /// ~/.config/lakeflow/lakeflow.toml).
    #[arg(long)]
    pub connections: Option<PathBuf>,
}

/// A loaded spec with its connector.
pub struct Pipeline {
    pub spec: PipelineSpec,
    pub descriptor: &'static ConnectorDescriptor,
    pub connector: Arc<dyn LakeflowConnect>,
    pub warehouse: Warehouse,
}

impl PipelineArgs {
    pub fn load(&self) -> Result<Pipeline> {
        let spec = PipelineSpec::load(&self.spec)?;
        let spec_dir = self.spec.parent().map(Path::to_path_buf);
        let connections = Connections::load(self.connections.as_deref(), spec_dir.as_deref())?;
        let resolved =
            connections.resolve(&spec.connection_name, |name| std::env::var(name).ok())?;
        let (source, options) = match resolved {
            Some(connection) => (connection.source, connection.options),
            None => {
                if lakeflow_connectors::find(&spec.connection_name).is_err() {
                    let looked = connections.origin().map_or_else(
                        || "no connections file was found".to_owned(),
                        |o| format!("not defined in {o}"),
                    );
                    bail!(
                        "{}:{}: unknown connection `{}` ({looked}, and no source has that name)",
                        spec.origin,
                        spec.connection_line,
                        spec.connection_name
                    );
                }
                (spec.connection_name.clone(), ConnectionOptions::new())
            }
        };
        let descriptor = lakeflow_connectors::find(&source)?;
        let connector = descriptor.connect(&options).with_context(|| {
            format!("connection `{}` (source `{source}`)", spec.connection_name)
        })?;
        let warehouse = Warehouse::new(&self.warehouse)?;
        Ok(Pipeline {
            spec,
            descriptor,
            connector: Arc::from(connector),
            warehouse,
        })
    }
}

impl Pipeline {
    /// Every object of the spec resolved against the connector (first error wins).
    pub fn plans(&self) -> Result<Vec<lakeflow_pipeline::FlowPlan>> {
        Ok(lakeflow_pipeline::plan(
            &self.spec,
            self.connector.as_ref(),
            self.descriptor,
            &self.warehouse,
        )?)
    }
}

/// A multi-threaded runtime for the Delta side; connector reads run on its blocking pool.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
