//! The experiment configuration every front end shares: variants, targeting, traffic,
//! layer, metrics, guardrails and the planning inputs, with their validation and the
//! assignment rule built on [`crate::assign`]. The gateway stores it as JSON and answers
//! `/assign` from it; SQL reproduces the same answer with `ab_in_layer`, `ab_in_sample`
//! and `ab_assign`.

use crate::assign::{hash_unit, in_sample};
use crate::error::{InvalidArgument, Result};
use crate::foreign_hash::Hashing;
use crate::text::{check_text, check_text_allow_empty};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// How far the weights may sum from 1 (the contract).
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;
pub const MIN_VARIANTS: usize = 2;
pub const MAX_VARIANTS: usize = 11;
/// Identifiers (experiment, variant, metric ids) are short, printable and URL-safe.
pub const MAX_ID_LEN: usize = 64;
/// [`check_identifier`]'s rule as a JSON Schema pattern, for the documents that state it.
pub const IDENTIFIER_PATTERN: &str = "^[A-Za-z0-9_.-]{1,64}$";

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_.-]{1,64}$"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub weight: f64,
    #[serde(default)]
    pub is_control: bool,
    /// Free-form JSON handed to the client with the assignment (feature-flag payload).
    #[serde(default = "empty_object")]
    pub config: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// One targeting condition on a context attribute: exactly one of `in` and `not_in`.
/// A unit whose context lacks the attribute fails `in` and passes `not_in`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetingRule {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub attribute: String,
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<Value>>,
}

impl TargetingRule {
    fn matches(&self, context: &Map<String, Value>) -> bool {
        let value = context.get(&self.attribute);
        match (&self.any_of, &self.not_in) {
            (Some(allowed), _) => value.is_some_and(|v| allowed.contains(v)),
            (None, Some(denied)) => !value.is_some_and(|v| denied.contains(v)),
            (None, None) => false,
        }
    }
}

/// The share `[lo, hi)` of a mutually exclusive layer this experiment owns.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRange {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    /// The layer's salt: experiments sharing it with disjoint ranges never share a unit.
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub lo: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub hi: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// The user had at least one event of the type (tested with `ab_ztest`).
    Conversion,
    /// A numeric field of the events, summed or averaged per user (tested with `ab_ttest`).
    Continuous,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PerUser {
    #[default]
    Sum,
    Mean,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_.-]{1,64}$"))]
    pub id: String,
    pub kind: MetricKind,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub event_type: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    /// The key of the event's `metrics` object holding the value (continuous metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default)]
    pub per_user: PerUser,
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    /// Days before exposure whose value of the same metric is the CUPED covariate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariate_days: Option<u32>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadDirection {
    Decrease,
    Increase,
}

/// A metric that must not move the wrong way by more than `threshold` (relative lift).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    pub metric: String,
    pub bad_direction: BadDirection,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub threshold: f64,
}

/// What the sample size is planned from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Planning {
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0))]
    pub baseline: f64,
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub mde: f64,
    #[serde(default = "default_relative")]
    pub relative: bool,
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0))]
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0))]
    #[serde(default = "default_power")]
    pub power: f64,
}

/// The defaults of planning inputs wherever they are given (configs, the HTTP API).
pub fn default_relative() -> bool {
    true
}
pub fn default_alpha() -> f64 {
    crate::compare::DEFAULT_ALPHA
}
pub fn default_power() -> f64 {
    crate::planning::DEFAULT_POWER
}
pub fn default_traffic() -> f64 {
    1.0
}

/// Everything that decides which units get which variant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256, required = false))]
    pub salt: String,
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 11))]
    pub variants: Vec<Variant>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    #[serde(default = "default_traffic")]
    pub traffic_fraction: f64,
    #[serde(default)]
    pub targeting: Vec<TargetingRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerRange>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    /// Whose bucketing assigns the units: pg_ab's (docs/contract.md §2, the default) or, for an
    /// experiment migrated from another platform, that platform's.
    #[serde(default, skip_serializing_if = "Hashing::is_pg_ab")]
    pub hashing: Hashing,
}

