//! HubSpot's associations batch read (`POST /crm/v4/associations/{from}/{to}/batch/read`): the
//! body's `inputs` (`[{"id"}]`) name records of the endpoint's corpus; each record's links to
//! the other object are the list at the spec's field (with path parameters filled in, such as
//! `associations.{to}.results`), entries `{"id", "type"}` as HubSpot's v3 `associations=` shape
//! has them. The answer lists, per input that has links, `{"from": {"id"}, "to": [{"toObjectId",
//! "associationTypes"}]}`; inputs without any are errors of a 207 answer, as HubSpot sends them.

use serde_json::{Map, Value, json};

use super::ApiService;
use crate::api_error::ApiError;
use crate::http1::{Request, Response};
use crate::spec::{AssociationsSpec, Endpoint};
use crate::value::FieldPath;

impl ApiService {
    pub(super) fn batch_associations(
        &self,
        index: usize,
        endpoint: &Endpoint,
        spec: &AssociationsSpec,
        params: &[(String, String)],
        request: &Request,
    ) -> Result<Response, ApiError> {
        let body: Value = serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("Invalid input JSON: {e}")))?;
        let inputs = body
            .get("inputs")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::bad_request("the body needs `inputs`: [{\"id\": ...}]"))?;
        if inputs.len() > spec.max_inputs {
            return Err(ApiError::bad_request(format!(
                "at most {} inputs per batch, got {}",
                spec.max_inputs,
                inputs.len()
            )));
        }
        let mut field = spec.field.clone();
        for (name, value) in params {
            field = field.replace(&format!("{{{name}}}"), value);
        }
        let field = FieldPath::parse(&field).map_err(ApiError::internal)?;
        let id = FieldPath::parse("id").map_err(ApiError::internal)?;
        let records = self.view(index, endpoint, params);
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in inputs {
            let wanted = match input.get("id") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(ApiError::bad_request("each input needs an `id`")),
            };
            let number = wanted.parse::<u64>().ok();
            let record = records.iter().find(|r| {
                id.first(r).is_some_and(|v| match v {
                    Value::String(text) => *text == wanted,
                    other => other.as_u64().is_some_and(|n| Some(n) == number),
                })
            });
            // `lookup` gives each element of the list at the field.
            let links: Vec<Value> = record
                .map(|r| field.lookup(r))
                .unwrap_or_default()
                .into_iter()
                .filter_map(|link| {
                    let to = link.get("id")?;
                    let number = to.as_u64().or_else(|| to.as_str()?.parse().ok())?;
                    Some(json!({"toObjectId": number, "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": link.get("type")}
                    ]}))
                })
                .collect();
            if links.is_empty() {
                errors.push(json!({"status": "error", "category": "OBJECT_NOT_FOUND",
                    "message": format!("No associations found for {wanted}"),
                    "context": {"fromObjectId": [wanted]}}));
            } else {
                results.push(json!({"from": {"id": wanted}, "to": links}));
            }
        }
        let mut answer = Map::new();
        answer.insert("status".to_owned(), json!("COMPLETE"));
        answer.insert("results".to_owned(), Value::Array(results));
        let status = if errors.is_empty() {
            200
        } else {
            answer.insert("numErrors".to_owned(), json!(errors.len()));
            answer.insert("errors".to_owned(), Value::Array(errors));
            207
        };
        Ok(Response::json(status, &Value::Object(answer)))
    }
}
