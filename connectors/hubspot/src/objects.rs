//! Which CRM objects there are and what properties they have: the standard objects, the custom
//! objects the schemas API reports (tables by their name), and each object's property
//! definitions, fetched once per connector.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use lakeflow_connect::{Error, Result};
use lakeflow_kit::ApiClient;
use serde_json::Value;

use crate::client::{HubSpotClient, with_context};
use crate::schema::{ASSOCIATIONS, Kind, Property};

/// The standard CRM objects, each a table of that name.
pub(crate) const STANDARD: [&str; 11] = [
    "contacts",
    "companies",
    "deals",
    "tickets",
    "line_items",
    "products",
    "emails",
    "tasks",
    "notes",
    "calls",
    "meetings",
];

/// A CRM object a table reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrmObject {
    /// The table's name: the standard object's, or the custom object's `name`.
    pub table: String,
    /// The object in request paths: the standard name, or the custom object's fully qualified
    /// name (`p44120311_robots`).
    pub path: String,
    /// The objects of [`ASSOCIATIONS`] it associates with, whose ids its rows carry.
    pub associates: Vec<&'static str>,
}

/// The objects a standard object associates with, among [`ASSOCIATIONS`].
fn standard_associates(object: &str) -> &'static [&'static str] {
    match object {
        "contacts" => &["companies", "deals", "tickets"],
        "companies" => &["contacts", "deals", "tickets"],
        "deals" => &["contacts", "companies", "tickets"],
        "tickets" => &["contacts", "companies", "deals"],
        "line_items" => &["deals"],
        "products" => &[],
        // Engagements.
        _ => &ASSOCIATIONS,
    }
}

/// The standard object of an object type id (`0-1` is contacts), among [`ASSOCIATIONS`].
fn associated_by_type_id(type_id: &str) -> Option<&'static str> {
    match type_id {
        "0-1" => Some("contacts"),
        "0-2" => Some("companies"),
        "0-3" => Some("deals"),
        "0-5" => Some("tickets"),
        _ => None,
    }
}

impl CrmObject {
    /// The property search filters and sorts on: contacts have their own name for it.
    pub(crate) fn last_modified(&self) -> &'static str {
        if self.path == "contacts" {
            "lastmodifieddate"
        } else {
            "hs_lastmodifieddate"
        }
    }
}

/// The objects and properties of one portal, asked for once per connector.
#[derive(Debug, Default)]
pub(crate) struct Catalogue {
    custom: Mutex<Option<Arc<Vec<CrmObject>>>>,
    properties: Mutex<BTreeMap<String, Arc<Vec<Property>>>>,
}

impl Catalogue {
    /// The custom objects (`GET /crm/v3/schemas`).
    pub(crate) fn custom(&self, client: &HubSpotClient) -> Result<Arc<Vec<CrmObject>>> {
        let mut cached = self.custom.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(objects) = cached.as_ref() {
            return Ok(Arc::clone(objects));
        }
        let body: Value = client
            .get("/crm/v3/schemas")
            .send_json()
            .map_err(|e| with_context("the custom object schemas", e))?;
        let objects: Vec<CrmObject> = results(&body, "the custom object schemas")?
            .iter()
            .filter_map(|schema| {
                let name = schema["name"].as_str()?;
                let path = schema["fullyQualifiedName"]
                    .as_str()
                    .or_else(|| schema["objectTypeId"].as_str())?;
                // Several association types may link to one object: one column each.
                let mut associates: Vec<&'static str> = Vec::new();
                let declared = schema["associations"].as_array().into_iter().flatten();
                for to in
                    declared.filter_map(|a| associated_by_type_id(a["toObjectTypeId"].as_str()?))
                {
                    if !associates.contains(&to) {
                        associates.push(to);
                    }
                }
                Some(CrmObject {
                    table: name.to_owned(),
                    path: path.to_owned(),
                    associates,
                })
            })
            .collect();
        let objects = Arc::new(objects);
        *cached = Some(Arc::clone(&objects));
        Ok(objects)
    }

    /// The object `table` reads: a standard object, or a custom object by its name, fully
    /// qualified name or object type id; `None` for any other name.
    pub(crate) fn object(&self, client: &HubSpotClient, table: &str) -> Result<Option<CrmObject>> {
        if STANDARD.contains(&table) {
            return Ok(Some(CrmObject {
                table: table.to_owned(),
                path: table.to_owned(),
                associates: standard_associates(table).to_vec(),
            }));
        }
        Ok(self
            .custom(client)?
            .iter()
            .find(|custom| custom.table == table || custom.path == table)
            .cloned())
    }

