//! The tables' schemas, in Spark DDL (see [`lakeflow_kit::schema`]), from Stripe's objects as
//! API version 2024-06-20 writes them: nested objects stay structs, `metadata` is a map of
//! strings, expandable fields are their id strings, amounts `BIGINT` in minor units, Unix times
//! `TIMESTAMP`. A field the schema does not type (never seen with a value, or of several
//! shapes) is `STRING`: the converter writes objects and lists into it as JSON text.
//!
//! Tables kept up to date through events add `changed_at` (see the crate docs). Every column is
//! nullable but the key `id` and the sequence `changed_at`: the rows a deletion leaves for the
//! engine carry only those.

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_kit::schema::ddl;

/// What every table read through events adds.
const CHANGED_AT: &str = "changed_at TIMESTAMP NOT NULL";
/// A postal address (customers, billing details, shipping).
const ADDRESS: &str = "STRUCT<city STRING, country STRING, line1 STRING, line2 STRING, postal_code STRING, state STRING>";

pub(crate) fn customers() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, address {ADDRESS}, balance BIGINT, created TIMESTAMP, \
         currency STRING, delinquent BOOLEAN, description STRING, discount STRUCT<id STRING, \
         object STRING, checkout_session STRING, coupon STRUCT<id STRING, object STRING, \
         amount_off BIGINT, created TIMESTAMP, currency STRING, duration STRING, \
         duration_in_months STRING, livemode BOOLEAN, max_redemptions BIGINT, metadata \
         MAP<STRING, STRING>, name STRING, percent_off DOUBLE, redeem_by TIMESTAMP, \
         times_redeemed BIGINT, valid BOOLEAN>, customer STRING, end TIMESTAMP, invoice STRING, \
         invoice_item STRING, promotion_code STRING, start TIMESTAMP, subscription STRING>, email \
         STRING, invoice_prefix STRING, invoice_settings STRUCT<custom_fields STRING, \
         default_payment_method STRING, footer STRING, rendering_options STRING>, livemode \
         BOOLEAN, metadata MAP<STRING, STRING>, name STRING, next_invoice_sequence BIGINT, phone \
         STRING, preferred_locales ARRAY<STRING>, shipping STRUCT<address {ADDRESS}, name STRING, \
         phone STRING>, tax_exempt STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn charges() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount BIGINT, amount_captured BIGINT, \
         amount_refunded BIGINT, balance_transaction STRING, billing_details STRUCT<address \
         {ADDRESS}, email STRING, name STRING, phone STRING>, calculated_statement_descriptor \
         STRING, captured BOOLEAN, created TIMESTAMP, currency STRING, customer STRING, \
         description STRING, disputed BOOLEAN, failure_code STRING, failure_message STRING, \
         fraud_details MAP<STRING, STRING>, invoice STRING, livemode BOOLEAN, metadata \
         MAP<STRING, STRING>, outcome STRUCT<network_status STRING, reason STRING, risk_level \
         STRING, risk_score BIGINT, seller_message STRING, type STRING>, paid BOOLEAN, \
         payment_intent STRING, payment_method STRING, payment_method_details STRUCT<card \
         STRUCT<amount_authorized BIGINT, brand STRING, checks STRUCT<address_line1_check STRING, \
         address_postal_code_check STRING, cvc_check STRING>, country STRING, exp_month BIGINT, \
         exp_year BIGINT, extended_authorization STRUCT<status STRING>, fingerprint STRING, \
         funding STRING, incremental_authorization STRUCT<status STRING>, installments STRING, \
         last4 STRING, mandate STRING, multicapture STRUCT<status STRING>, network STRING, \
         network_token STRUCT<used BOOLEAN>, overcapture STRUCT<maximum_amount_capturable BIGINT, \
         status STRING>, three_d_secure STRING, wallet STRING>, type STRING>, radar_options \
         MAP<STRING, STRING>, receipt_email STRING, receipt_url STRING, refunded BOOLEAN, status \
         STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn payment_intents() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount BIGINT, amount_capturable BIGINT, \
         amount_details STRUCT<tip MAP<STRING, STRING>>, amount_received BIGINT, \
         automatic_payment_methods STRUCT<allow_redirects STRING, enabled BOOLEAN>, canceled_at \
         TIMESTAMP, cancellation_reason STRING, capture_method STRING, client_secret STRING, \
         confirmation_method STRING, created TIMESTAMP, currency STRING, customer STRING, \
         description STRING, invoice STRING, last_payment_error STRUCT<charge STRING, code \
         STRING, decline_code STRING, doc_url STRING, message STRING, payment_method STRUCT<id \
         STRING, object STRING, allow_redisplay STRING, billing_details STRUCT<address {ADDRESS}, \
         email STRING, name STRING, phone STRING>, card STRUCT<brand STRING, checks \
         STRUCT<address_line1_check STRING, address_postal_code_check STRING, cvc_check STRING>, \
         country STRING, display_brand STRING, exp_month BIGINT, exp_year BIGINT, fingerprint \
         STRING, funding STRING, generated_from STRING, last4 STRING, networks STRUCT<available \
         ARRAY<STRING>, preferred STRING>, three_d_secure_usage STRUCT<supported BOOLEAN>, wallet \
         STRING>, created TIMESTAMP, customer STRING, livemode BOOLEAN, metadata MAP<STRING, \
         STRING>, type STRING>, type STRING>, latest_charge STRING, livemode BOOLEAN, metadata \
         MAP<STRING, STRING>, payment_method STRING, payment_method_options STRUCT<card \
         STRUCT<installments STRING, mandate_options STRING, network STRING, \
         request_three_d_secure STRING>>, payment_method_types ARRAY<STRING>, receipt_email \
         STRING, setup_future_usage STRING, status STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn payment_methods() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, allow_redisplay STRING, billing_details \
         STRUCT<address {ADDRESS}, email STRING, name STRING, phone STRING>, card STRUCT<brand \
         STRING, checks STRUCT<address_line1_check STRING, address_postal_code_check STRING, \
         cvc_check STRING>, country STRING, display_brand STRING, exp_month BIGINT, exp_year \
         BIGINT, fingerprint STRING, funding STRING, generated_from STRING, last4 STRING, \
         networks STRUCT<available ARRAY<STRING>, preferred STRING>, three_d_secure_usage \
         STRUCT<supported BOOLEAN>, wallet STRING>, created TIMESTAMP, customer STRING, livemode \
         BOOLEAN, metadata MAP<STRING, STRING>, type STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn refunds() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount BIGINT, balance_transaction STRING, charge \
         STRING, created TIMESTAMP, currency STRING, destination_details STRUCT<card \
         STRUCT<reference STRING, reference_status STRING, reference_type STRING, type STRING>, \
         type STRING>, metadata MAP<STRING, STRING>, payment_intent STRING, reason STRING, status \
         STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn disputes() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount BIGINT, balance_transactions ARRAY<STRING>, \
         charge STRING, created TIMESTAMP, currency STRING, evidence STRUCT<access_activity_log \
         STRING, billing_address STRING, cancellation_policy STRING, \
         cancellation_policy_disclosure STRING, cancellation_rebuttal STRING, \
         customer_communication STRING, customer_email_address STRING, customer_name STRING, \
         customer_purchase_ip STRING, customer_signature STRING, duplicate_charge_documentation \
         STRING, duplicate_charge_explanation STRING, duplicate_charge_id STRING, \
         product_description STRING, receipt STRING, refund_policy STRING, \
         refund_policy_disclosure STRING, refund_refusal_explanation STRING, service_date \
         TIMESTAMP, service_documentation STRING, shipping_address STRING, shipping_carrier \
         STRING, shipping_date TIMESTAMP, shipping_documentation STRING, shipping_tracking_number \
         STRING, uncategorized_file STRING, uncategorized_text STRING>, evidence_details \
         STRUCT<due_by TIMESTAMP, has_evidence BOOLEAN, past_due BOOLEAN, submission_count \
         BIGINT>, is_charge_refundable BOOLEAN, livemode BOOLEAN, metadata MAP<STRING, STRING>, \
         payment_intent STRING, payment_method_details STRUCT<card STRUCT<brand STRING, case_type \
         STRING, network_reason_code STRING>, type STRING>, reason STRING, status STRING, \
         {CHANGED_AT}"
    ))
}

