//! The tables' schemas, in Spark DDL (see [`lakeflow_kit::schema`]), from Zendesk's objects:
//! nested objects stay structs (`via`, `satisfaction_rating`, attachments), custom field values
//! are text (Zendesk sends strings, numbers, booleans and lists in the same `value`), ids are
//! `BIGINT` and instants UTC `TIMESTAMP`.
//!
//! Objects Zendesk may send empty (`via.source.from`, `user_fields`, an event's `metadata`) are
//! maps: the converter takes `{}` as an empty map, where an empty struct is an error. Every
//! column is nullable but the keys and cursors, which Zendesk always sends.

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_kit::schema::ddl;

/// How a ticket or comment arrived (`channel`: `email`, `web`, `api`, ...).
const VIA: &str = "STRUCT<channel STRING, source STRUCT<from MAP<STRING, STRING>, \
    to MAP<STRING, STRING>, rel STRING>>";
/// `custom_fields` and `fields`: one `{id, value}` per field, the value as text.
const FIELD_VALUES: &str = "ARRAY<STRUCT<id BIGINT, value STRING>>";
const IDS: &str = "ARRAY<BIGINT>";
const STRINGS: &str = "ARRAY<STRING>";
/// An uploaded file (comment attachments, user photos, brand logos).
const ATTACHMENT: &str = "STRUCT<url STRING, id BIGINT, file_name STRING, content_url STRING, \
    mapped_content_url STRING, content_type STRING, size BIGINT, width BIGINT, height BIGINT, \
    inline BOOLEAN, deleted BOOLEAN, malware_scan_result STRING>";

fn schema(columns: &str) -> SchemaRef {
    ddl(columns)
}

pub(crate) fn tickets() -> SchemaRef {
    schema(&format!(
        "id BIGINT NOT NULL, url STRING, external_id STRING, via {VIA}, \
         created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL, generated_timestamp BIGINT, \
         type STRING, subject STRING, raw_subject STRING, description STRING, priority STRING, \
         status STRING, recipient STRING, requester_id BIGINT, submitter_id BIGINT, \
         assignee_id BIGINT, organization_id BIGINT, group_id BIGINT, \
         collaborator_ids {IDS}, follower_ids {IDS}, email_cc_ids {IDS}, forum_topic_id BIGINT, \
         problem_id BIGINT, has_incidents BOOLEAN, is_public BOOLEAN, due_at TIMESTAMP, \
         tags {STRINGS}, custom_fields {FIELD_VALUES}, \
         satisfaction_rating STRUCT<id BIGINT, score STRING, comment STRING, reason STRING, \
         reason_id BIGINT>, \
         sharing_agreement_ids {IDS}, custom_status_id BIGINT, fields {FIELD_VALUES}, \
         followup_ids {IDS}, ticket_form_id BIGINT, brand_id BIGINT, \
         allow_channelback BOOLEAN, allow_attachments BOOLEAN, from_messaging_channel BOOLEAN"
    ))
}

/// The user columns `users` and `deleted_users` share.
const USER_COLUMNS: &str = "id BIGINT NOT NULL, url STRING, name STRING, email STRING, \
    created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL, time_zone STRING, \
    iana_time_zone STRING, phone STRING, shared_phone_number BOOLEAN, locale STRING, \
    locale_id BIGINT, organization_id BIGINT, role STRING, active BOOLEAN";

pub(crate) fn users() -> SchemaRef {
    schema(&format!(
        "{USER_COLUMNS}, photo STRUCT<url STRING, id BIGINT, file_name STRING, \
         content_url STRING, content_type STRING, size BIGINT, width BIGINT, height BIGINT, \
         inline BOOLEAN, deleted BOOLEAN, thumbnails ARRAY<{ATTACHMENT}>>, \
         alias STRING, custom_role_id BIGINT, default_group_id BIGINT, details STRING, \
         external_id STRING, last_login_at TIMESTAMP, moderator BOOLEAN, notes STRING, \
         only_private_comments BOOLEAN, report_csv BOOLEAN, restricted_agent BOOLEAN, \
         role_type BIGINT, shared BOOLEAN, shared_agent BOOLEAN, signature STRING, \
         suspended BOOLEAN, tags {STRINGS}, ticket_restriction STRING, \
         two_factor_auth_enabled BOOLEAN, user_fields MAP<STRING, STRING>, verified BOOLEAN"
    ))
}

