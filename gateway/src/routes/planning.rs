//! `POST /api/v1/sample-size`: the planning functions of `ab_core`, as the SQL
//! `ab_sample_size_prop` / `ab_sample_size_mean` / `ab_duration_days` compute them.

use ab_core::planning::{duration_days, sample_size_mean, sample_size_prop, Design, RatePair};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::error::{ApiError, Json};

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    /// A conversion rate: `baseline` is the control rate.
    Proportion,
    /// A continuous metric: `sd` is its standard deviation, `mde` an absolute difference.
    Mean,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleSizeRequest {
    pub metric: MetricType,
    /// Control conversion rate (proportion).
    pub baseline: Option<f64>,
    /// Standard deviation (mean).
    pub sd: Option<f64>,
    pub mde: f64,
    /// The MDE is relative to the baseline (proportion only; default true).
    #[serde(default = "ab_core::experiment::default_relative")]
    pub relative: bool,
    #[serde(default = "ab_core::experiment::default_alpha")]
    pub alpha: f64,
    #[serde(default = "ab_core::experiment::default_power")]
    pub power: f64,
    #[serde(default = "two_sided")]
    pub alternative: String,
    /// Treatments compared with control (alpha is split among them).
    #[serde(default = "one")]
    pub comparisons: i32,
    /// Variants including control (default comparisons + 1).
    pub variants: Option<i32>,
    /// Units a day entering the experiment before the traffic fraction, for the duration.
    pub daily_traffic: Option<f64>,
    #[serde(default = "ab_core::experiment::default_traffic")]
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
    let design = Design::new(request.alpha, &request.alternative, request.comparisons)?;
    let n_per_variant = match request.metric {
        MetricType::Proportion => {
            let baseline = request.baseline.ok_or_else(|| ApiError::invalid("baseline", "is required for a proportion"))?;
            sample_size_prop(RatePair::new(baseline, request.mde, request.relative)?, request.power, design)?
        }
        MetricType::Mean => {
            let sd = request.sd.ok_or_else(|| ApiError::invalid("sd", "is required for a mean"))?;
            sample_size_mean(sd, request.mde, request.power, design)?
        }
    };
    let variants = request.variants.unwrap_or(request.comparisons + 1);
    if variants < 2 {
        return Err(ApiError::invalid("variants", format!("must be at least 2, got {variants}")));
    }
    let duration_days = match request.daily_traffic {
        Some(daily) => Some(duration_days(n_per_variant, variants, daily, request.traffic_fraction)?),
        None => None,
    };
    let n_total = n_per_variant.saturating_mul(i64::from(variants));
    Ok(Json(SampleSizeResponse { n_per_variant, variants, n_total, duration_days }))
}
