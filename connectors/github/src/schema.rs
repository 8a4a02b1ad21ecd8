//! Arrow building blocks for GitHub's objects. Nested objects stay structs (a user, a label, a
//! milestone, a branch ref), ids are `Int64`, instants are `Timestamp(Microsecond, UTC)`.
//!
//! Every field is nullable unless GitHub always sends it: the converter rejects a record that
//! lacks a non-nullable field, and GitHub omits or nulls many fields depending on the token's
//! permissions and the object's state.

use std::sync::Arc;

use lakeflow_connect::arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

pub(crate) fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

pub(crate) fn int(name: &str) -> Field {
    Field::new(name, DataType::Int64, true)
}

pub(crate) fn flag(name: &str) -> Field {
    Field::new(name, DataType::Boolean, true)
}

pub(crate) fn instant(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    )
}

/// A key column: always present.
pub(crate) fn required(field: Field) -> Field {
    field.with_nullable(false)
}

pub(crate) fn object(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

pub(crate) fn list(name: &str, item: DataType) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("item", item, true))),
        true,
    )
}

pub(crate) fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn struct_of(field: &Field) -> DataType {
    field.data_type().clone()
}

/// GitHub's "simple user": the account behind an author, assignee, actor, owner, ...
pub(crate) fn user(name: &str) -> Field {
    object(
        name,
        vec![
            text("login"),
            int("id"),
            text("node_id"),
            text("avatar_url"),
            text("url"),
            text("html_url"),
            text("type"),
            flag("site_admin"),
        ],
    )
}

pub(crate) fn users(name: &str) -> Field {
    list(name, struct_of(&user("item")))
}

/// The user fields themselves, for tables whose records are users (assignees, collaborators).
pub(crate) fn user_columns() -> Vec<Field> {
    match user("").data_type() {
        DataType::Struct(fields) => fields
            .iter()
            .map(|f| {
                let f = f.as_ref().clone();
                if f.name() == "id" || f.name() == "login" {
                    required(f)
                } else {
                    f
                }
            })
            .collect(),
        _ => unreachable!("a user is a struct"),
    }
}

pub(crate) fn labels(name: &str) -> Field {
    let label = object(
        "item",
        vec![
            int("id"),
            text("node_id"),
            text("url"),
            text("name"),
            text("description"),
            text("color"),
            flag("default"),
        ],
    );
    list(name, struct_of(&label))
}

pub(crate) fn milestone(name: &str) -> Field {
    object(
        name,
        vec![
            text("url"),
            text("html_url"),
            int("id"),
            text("node_id"),
            int("number"),
            text("title"),
            text("description"),
            user("creator"),
            int("open_issues"),
            int("closed_issues"),
            text("state"),
            instant("created_at"),
            instant("updated_at"),
            instant("due_on"),
            instant("closed_at"),
        ],
    )
}

/// Reaction counts; GitHub names two of them `+1` and `-1`, and so do we.
pub(crate) fn reactions(name: &str) -> Field {
    object(
        name,
        vec![
            text("url"),
            int("total_count"),
            int("+1"),
            int("-1"),
            int("laugh"),
            int("hooray"),
            int("confused"),
            int("heart"),
            int("rocket"),
            int("eyes"),
        ],
    )
}

pub(crate) fn teams(name: &str) -> Field {
    let team = object(
        "item",
        vec![
            int("id"),
            text("node_id"),
            text("url"),
            text("html_url"),
            text("name"),
            text("slug"),
            text("description"),
            text("privacy"),
            text("notification_setting"),
            text("permission"),
        ],
    );
    list(name, struct_of(&team))
}

/// The repository summary nested in pull request refs and workflow runs.
pub(crate) fn repository_summary(name: &str) -> Field {
    object(
        name,
        vec![
            int("id"),
            text("node_id"),
            text("name"),
            text("full_name"),
            flag("private"),
            user("owner"),
            text("html_url"),
            text("description"),
            flag("fork"),
            text("url"),
        ],
    )
}

/// `{"href": ...}` link objects under their relation names (`_links` of comments and reviews).
pub(crate) fn links(name: &str, relations: &[&str]) -> Field {
    object(
        name,
        relations
            .iter()
            .map(|rel| object(rel, vec![text("href")]))
            .collect(),
    )
}

/// `repository_owner` and `repository_name`: which repository a record was read from.
pub(crate) fn repository_columns() -> Vec<Field> {
    vec![
        required(text("repository_owner")),
        required(text("repository_name")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_as_columns_keep_their_keys_required() {
        let columns = user_columns();
        let names: Vec<&str> = columns.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names[..2], ["login", "id"]);
        assert!(!columns[1].is_nullable() && columns[2].is_nullable());
    }
}