pub(crate) fn subscriptions() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, automatic_tax STRUCT<disabled_reason STRING, enabled \
         BOOLEAN, liability STRING>, billing_cycle_anchor TIMESTAMP, cancel_at TIMESTAMP, \
         cancel_at_period_end BOOLEAN, canceled_at TIMESTAMP, cancellation_details STRUCT<comment \
         STRING, feedback STRING, reason STRING>, collection_method STRING, created TIMESTAMP, \
         currency STRING, current_period_end TIMESTAMP, current_period_start TIMESTAMP, customer \
         STRING, default_payment_method STRING, default_tax_rates ARRAY<STRING>, discounts \
         ARRAY<STRING>, ended_at TIMESTAMP, invoice_settings STRUCT<account_tax_ids STRING, \
         issuer STRUCT<type STRING>>, items STRUCT<object STRING, data ARRAY<STRUCT<id STRING, \
         object STRING, billing_thresholds STRING, created TIMESTAMP, discounts ARRAY<STRING>, \
         metadata MAP<STRING, STRING>, plan STRUCT<id STRING, object STRING, active BOOLEAN, \
         aggregate_usage STRING, amount BIGINT, amount_decimal STRING, billing_scheme STRING, \
         created TIMESTAMP, currency STRING, interval STRING, interval_count BIGINT, livemode \
         BOOLEAN, metadata MAP<STRING, STRING>, meter STRING, nickname STRING, product STRING, \
         tiers_mode STRING, transform_usage STRING, trial_period_days STRING, usage_type STRING>, \
         price STRUCT<id STRING, object STRING, active BOOLEAN, billing_scheme STRING, created \
         TIMESTAMP, currency STRING, custom_unit_amount STRING, livemode BOOLEAN, lookup_key \
         STRING, metadata MAP<STRING, STRING>, nickname STRING, product STRING, recurring \
         STRUCT<aggregate_usage STRING, interval STRING, interval_count BIGINT, meter STRING, \
         trial_period_days STRING, usage_type STRING>, tax_behavior STRING, tiers_mode STRING, \
         transform_quantity STRING, type STRING, unit_amount BIGINT, unit_amount_decimal STRING>, \
         quantity BIGINT, subscription STRING, tax_rates ARRAY<STRING>>>, has_more BOOLEAN, \
         total_count BIGINT, url STRING>, latest_invoice STRING, livemode BOOLEAN, metadata \
         MAP<STRING, STRING>, payment_settings STRUCT<payment_method_options STRING, \
         payment_method_types STRING, save_default_payment_method STRING>, plan STRUCT<id STRING, \
         object STRING, active BOOLEAN, aggregate_usage STRING, amount BIGINT, amount_decimal \
         STRING, billing_scheme STRING, created TIMESTAMP, currency STRING, interval STRING, \
         interval_count BIGINT, livemode BOOLEAN, metadata MAP<STRING, STRING>, meter STRING, \
         nickname STRING, product STRING, tiers_mode STRING, transform_usage STRING, \
         trial_period_days STRING, usage_type STRING>, quantity BIGINT, start_date TIMESTAMP, \
         status STRING, trial_end TIMESTAMP, trial_settings STRUCT<end_behavior \
         STRUCT<missing_payment_method STRING>>, trial_start TIMESTAMP, {CHANGED_AT}"
    ))
}