impl Allocation {
    pub fn validate(&self) -> Result<()> {
        check_text("salt", &self.salt, 256)?;
        check_variants(&self.variants)?;
        if !(0.0..=1.0).contains(&self.traffic_fraction) {
            return Err(InvalidArgument::new(
                "traffic_fraction",
                format!("must be between 0 and 1, got {}", self.traffic_fraction),
            ));
        }
        for rule in &self.targeting {
            check_text("targeting.attribute", &rule.attribute, 256)?;
            let values = match (&rule.any_of, &rule.not_in) {
                (Some(values), None) | (None, Some(values)) => values,
                _ => {
                    return Err(InvalidArgument::new(
                        "targeting",
                        format!("rule on '{}' needs exactly one of 'in' and 'not_in'", rule.attribute),
                    ))
                }
            };
            if values.iter().any(|v| v.is_object() || v.is_array()) {
                return Err(InvalidArgument::new(
                    "targeting",
                    format!("rule on '{}' lists values that are not strings, numbers or booleans", rule.attribute),
                ));
            }
        }
        if let Some(layer) = &self.layer {
            check_text("layer.name", &layer.name, 256)?;
            if !(0.0 <= layer.lo && layer.lo < layer.hi && layer.hi <= 1.0) {
                return Err(InvalidArgument::new(
                    "layer",
                    format!("needs 0 <= lo < hi <= 1, got [{}, {})", layer.lo, layer.hi),
                ));
            }
        }
        self.hashing.validate(&self.weights(), self.traffic_fraction)
    }

    /// Targeting, then the layer range, then the traffic fraction (docs/contract.md §2 order).
    pub fn is_eligible(&self, unit: &str, context: &Map<String, Value>) -> bool {
        self.targeting.iter().all(|rule| rule.matches(context))
            && self.layer.as_ref().is_none_or(|layer| {
                let u = hash_unit(unit, &layer.name);
                layer.lo <= u && u < layer.hi
            })
            && match self.hashing {
                Hashing::PgAb => in_sample(unit, &self.salt, self.traffic_fraction).unwrap_or(false),
                // The vendor's traffic is part of its bucketing: in its coverage iff assigned.
                ref foreign => foreign.assign(unit, &self.weights(), self.traffic_fraction).is_some(),
            }
    }

    /// The 0-based index of the unit's variant by the docs/contract.md §2 hash; the weights are
    /// validated, so this is `ab_assign(unit, salt, weights) - 1`.
    /// With a foreign [`Hashing`] scheme it is the variant that platform gave the unit.
    pub fn variant_index(&self, unit: &str) -> usize {
        let weights = self.weights();
        match self.hashing {
            Hashing::PgAb => crate::assign::assign_index(unit, &self.salt, &weights).map_or(0, |i| i - 1),
            ref foreign => foreign.assign(unit, &weights, self.traffic_fraction).unwrap_or(0),
        }
    }

    fn weights(&self) -> Vec<f64> {
        self.variants.iter().map(|v| v.weight).collect()
    }

    pub fn control(&self) -> Option<&Variant> {
        self.variants.iter().find(|v| v.is_control)
    }
}

fn check_variants(variants: &[Variant]) -> Result<()> {
    if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&variants.len()) {
        return Err(InvalidArgument::new(
            "variants",
            format!("must have {MIN_VARIANTS} to {MAX_VARIANTS} entries, got {}", variants.len()),
        ));
    }
    let mut seen = HashSet::new();
    for variant in variants {
        check_identifier("variants.id", &variant.id)?;
        if !seen.insert(variant.id.as_str()) {
            return Err(InvalidArgument::new("variants", format!("id '{}' appears twice", variant.id)));
        }
        if !(variant.weight.is_finite() && variant.weight >= 0.0) {
            return Err(InvalidArgument::new(
                "variants.weight",
                format!("of '{}' must be finite and non-negative, got {}", variant.id, variant.weight),
            ));
        }
    }
    let controls = variants.iter().filter(|v| v.is_control).count();
    if controls != 1 {
        return Err(InvalidArgument::new("variants", format!("must have exactly one control, got {controls}")));
    }
    let total: f64 = variants.iter().map(|v| v.weight).sum();
    if (total - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
        return Err(InvalidArgument::new("variants.weight", format!("must sum to 1 within 1e-9, got {total}")));
    }
    Ok(())
}

/// When the results of an experiment may be read (`docs/statistics.md`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Analysis {
    /// Once, at the planned sample size: fixed-horizon p-values and confidence intervals.
    #[default]
    Fixed,
    /// At any time: always-valid p-values and confidence sequences, safe to peek at.
    Sequential,
}

impl Analysis {
    fn is_fixed(&self) -> bool {
        *self == Self::Fixed
    }
}

/// The whole configuration of an experiment, as created over HTTP.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_.-]{1,64}$"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    #[serde(default)]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 4096))]
    #[serde(default)]
    pub description: String,
    #[serde(flatten)]
    pub allocation: Allocation,
    #[serde(default)]
    pub metrics: Vec<Metric>,
    #[serde(default)]
    pub guardrails: Vec<Guardrail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planning: Option<Planning>,
    /// Pause the experiment when a guardrail breaches significantly.
    #[serde(default)]
    pub auto_pause: bool,
    #[serde(default, skip_serializing_if = "Analysis::is_fixed")]
    pub analysis: Analysis,
}