pub(crate) fn deleted_users() -> SchemaRef {
    schema(&format!("{USER_COLUMNS}, photo {ATTACHMENT}"))
}

pub(crate) fn organizations() -> SchemaRef {
    schema(&format!(
        "id BIGINT NOT NULL, url STRING, external_id STRING, name STRING, \
         created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL, domain_names {STRINGS}, \
         details STRING, notes STRING, group_id BIGINT, shared_tickets BOOLEAN, \
         shared_comments BOOLEAN, tags {STRINGS}, organization_fields MAP<STRING, STRING>"
    ))
}

/// One row per comment, from the comment events of the ticket events export.
pub(crate) fn ticket_comments() -> SchemaRef {
    schema(&format!(
        "id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, audit_id BIGINT, type STRING, \
         author_id BIGINT, body STRING, html_body STRING, plain_body STRING, public BOOLEAN, \
         attachments ARRAY<{ATTACHMENT}>, via {VIA}, created_at TIMESTAMP NOT NULL"
    ))
}

pub(crate) fn ticket_events() -> SchemaRef {
    schema(&format!(
        "id BIGINT NOT NULL, ticket_id BIGINT, timestamp BIGINT, \
         created_at TIMESTAMP NOT NULL, updater_id BIGINT, via STRING, \
         system MAP<STRING, STRING>, metadata MAP<STRING, STRING>, event_type STRING, \
         child_events ARRAY<STRUCT<id BIGINT, event_type STRING, field_name STRING, \
         value STRING, previous_value STRING, via STRING, via_reference_id BIGINT, \
         type STRING, author_id BIGINT, body STRING, public BOOLEAN, audit_id BIGINT, \
         attachments ARRAY<{ATTACHMENT}>, added_tags {STRINGS}, removed_tags {STRINGS}, \
         tags {STRINGS}, created_at TIMESTAMP>>, \
         merged_ticket_ids {IDS}"
    ))
}

pub(crate) fn ticket_metric_events() -> SchemaRef {
    schema(
        "id BIGINT NOT NULL, ticket_id BIGINT, metric STRING, instance_id BIGINT, type STRING, \
         time TIMESTAMP NOT NULL, deleted BOOLEAN, \
         sla STRUCT<target BIGINT, target_in_seconds BIGINT, business_hours BOOLEAN, \
         policy STRUCT<id BIGINT, title STRING, description STRING>>, \
         status STRUCT<calendar BIGINT, business BIGINT>",
    )
}

pub(crate) fn satisfaction_ratings() -> SchemaRef {
    schema(
        "id BIGINT NOT NULL, url STRING, assignee_id BIGINT, group_id BIGINT, \
         requester_id BIGINT, ticket_id BIGINT, score STRING, comment STRING, reason STRING, \
         reason_id BIGINT, reason_code BIGINT, created_at TIMESTAMP, \
         updated_at TIMESTAMP NOT NULL",
    )
}

pub(crate) fn articles() -> SchemaRef {
    schema(&format!(
        "id BIGINT NOT NULL, url STRING, html_url STRING, author_id BIGINT, \
         comments_disabled BOOLEAN, draft BOOLEAN, promoted BOOLEAN, position BIGINT, \
         vote_sum BIGINT, vote_count BIGINT, section_id BIGINT, created_at TIMESTAMP, \
         updated_at TIMESTAMP NOT NULL, edited_at TIMESTAMP, name STRING, title STRING, \
         source_locale STRING, locale STRING, outdated BOOLEAN, outdated_locales {STRINGS}, \
         user_segment_id BIGINT, permission_group_id BIGINT, content_tag_ids {STRINGS}, \
         label_names {STRINGS}, body STRING"
    ))
}

