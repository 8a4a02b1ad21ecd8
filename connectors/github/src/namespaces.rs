//! Namespaces: the accounts the token reaches (its user and its organizations), and under each
//! account its repositories, so that the Spark data source's `_community_namespaces` and
//! `_community_tables` can browse GitHub:
//!
//! | namespace | children | tables |
//! |---|---|---|
//! | `[]` | `[login]` of the token's user, `[org]` of each of its organizations | `users`, `organizations`, `teams` |
//! | `[owner]` | `[owner, repo]` of each repository of the account | `repositories` |
//! | `[owner, repo]` | none | the repository tables (read with `owner` and `repo` set to the path) |

use lakeflow_connect::{Namespaces, Result};
use lakeflow_kit::ApiClient;
use serde_json::Value;

use crate::client::{GithubClient, with_context};
use crate::config::{Account, login};
use crate::connector::GithubConnector;
use crate::tables::Table;

/// The account tables, listed at the root.
const ACCOUNT_TABLES: [&str; 3] = ["users", "organizations", "teams"];

impl Namespaces for GithubConnector {
    fn list_namespaces(&self, parent: &[String]) -> Result<Vec<Vec<String>>> {
        let client = self.client();
        let children: Vec<String> = match parent {
            [] => {
                let user: Value = client
                    .get("/user")
                    .send_json()
                    .map_err(|e| with_context("namespaces", e))?;
                let mut accounts: Vec<String> = user["login"]
                    .as_str()
                    .map(str::to_owned)
                    .into_iter()
                    .collect();
                accounts.extend(field_of_each(client, "/user/orgs", "login")?);
                accounts
            }
            // A path segment of the request: a name, checked as the table options are.
            [owner] => {
                let account = Account::User(login("namespace", owner)?);
                field_of_each(client, &account.repos_path(), "name")?
            }
            _ => Vec::new(),
        };
        Ok(children
            .into_iter()
            .map(|child| {
                let mut path = parent.to_vec();
                path.push(child);
                path
            })
            .collect())
    }

    fn list_tables_in(&self, namespace: &[String]) -> Result<Vec<String>> {
        let names = |keep: &dyn Fn(Table) -> bool| -> Vec<String> {
            Table::ALL
                .iter()
                .copied()
                .filter(|t| keep(*t))
                .map(|t| t.name().to_owned())
                .collect()
        };
        Ok(match namespace {
            [] => names(&|t| ACCOUNT_TABLES.contains(&t.name())),
            [_] => names(&|t| t.name() == "repositories"),
            [_, _] => names(&|t| t.is_repository_scoped()),
            _ => Vec::new(),
        })
    }
}

/// `field` of every entry of the listing at `path`.
fn field_of_each(client: &GithubClient, path: &str, field: &str) -> Result<Vec<String>> {
    let entries = client.list_all(path, &format!("namespaces ({path})"))?;
    Ok(entries
        .iter()
        .filter_map(|entry| entry[field].as_str().map(str::to_owned))
        .collect())
}