pub(crate) fn invoices() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, account_country STRING, account_name STRING, \
         amount_due BIGINT, amount_paid BIGINT, amount_remaining BIGINT, amount_shipping BIGINT, \
         attempt_count BIGINT, attempted BOOLEAN, auto_advance BOOLEAN, automatic_tax \
         STRUCT<enabled BOOLEAN, liability STRING, status STRING>, billing_reason STRING, charge \
         STRING, collection_method STRING, created TIMESTAMP, currency STRING, customer STRING, \
         customer_address {ADDRESS}, customer_email STRING, customer_name STRING, customer_phone \
         STRING, customer_shipping STRUCT<address {ADDRESS}, name STRING, phone STRING>, \
         customer_tax_exempt STRING, customer_tax_ids ARRAY<STRING>, default_tax_rates \
         ARRAY<STRING>, description STRING, discounts ARRAY<STRING>, due_date TIMESTAMP, \
         effective_at TIMESTAMP, ending_balance BIGINT, hosted_invoice_url STRING, invoice_pdf \
         STRING, issuer STRUCT<type STRING>, lines STRUCT<object STRING, data ARRAY<STRUCT<id \
         STRING, object STRING, amount BIGINT, amount_excluding_tax BIGINT, currency STRING, \
         description STRING, discount_amounts ARRAY<STRING>, discountable BOOLEAN, discounts \
         ARRAY<STRING>, invoice STRING, invoice_item STRING, livemode BOOLEAN, metadata \
         MAP<STRING, STRING>, period STRUCT<end TIMESTAMP, start TIMESTAMP>, plan STRUCT<id \
         STRING, object STRING, active BOOLEAN, aggregate_usage STRING, amount BIGINT, \
         amount_decimal STRING, billing_scheme STRING, created TIMESTAMP, currency STRING, \
         interval STRING, interval_count BIGINT, livemode BOOLEAN, metadata MAP<STRING, STRING>, \
         meter STRING, nickname STRING, product STRING, tiers_mode STRING, transform_usage \
         STRING, trial_period_days STRING, usage_type STRING>, price STRUCT<id STRING, object \
         STRING, active BOOLEAN, billing_scheme STRING, created TIMESTAMP, currency STRING, \
         custom_unit_amount STRING, livemode BOOLEAN, lookup_key STRING, metadata MAP<STRING, \
         STRING>, nickname STRING, product STRING, recurring STRUCT<aggregate_usage STRING, \
         interval STRING, interval_count BIGINT, meter STRING, trial_period_days STRING, \
         usage_type STRING>, tax_behavior STRING, tiers_mode STRING, transform_quantity STRING, \
         type STRING, unit_amount BIGINT, unit_amount_decimal STRING>, proration BOOLEAN, \
         proration_details STRUCT<credited_items STRING>, quantity BIGINT, subscription STRING, \
         subscription_item STRING, tax_amounts ARRAY<STRING>, tax_rates ARRAY<STRING>, type \
         STRING, unit_amount_excluding_tax STRING>>, has_more BOOLEAN, total_count BIGINT, url \
         STRING>, livemode BOOLEAN, metadata MAP<STRING, STRING>, next_payment_attempt TIMESTAMP, \
         number STRING, paid BOOLEAN, paid_out_of_band BOOLEAN, payment_intent STRING, \
         payment_settings STRUCT<default_mandate STRING, payment_method_options STRING, \
         payment_method_types STRING>, period_end TIMESTAMP, period_start TIMESTAMP, \
         post_payment_credit_notes_amount BIGINT, pre_payment_credit_notes_amount BIGINT, \
         starting_balance BIGINT, status STRING, status_transitions STRUCT<finalized_at \
         TIMESTAMP, marked_uncollectible_at TIMESTAMP, paid_at TIMESTAMP, voided_at TIMESTAMP>, \
         subscription STRING, subscription_details STRUCT<metadata MAP<STRING, STRING>>, subtotal \
         BIGINT, subtotal_excluding_tax BIGINT, total BIGINT, total_discount_amounts \
         ARRAY<STRING>, total_excluding_tax BIGINT, total_tax_amounts ARRAY<STRING>, \
         webhooks_delivered_at TIMESTAMP, {CHANGED_AT}"
    ))
}

