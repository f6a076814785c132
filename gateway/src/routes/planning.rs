//! `POST /api/v1/sample-size`: the planning functions of `ab_core`, as the SQL
//! `ab_sample_size_prop` / `ab_sample_size_mean` / `ab_duration_days` compute them.

use ab_core::planning::{duration_days, sample_size_mean, sample_size_prop, Design, RatePair};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::error::{ApiError, Json};

pub use ab_core::planning::{MIN_ALPHA, MIN_POWER};

/// `ab_core`'s bounds of `alpha` and `power` ([`MIN_ALPHA`], [`MIN_POWER`], below 1), the
/// same for a sample size and an experiment's planning inputs (`within` is "planning."), and
/// declared in the OpenAPI document.
pub fn check_design(alpha: f64, power: f64, within: &str) -> Result<(), ApiError> {
    Design::new(alpha, "two-sided", 1)
        .and_then(|_| ab_core::planning::check_power(power))
        .map(|_| ())
        .map_err(|e| ApiError::invalid(&format!("{within}{}", e.argument), e.reason))
}

/// What to plan for, told apart by `metric`. Rules the schema cannot state answer 422: a
/// proportion's treatment rate (`baseline` moved by `mde`) must stay inside (0, 1), a
/// sample size must fit in 64 bits and a duration in 32, and the duration needs a sample
/// size of at least one unit.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum SampleSizeRequest {
    /// A conversion rate: `baseline` is the control rate, and `mde` is relative to it unless
    /// `relative` is false.
    Proportion {
        #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
        baseline: f64,
        #[serde(default = "ab_core::experiment::default_relative")]
        relative: bool,
        #[serde(flatten)]
        plan: Plan,
    },
    /// A continuous metric: `sd` is its standard deviation, `mde` an absolute difference.
    Mean {
        #[schema(exclusive_minimum = 0.0)]
        sd: f64,
        #[serde(flatten)]
        plan: Plan,
    },
}

/// The alternative hypothesis (scipy's 'greater' and 'less' are accepted too). The field is
/// read as text so that a wrong value is named by `Design::new`'s message.
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
pub enum Alternative {
    TwoSided,
    Larger,
    Smaller,
    Greater,
    Less,
}

/// The design shared by both metrics.
#[derive(Deserialize, ToSchema)]
pub struct Plan {
    /// The effect to detect, not 0 (a decrease is negative); see `crate::app` for the schema.
    pub mde: f64,
    #[serde(default = "ab_core::experiment::default_alpha")]
    #[schema(minimum = 2.2250738585072014e-308, exclusive_maximum = 1.0)]
    pub alpha: f64,
    #[serde(default = "ab_core::experiment::default_power")]
    #[schema(minimum = 1.1102230246251565e-16, exclusive_maximum = 1.0)]
    pub power: f64,
    #[serde(default = "two_sided")]
    #[schema(value_type = Alternative)]
    pub alternative: String,
    /// Treatments compared with control (alpha is split among them).
    #[serde(default = "one")]
    #[schema(minimum = 1)]
    pub comparisons: i32,
    /// Variants including control (default comparisons + 1).
    #[schema(minimum = 2)]
    pub variants: Option<i32>,
    /// Units a day entering the experiment before the traffic fraction, for the duration.
    #[schema(exclusive_minimum = 0.0)]
    pub daily_traffic: Option<f64>,
    #[serde(default = "ab_core::experiment::default_traffic")]
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub traffic_fraction: f64,
}

fn two_sided() -> String {
    "two-sided".to_owned()
}
fn one() -> i32 {
    1
}

#[derive(Serialize, ToSchema)]
pub struct SampleSizeResponse {
    pub n_per_variant: i64,
    pub variants: i32,
    pub n_total: i64,
    /// Days to reach the sample size, when `daily_traffic` is given.
    pub duration_days: Option<i32>,
}

/// The sample size per variant (and the duration) for a planned experiment.
#[utoipa::path(post, path = "/api/v1/sample-size", request_body = SampleSizeRequest,
    responses((status = 200, body = SampleSizeResponse), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn sample_size(_: Admin, Json(request): Json<SampleSizeRequest>) -> Result<Json<SampleSizeResponse>, ApiError> {
    let plan = match &request {
        SampleSizeRequest::Proportion { plan, .. } | SampleSizeRequest::Mean { plan, .. } => plan,
    };
    check_design(plan.alpha, plan.power, "")?;
    let design = Design::new(plan.alpha, &plan.alternative, plan.comparisons)?;
    let n_per_variant = match &request {
        SampleSizeRequest::Proportion { baseline, relative, .. } => {
            sample_size_prop(RatePair::new(*baseline, plan.mde, *relative)?, plan.power, design)?
        }
        SampleSizeRequest::Mean { sd, .. } => sample_size_mean(*sd, plan.mde, plan.power, design)?,
    };
    let variants = plan.variants.unwrap_or(plan.comparisons.saturating_add(1));
    if variants < 2 {
        return Err(ApiError::invalid("variants", format!("must be at least 2, got {variants}")));
    }
    let duration_days = match plan.daily_traffic {
        Some(daily) => Some(duration_days(n_per_variant, variants, daily, plan.traffic_fraction)?),
        None => None,
    };
    let n_total = n_per_variant.saturating_mul(i64::from(variants));
    Ok(Json(SampleSizeResponse { n_per_variant, variants, n_total, duration_days }))
}