impl ExperimentConfig {
    /// Every top-level field, for rejecting unknown ones (serde's `deny_unknown_fields`
    /// does not work through the flattened [`Allocation`]).
    pub const FIELDS: &'static [&'static str] = &[
        "id", "name", "description", "salt", "variants", "traffic_fraction", "targeting", "layer", "hashing", "metrics",
        "guardrails", "planning", "auto_pause", "analysis",
    ];

    /// Parses and validates a configuration given as JSON.
    pub fn from_json(value: Value) -> Result<Self> {
        let object = value.as_object().ok_or_else(|| InvalidArgument::new("experiment", "must be a JSON object"))?;
        if let Some(unknown) = object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())) {
            return Err(InvalidArgument::new("experiment", format!("unknown field '{unknown}'")));
        }
        if let Some(hashing) = object.get("hashing") {
            // Parsed apart so that its errors name the hashing member, not the experiment.
            serde_json::from_value::<Hashing>(hashing.clone()).map_err(|e| InvalidArgument::new("hashing", e.to_string()))?;
        }
        let config: Self = serde_json::from_value(value).map_err(|e| InvalidArgument::new("experiment", e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        check_identifier("id", &self.id)?;
        check_text_allow_empty("name", &self.name, 256)?;
        check_text_allow_empty("description", &self.description, 4096)?;
        self.allocation.validate()?;
        let mut metric_ids = HashSet::new();
        for metric in &self.metrics {
            check_identifier("metrics.id", &metric.id)?;
            check_text("metrics.event_type", &metric.event_type, 128)?;
            if !metric_ids.insert(metric.id.as_str()) {
                return Err(InvalidArgument::new("metrics", format!("id '{}' appears twice", metric.id)));
            }
            match (metric.kind, &metric.field) {
                (MetricKind::Continuous, None) => {
                    return Err(InvalidArgument::new(
                        "metrics.field",
                        format!("metric '{}' is continuous and needs the event field to read", metric.id),
                    ))
                }
                (_, Some(field)) => check_text("metrics.field", field, 128)?,
                (MetricKind::Conversion, None) => {}
            }
            if metric.covariate_days == Some(0) {
                return Err(InvalidArgument::new("metrics.covariate_days", "must be at least 1"));
            }
        }
        for guardrail in &self.guardrails {
            if !metric_ids.contains(guardrail.metric.as_str()) {
                return Err(InvalidArgument::new(
                    "guardrails.metric",
                    format!("'{}' is not one of the experiment's metrics", guardrail.metric),
                ));
            }
            if !(guardrail.threshold.is_finite() && guardrail.threshold >= 0.0) {
                return Err(InvalidArgument::new(
                    "guardrails.threshold",
                    format!("must be a non-negative relative change, got {}", guardrail.threshold),
                ));
            }
        }
        if let Some(planning) = &self.planning {
            let within_planning = |error: InvalidArgument| InvalidArgument {
                argument: match error.argument {
                    "alpha" => "planning.alpha",
                    "power" => "planning.power",
                    "baseline" => "planning.baseline",
                    "mde" => "planning.mde",
                    other => other,
                },
                ..error
            };
            crate::planning::Design::new(planning.alpha, "two-sided", 1).map_err(within_planning)?;
            crate::planning::check_power(planning.power).map_err(within_planning)?;
            crate::planning::RatePair::new(planning.baseline, planning.mde, planning.relative).map_err(within_planning)?;
        }
        Ok(())
    }
}

