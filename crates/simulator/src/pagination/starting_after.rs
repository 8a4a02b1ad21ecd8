//! `starting_after` (Stripe): the client passes the id of the last record it saw and reads
//! `has_more`. An id that is not in the list answers 400, as Stripe does.

use serde::Deserialize;
use serde_json::Value;

use super::{PageInput, PageOutput, Paginator, config_from, id_text, path, window};
use crate::api_error::ApiError;
use crate::value::FieldPath;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "super::default_id")]
    id_field: String,
    #[serde(default = "default_has_more")]
    has_more_key: String,
}

fn default_has_more() -> String {
    "has_more".to_owned()
}

#[derive(Debug)]
struct StartingAfter {
    id_field: FieldPath,
    has_more_key: FieldPath,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(StartingAfter {
        id_field: path(&config.id_field)?,
        has_more_key: path(&config.has_more_key)?,
    }))
}

impl Paginator for StartingAfter {
    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let start = match input.query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(after) => {
                let position = input
                    .records
                    .iter()
                    .position(|r| id_text(r, &self.id_field).as_deref() == Some(after));
                match position {
                    Some(i) => i + 1,
                    None => {
                        let param = input
                            .query
                            .cursor_param
                            .as_deref()
                            .unwrap_or("starting_after");
                        return Err(ApiError::bad_request(format!(
                            "No such object: '{after}' (given in `{param}`)"
                        )));
                    }
                }
            }
            None => 0,
        };
        let (records, has_more) = window(input.records, start, input.size);
        let fields = vec![(self.has_more_key.clone(), Value::from(has_more))];
        Ok(PageOutput::in_body(records, fields))
    }
}