    /// The property definitions of `object` (`GET /crm/v3/properties/{object}`), in the order
    /// HubSpot lists them.
    pub(crate) fn properties(
        &self,
        client: &HubSpotClient,
        object: &CrmObject,
    ) -> Result<Arc<Vec<Property>>> {
        let mut cached = self
            .properties
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(properties) = cached.get(&object.path) {
            return Ok(Arc::clone(properties));
        }
        let context = format!("the properties of `{}`", object.table);
        let body: Value = client
            .get(&format!("/crm/v3/properties/{}", object.path))
            .send_json()
            .map_err(|e| with_context(&context, e))?;
        let mut properties = Vec::new();
        for definition in results(&body, &context)? {
            let (Some(name), Some(kind)) =
                (definition["name"].as_str(), Kind::of_definition(definition))
            else {
                return Err(Error::Protocol {
                    message: format!("{context}: a definition without `name` or `type`"),
                });
            };
            properties.push(Property {
                name: name.to_owned(),
                kind,
            });
        }
        let properties = Arc::new(properties);
        cached.insert(object.path.clone(), Arc::clone(&properties));
        Ok(properties)
    }
}

/// The `results` array of a body.
fn results<'b>(body: &'b Value, context: &str) -> Result<&'b Vec<Value>> {
    body["results"].as_array().ok_or_else(|| Error::Protocol {
        message: format!("{context}: the answer has no `results` list"),
    })
}

/// The properties `include` selects (comma-separated names, in the order given; all of them
/// without it), less those `exclude` names. Unknown names are errors naming them.
pub(crate) fn select(
    table: &str,
    all: &[Property],
    include: Option<&str>,
    exclude: Option<&str>,
) -> Result<Vec<Property>> {
    let mut selected = match include {
        None => all.to_vec(),
        Some(option) => named(table, all, "properties", option)?,
    };
    if let Some(option) = exclude {
        let excluded = named(table, all, "exclude_properties", option)?;
        selected.retain(|property| !excluded.contains(property));
    }
    if selected.is_empty() {
        let (option, value) = match (include, exclude) {
            (_, Some(exclude)) => ("exclude_properties", exclude),
            (include, None) => ("properties", include.unwrap_or_default()),
        };
        return Err(Error::invalid_option(
            option,
            value,
            format!("leaves no property of `{table}` to read"),
        ));
    }
    Ok(selected)
}

/// The properties `option` names (comma-separated), each once, in the order given.
fn named(table: &str, all: &[Property], name: &str, option: &str) -> Result<Vec<Property>> {
    let mut selected = Vec::new();
    let mut unknown = Vec::new();
    for wanted in option.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match all.iter().find(|p| p.name == wanted) {
            Some(property) if !selected.contains(property) => selected.push(property.clone()),
            Some(_) => {}
            None => unknown.push(format!("`{wanted}`")),
        }
    }
    if unknown.is_empty() {
        return Ok(selected);
    }
    Err(Error::invalid_option(
        name,
        option,
        format!(
            "{} {} no property of `{table}` (its properties API lists {} of them)",
            unknown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" },
            all.len()
        ),
    ))
}

/// The associated objects an `associations` table option selects (comma-separated, or `none`)
/// among those `object` associates with; all of them without one.
pub(crate) fn select_associates(
    object: &CrmObject,
    option: Option<&str>,
) -> Result<Vec<&'static str>> {
    let Some(option) = option else {
        return Ok(object.associates.clone());
    };
    if option.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut selected = Vec::new();
    for name in option.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match object.associates.iter().find(|a| **a == name) {
            Some(associate) if !selected.contains(associate) => selected.push(*associate),
            Some(_) => {}
            None => {
                let known = if object.associates.is_empty() {
                    "none".to_owned()
                } else {
                    object.associates.join(", ")
                };
                return Err(Error::invalid_option(
                    "associations",
                    option,
                    format!(
                        "`{}` associates with {known} (or say `none`), not `{name}`",
                        object.table
                    ),
                ));
            }
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_properties_option_selects_known_properties() {
        let all: Vec<Property> = ["email", "firstname", "lastmodifieddate"]
            .iter()
            .map(|name| Property {
                name: (*name).to_owned(),
                kind: Kind::Text,
            })
            .collect();
        assert_eq!(select("contacts", &all, None, None).unwrap(), all);
        let some = select("contacts", &all, Some(" email , firstname,email"), None).unwrap();
        assert_eq!(some, all[..2].to_vec());
        let err = select("contacts", &all, Some("email,fax"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`fax`") && err.contains("`contacts`"), "{err}");
        assert!(select("contacts", &all, Some(" , "), None).is_err());
        let rest = select("contacts", &all, None, Some("email")).unwrap();
        assert_eq!(rest, all[1..].to_vec());
        let err = select("contacts", &all, Some("email"), Some("email"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`exclude_properties`") && err.contains("no property"),
            "{err}"
        );
    }

    #[test]
    fn the_associations_option_selects_among_the_objects_associates() {
        let deals = CrmObject {
            table: "deals".to_owned(),
            path: "deals".to_owned(),
            associates: standard_associates("deals").to_vec(),
        };
        assert_eq!(
            select_associates(&deals, None).unwrap(),
            ["contacts", "companies", "tickets"]
        );
        assert_eq!(
            select_associates(&deals, Some("companies, contacts")).unwrap(),
            ["companies", "contacts"]
        );
        assert!(select_associates(&deals, Some("none")).unwrap().is_empty());
        let err = select_associates(&deals, Some("deals"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`deals` associates with contacts"), "{err}");
    }
}