pub(crate) fn invoice_items() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount BIGINT, currency STRING, customer STRING, date \
         TIMESTAMP, description STRING, discountable BOOLEAN, discounts ARRAY<STRING>, invoice \
         STRING, livemode BOOLEAN, metadata MAP<STRING, STRING>, period STRUCT<end TIMESTAMP, \
         start TIMESTAMP>, price STRUCT<id STRING, object STRING, active BOOLEAN, billing_scheme \
         STRING, created TIMESTAMP, currency STRING, custom_unit_amount STRING, livemode BOOLEAN, \
         lookup_key STRING, metadata MAP<STRING, STRING>, nickname STRING, product STRING, \
         recurring STRING, tax_behavior STRING, tiers_mode STRING, transform_quantity STRING, \
         type STRING, unit_amount BIGINT, unit_amount_decimal STRING>, proration BOOLEAN, \
         quantity BIGINT, tax_rates ARRAY<STRING>, unit_amount BIGINT, unit_amount_decimal \
         STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn products() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, active BOOLEAN, attributes ARRAY<STRING>, created \
         TIMESTAMP, default_price STRING, description STRING, images ARRAY<STRING>, livemode \
         BOOLEAN, marketing_features ARRAY<STRING>, metadata MAP<STRING, STRING>, name STRING, \
         shippable BOOLEAN, tax_code STRING, type STRING, unit_label STRING, updated TIMESTAMP, \
         url STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn prices() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, active BOOLEAN, billing_scheme STRING, created \
         TIMESTAMP, currency STRING, livemode BOOLEAN, lookup_key STRING, metadata MAP<STRING, \
         STRING>, nickname STRING, product STRING, recurring STRUCT<aggregate_usage STRING, \
         interval STRING, interval_count BIGINT, meter STRING, trial_period_days STRING, \
         usage_type STRING>, tax_behavior STRING, type STRING, unit_amount BIGINT, \
         unit_amount_decimal STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn plans() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, active BOOLEAN, amount BIGINT, amount_decimal STRING, \
         billing_scheme STRING, created TIMESTAMP, currency STRING, interval STRING, \
         interval_count BIGINT, livemode BOOLEAN, metadata MAP<STRING, STRING>, nickname STRING, \
         product STRING, usage_type STRING, {CHANGED_AT}"
    ))
}