pub(crate) fn groups() -> SchemaRef {
    schema(
        "id BIGINT NOT NULL, url STRING, name STRING, description STRING, default BOOLEAN, \
         deleted BOOLEAN, is_public BOOLEAN, created_at TIMESTAMP, updated_at TIMESTAMP",
    )
}

pub(crate) fn brands() -> SchemaRef {
    schema(&format!(
        "id BIGINT NOT NULL, url STRING, name STRING, brand_url STRING, subdomain STRING, \
         host_mapping STRING, has_help_center BOOLEAN, help_center_state STRING, \
         active BOOLEAN, default BOOLEAN, is_deleted BOOLEAN, logo {ATTACHMENT}, \
         ticket_form_ids {IDS}, signature_template STRING, created_at TIMESTAMP, \
         updated_at TIMESTAMP"
    ))
}

pub(crate) fn ticket_fields() -> SchemaRef {
    schema(
        "id BIGINT NOT NULL, url STRING, type STRING, title STRING, raw_title STRING, \
         description STRING, raw_description STRING, agent_description STRING, \
         position BIGINT, active BOOLEAN, required BOOLEAN, collapsed_for_agents BOOLEAN, \
         regexp_for_validation STRING, title_in_portal STRING, raw_title_in_portal STRING, \
         visible_in_portal BOOLEAN, editable_in_portal BOOLEAN, required_in_portal BOOLEAN, \
         tag STRING, key STRING, removable BOOLEAN, \
         custom_field_options ARRAY<STRUCT<id BIGINT, name STRING, raw_name STRING, \
         value STRING, default BOOLEAN>>, \
         created_at TIMESTAMP, updated_at TIMESTAMP",
    )
}

pub(crate) fn ticket_forms() -> SchemaRef {
    const CONDITIONS: &str = "ARRAY<STRUCT<parent_field_id BIGINT, value STRING, \
        child_fields ARRAY<STRUCT<id BIGINT, is_required BOOLEAN, \
        required_on_statuses STRUCT<type STRING, statuses ARRAY<STRING>>>>>>";
    schema(&format!(
        "id BIGINT NOT NULL, url STRING, name STRING, raw_name STRING, display_name STRING, \
         raw_display_name STRING, position BIGINT, active BOOLEAN, default BOOLEAN, \
         end_user_visible BOOLEAN, in_all_brands BOOLEAN, restricted_brand_ids {IDS}, \
         ticket_field_ids {IDS}, agent_conditions {CONDITIONS}, \
         end_user_conditions {CONDITIONS}, created_at TIMESTAMP, updated_at TIMESTAMP"
    ))
}

pub(crate) fn macros() -> SchemaRef {
    schema(
        "id BIGINT NOT NULL, url STRING, title STRING, raw_title STRING, description STRING, \
         position BIGINT, active BOOLEAN, default BOOLEAN, \
         actions ARRAY<STRUCT<field STRING, value STRING>>, \
         restriction STRUCT<type STRING, id BIGINT, ids ARRAY<BIGINT>>, \
         created_at TIMESTAMP, updated_at TIMESTAMP",
    )
}

pub(crate) fn topics() -> SchemaRef {
    schema(
        "id BIGINT NOT NULL, url STRING, html_url STRING, name STRING, description STRING, \
         position BIGINT, follower_count BIGINT, manageable_by STRING, user_segment_id BIGINT, \
         created_at TIMESTAMP, updated_at TIMESTAMP",
    )
}

pub(crate) fn tags() -> SchemaRef {
    schema("name STRING NOT NULL, count BIGINT")
}