/// Ids travel in URLs and metric names: letters, digits, `_`, `-`, `.`, at most 64.
pub fn check_identifier(argument: &'static str, id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(InvalidArgument::new(
            argument,
            format!("must be 1 to {MAX_ID_LEN} letters, digits, '_', '-' or '.', got '{id}'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(body: Value) -> ExperimentConfig {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let mut body = two_arms();
        body["trafic_fraction"] = json!(0.5);
        let error = ExperimentConfig::from_json(body).unwrap_err();
        assert!(error.reason.contains("trafic_fraction"), "{error}");
        assert!(ExperimentConfig::from_json(two_arms()).is_ok());
    }

    fn two_arms() -> Value {
        json!({
            "id": "checkout", "salt": "checkout-2026",
            "variants": [
                {"id": "control", "weight": 0.5, "is_control": true},
                {"id": "treatment", "weight": 0.5, "config": {"color": "green"}}
            ]
        })
    }

    #[test]
    fn a_foreign_hashing_scheme_is_parsed_and_its_errors_name_the_field() {
        let mut body = two_arms();
        body["hashing"] = json!({"scheme": "growthbook_v2", "seed": "checkout"});
        let experiment = ExperimentConfig::from_json(body.clone()).unwrap();
        assert_eq!(experiment.allocation.hashing, Hashing::GrowthbookV2 { seed: "checkout".into() });
        body["hashing"] = json!({"scheme": "growthbook_v3", "seed": "checkout"});
        assert_eq!(ExperimentConfig::from_json(body.clone()).unwrap_err().argument, "hashing");
        body["hashing"] = json!({"scheme": "unleash"});
        let error = ExperimentConfig::from_json(body.clone()).unwrap_err();
        assert!(error.argument == "hashing" && error.reason.contains("group_id"), "{error}");
        body["hashing"] = json!({"scheme": "eppo", "salt": "s"});
        body["traffic_fraction"] = json!(0.5);
        assert_eq!(ExperimentConfig::from_json(body).unwrap_err().argument, "hashing.traffic_salt");
        let default = config(two_arms());
        assert!(default.allocation.hashing.is_pg_ab());
        assert!(serde_json::to_value(&default).unwrap().get("hashing").is_none(), "the default is not stored");
    }

    #[test]
    fn a_minimal_experiment_is_valid_with_defaults() {
        let experiment = config(two_arms());
        experiment.validate().unwrap();
        assert_eq!(experiment.allocation.traffic_fraction, 1.0);
        assert_eq!(experiment.allocation.control().unwrap().id, "control");
    }

    #[test]
    fn invalid_configurations_name_their_argument() {
        let cases = [
            ("/variants/1/weight", json!(0.6), "variants.weight"),
            ("/variants/1/is_control", json!(true), "variants"),
            ("/variants/1/id", json!("control"), "variants"),
            ("/variants/1/id", json!("has space"), "variants.id"),
            ("/traffic_fraction", json!(1.5), "traffic_fraction"),
            ("/layer", json!({"name": "l", "lo": 0.5, "hi": 0.5}), "layer"),
            ("/targeting", json!([{"attribute": "country"}]), "targeting"),
            ("/guardrails", json!([{"metric": "nope", "bad_direction": "decrease", "threshold": 0.1}]), "guardrails.metric"),
            ("/planning", json!({"baseline": 0.1, "mde": 0.1, "power": 1.0}), "planning.power"),
            ("/planning", json!({"baseline": 0.1, "mde": 0.1, "alpha": 5e-324}), "planning.alpha"),
        ];
        for (pointer, value, argument) in cases {
            let mut body = two_arms();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let target = if parent.is_empty() { &mut body } else { body.pointer_mut(parent).unwrap() };
            target[key] = value;
            let error = config(body).validate().unwrap_err();
            assert_eq!(error.argument, argument, "{pointer}: {error}");
        }
    }

    #[test]
    fn variant_counts_outside_2_to_11_are_rejected() {
        for n in [1usize, 12] {
            let variants: Vec<Value> = (0..n)
                .map(|i| json!({"id": format!("v{i}"), "weight": 1.0 / n as f64, "is_control": i == 0}))
                .collect();
            let mut body = two_arms();
            body["variants"] = Value::Array(variants);
            assert_eq!(config(body).validate().unwrap_err().argument, "variants");
        }
    }

    #[test]
    fn targeting_in_and_not_in_treat_missing_attributes_as_documented() {
        let mut body = two_arms();
        body["targeting"] = json!([{"attribute": "country", "in": ["US", "CA"]}, {"attribute": "beta", "not_in": [true]}]);
        let experiment = config(body);
        experiment.validate().unwrap();
        let context = |v: Value| v.as_object().unwrap().clone();
        let allocation = &experiment.allocation;
        assert!(allocation.is_eligible("u1", &context(json!({"country": "US"}))));
        assert!(!allocation.is_eligible("u1", &context(json!({"country": "US", "beta": true}))));
        assert!(!allocation.is_eligible("u1", &context(json!({"country": "DE"}))));
        assert!(!allocation.is_eligible("u1", &context(json!({}))));
    }

    #[test]
    fn layers_split_units_without_overlap() {
        let with_layer = |lo: f64, hi: f64| {
            let mut body = two_arms();
            body["layer"] = json!({"name": "homepage", "lo": lo, "hi": hi});
            config(body).allocation
        };
        let (left, right) = (with_layer(0.0, 0.3), with_layer(0.3, 1.0));
        let empty = Map::new();
        let mut in_left = 0;
        for i in 0..10_000 {
            let unit = format!("user-{i}");
            let (a, b) = (left.is_eligible(&unit, &empty), right.is_eligible(&unit, &empty));
            assert!(a != b, "{unit} must be in exactly one side of the layer");
            in_left += usize::from(a);
        }
        assert!((2_700..3_300).contains(&in_left), "{in_left} of 10000 in a 30% range");
    }
}