pub(crate) fn coupons() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount_off BIGINT, created TIMESTAMP, currency \
         STRING, duration STRING, duration_in_months BIGINT, livemode BOOLEAN, max_redemptions \
         BIGINT, metadata MAP<STRING, STRING>, name STRING, percent_off DOUBLE, redeem_by \
         TIMESTAMP, times_redeemed BIGINT, valid BOOLEAN, {CHANGED_AT}"
    ))
}

pub(crate) fn balance_transactions() -> SchemaRef {
    ddl(
        "id STRING NOT NULL, object STRING, amount BIGINT, available_on TIMESTAMP, created \
         TIMESTAMP, currency STRING, description STRING, exchange_rate DOUBLE, fee BIGINT, \
         fee_details ARRAY<STRUCT<amount BIGINT, application STRING, currency STRING, description \
         STRING, type STRING>>, net BIGINT, reporting_category STRING, source STRING, status \
         STRING, type STRING",
    )
}

pub(crate) fn payouts() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, amount BIGINT, arrival_date TIMESTAMP, automatic \
         BOOLEAN, balance_transaction STRING, created TIMESTAMP, currency STRING, description \
         STRING, destination STRING, livemode BOOLEAN, metadata MAP<STRING, STRING>, method \
         STRING, reconciliation_status STRING, source_type STRING, status STRING, type STRING, \
         {CHANGED_AT}"
    ))
}

pub(crate) fn setup_intents() -> SchemaRef {
    ddl(&format!(
        "id STRING NOT NULL, object STRING, cancellation_reason STRING, client_secret STRING, \
         created TIMESTAMP, customer STRING, latest_attempt STRING, livemode BOOLEAN, metadata \
         MAP<STRING, STRING>, payment_method STRING, payment_method_options STRUCT<card \
         STRUCT<mandate_options STRING, network STRING, request_three_d_secure STRING>>, \
         payment_method_types ARRAY<STRING>, status STRING, usage STRING, {CHANGED_AT}"
    ))
}

/// Events: their payload is JSON text, since its shape depends on the event's type.
pub(crate) fn events() -> SchemaRef {
    ddl(
        "id STRING NOT NULL, object STRING, api_version STRING, created TIMESTAMP NOT NULL, \
         type STRING, livemode BOOLEAN, pending_webhooks BIGINT, \
         request STRUCT<id STRING, idempotency_key STRING>, \
         data STRUCT<object STRING, previous_attributes STRING>",
    )
}
