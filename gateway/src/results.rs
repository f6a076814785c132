//! An experiment's results as one JSON document, read from the snapshots the maintenance
//! task refreshes (ab.variant_metrics, ab.results, ab.srm), the views over them
//! (ab.guardrails, ab.sample_size_progress) and their history (ab.results_daily,
//! ab.exposures_daily), plus a recommendation. The numbers are the extension's; this module
//! only arranges them and decides what to say about them.

use serde::Serialize;
use serde_json::Value;
use tokio_postgres::GenericClient;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::store::{self, Experiment};

#[derive(Serialize, ToSchema)]
pub struct Results {
    #[schema(value_type = Object)]
    pub experiment: Experiment,
    /// When the snapshot was computed (at most 30 s + the refresh time old while the gateway runs).
    pub computed_at: Option<String>,
    /// ab.variant_metrics rows: per variant and metric.
    #[schema(value_type = Vec<Object>)]
    pub variant_metrics: Vec<Value>,
    /// ab.results rows: each treatment against control, per metric. `analysis` says whether
    /// `p_value`, `holm_p_value` and the intervals are fixed-horizon or always-valid
    /// ("sequential"); `chance_to_win` is the posterior probability that the treatment is better.
    #[schema(value_type = Vec<Object>)]
    pub comparisons: Vec<Value>,
    /// Each comparison over time (ab.results_daily), ordered like `comparisons` (by metric, then
    /// treatment): per UTC day of data, its figures over the users first exposed by the end of
    /// that day. The last day's point counts every user, so it is `comparisons`' figures once
    /// the tick has reached it; `settled` is false while that day is not over.
    pub daily: Vec<ComparisonSeries>,
    /// Users first exposed per variant and UTC day (ab.exposures_daily), variants in
    /// configuration order, days in order; a day without exposures is left out.
    pub exposures_daily: Vec<VariantExposures>,
    /// The ab.srm row, null before any exposure.
    #[schema(value_type = Option<Object>)]
    pub srm: Value,
    #[schema(value_type = Vec<Object>)]
    pub guardrails: Vec<Value>,
    /// The ab.sample_size_progress row, null without planning inputs.
    #[schema(value_type = Option<Object>)]
    pub sample_size: Value,
    pub recommendation: Recommendation,
}

#[derive(Serialize, ToSchema)]
pub struct ComparisonSeries {
    pub metric_id: String,
    pub treatment_id: String,
    /// The ab.results_daily rows of this comparison, oldest day first, without experiment_id,
    /// metric_id and treatment_id: `day` (the UTC date), then `units_control`, `rel_lift`,
    /// `rel_ci_low`, `p_value`, `significant`, `analysis`, `chance_to_win`, … meaning what
    /// they mean in `comparisons`, `settled` (false while the day is not over: its figures so
    /// far) and `computed_at`.
    #[schema(value_type = Vec<Object>)]
    pub points: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct VariantExposures {
    pub variant_id: String,
    pub days: Vec<DailyUnits>,
}

#[derive(Serialize, ToSchema)]
pub struct DailyUnits {
    /// The UTC day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub day: String,
    /// Users first exposed that day.
    pub units: i64,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct Recommendation {
    /// "ship", "keep_control", "no_winner_yet" or "do_not_trust".
    pub decision: &'static str,
    /// The treatment to ship, when the decision is "ship".
    pub winner: Option<String>,
    /// 1 − Holm-adjusted p-value of the best treatment on the primary metric.
    pub confidence: Option<f64>,
    /// The primary metric: the first metric of the experiment.
    pub primary_metric: Option<String>,
    /// srm_mismatch, guardrail_breach:<metric>:<treatment>, underpowered, no_data.
    pub warnings: Vec<String>,
}

async fn rows(client: &impl GenericClient, sql: &str, id: &str) -> Result<Vec<Value>, ApiError> {
    let rows = client.query(&format!("SELECT to_jsonb(r) FROM ({sql}) r"), &[&id]).await?;
    Ok(rows.iter().map(|row| row.get::<_, Value>(0)).collect())
}

/// Each comparison's days (ab.results_daily), one series per comparison.
async fn daily(client: &impl GenericClient, id: &str) -> Result<Vec<ComparisonSeries>, ApiError> {
    let rows = client
        .query(
            "SELECT metric_id, treatment_id, to_jsonb(d) - 'experiment_id' - 'metric_id' - 'treatment_id'
             FROM ab.results_daily d WHERE experiment_id = $1 ORDER BY metric_id, treatment_id, day",
            &[&id],
        )
        .await?;
    let mut series: Vec<ComparisonSeries> = Vec::new();
    for row in &rows {
        let (metric_id, treatment_id): (String, String) = (row.get(0), row.get(1));
        match series.last_mut() {
            Some(last) if last.metric_id == metric_id && last.treatment_id == treatment_id => last.points.push(row.get(2)),
            _ => series.push(ComparisonSeries { metric_id, treatment_id, points: vec![row.get(2)] }),
        }
    }
    Ok(series)
}

/// Each variant's days of first exposures (ab.exposures_daily), every variant listed.
async fn exposures_daily(client: &impl GenericClient, id: &str) -> Result<Vec<VariantExposures>, ApiError> {
    let rows = client
        .query(
            "SELECT v.variant_id, d.day::text, d.units
             FROM ab.variants v
             LEFT JOIN ab.exposures_daily d ON d.experiment_id = v.experiment_id AND d.variant_id = v.variant_id
             WHERE v.experiment_id = $1 ORDER BY v.position, d.day",
            &[&id],
        )
        .await?;
    let mut variants: Vec<VariantExposures> = Vec::new();
    for row in &rows {
        let variant_id: String = row.get(0);
        if variants.last().is_none_or(|last| last.variant_id != variant_id) {
            variants.push(VariantExposures { variant_id, days: Vec::new() });
        }
        if let (Some(day), Some(units)) = (row.get::<_, Option<String>>(1), row.get::<_, Option<i64>>(2)) {
            variants.last_mut().expect("pushed above").days.push(DailyUnits { day, units });
        }
    }
    Ok(variants)
}

pub async fn load(client: &impl GenericClient, id: &str) -> Result<Results, ApiError> {
    let experiment = store::get(client, id).await?;
    let variant_metrics =
        rows(client, "SELECT * FROM ab.variant_metrics WHERE experiment_id = $1 ORDER BY metric_id, variant_id", id).await?;
    let comparisons = rows(client, "SELECT * FROM ab.results WHERE experiment_id = $1 ORDER BY metric_id, treatment_id", id).await?;
    let daily = daily(client, id).await?;
    let exposures_daily = exposures_daily(client, id).await?;
    let srm = rows(client, "SELECT * FROM ab.srm WHERE experiment_id = $1", id).await?.pop().unwrap_or(Value::Null);
    let guardrails =
        rows(client, "SELECT * FROM ab.guardrails WHERE experiment_id = $1 ORDER BY metric_id, treatment_id", id).await?;
    let sample_size =
        rows(client, "SELECT * FROM ab.sample_size_progress WHERE experiment_id = $1", id).await?.pop().unwrap_or(Value::Null);
    let computed_at = comparisons
        .first()
        .or(srm.as_object().map(|_| &srm))
        .and_then(|row| row["computed_at"].as_str())
        .map(str::to_owned);
    let primary = experiment.config.metrics.first().map(|m| m.id.clone());
    let recommendation = recommend(primary, &comparisons, &srm, &guardrails, &sample_size);
    Ok(Results {
        experiment,
        computed_at,
        variant_metrics,
        comparisons,
        daily,
        exposures_daily,
        srm,
        guardrails,
        sample_size,
        recommendation,
    })
}

/// Ship the treatment with the largest significant (Holm) improvement on the primary metric,
/// unless the experiment cannot be trusted (sample-ratio mismatch) or a guardrail breached
/// significantly; keep control when every treatment is significantly worse. "Better" is a
/// positive difference: metrics are defined so that more is better (guardrails cover the rest).
pub fn recommend(primary: Option<String>, comparisons: &[Value], srm: &Value, guardrails: &[Value], sample_size: &Value) -> Recommendation {
    let mut warnings = Vec::new();
    if srm["mismatch"] == Value::Bool(true) {
        warnings.push("srm_mismatch".to_owned());
    }
    for breach in guardrails.iter().filter(|g| g["significant_breach"] == Value::Bool(true)) {
        warnings.push(format!("guardrail_breach:{}:{}", breach["metric_id"].as_str().unwrap_or(""), breach["treatment_id"].as_str().unwrap_or("")));
    }
    if sample_size["progress"].as_f64().is_some_and(|p| p < 1.0) {
        warnings.push("underpowered".to_owned());
    }
    let on_primary: Vec<&Value> = comparisons.iter().filter(|c| Some(c["metric_id"].as_str().unwrap_or("")) == primary.as_deref()).collect();
    if on_primary.is_empty() {
        warnings.push("no_data".to_owned());
    }
    let holm = |c: &Value| c["holm_p_value"].as_f64();
    let best = on_primary
        .iter()
        .filter(|c| c["significant"] == Value::Bool(true) && c["diff"].as_f64().is_some_and(|d| d > 0.0))
        .max_by(|a, b| a["rel_lift"].as_f64().unwrap_or(0.0).total_cmp(&b["rel_lift"].as_f64().unwrap_or(0.0)));
    let all_worse = !on_primary.is_empty()
        && on_primary.iter().all(|c| c["significant"] == Value::Bool(true) && c["diff"].as_f64().is_some_and(|d| d < 0.0));
    let trusted = !warnings.iter().any(|w| w == "srm_mismatch" || w.starts_with("guardrail_breach"));
    let (decision, winner, confidence) = match (trusted, best) {
        (false, _) => ("do_not_trust", None, None),
        (true, Some(best)) => ("ship", best["treatment_id"].as_str().map(str::to_owned), holm(best).map(|p| 1.0 - p)),
        (true, None) if all_worse => ("keep_control", None, on_primary.iter().filter_map(|c| holm(c)).reduce(f64::max).map(|p| 1.0 - p)),
        // How sure we are that the most promising treatment is better.
        (true, None) => {
            let promising = on_primary.iter().max_by(|a, b| a["rel_lift"].as_f64().unwrap_or(f64::MIN).total_cmp(&b["rel_lift"].as_f64().unwrap_or(f64::MIN)));
            ("no_winner_yet", None, promising.and_then(|c| holm(c)).map(|p| 1.0 - p))
        }
    };
    Recommendation { decision, winner, confidence, primary_metric: primary, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn comparison(treatment: &str, diff: f64, holm: f64) -> Value {
        json!({"metric_id": "purchase", "treatment_id": treatment, "diff": diff, "rel_lift": diff * 10.0,
               "holm_p_value": holm, "significant": holm < 0.05})
    }

    #[test]
    fn the_best_significant_treatment_wins_unless_the_experiment_is_broken() {
        let primary = Some("purchase".to_owned());
        let comparisons = [comparison("b", 0.01, 0.01), comparison("c", 0.02, 0.03), comparison("d", 0.05, 0.2)];
        let ok = recommend(primary.clone(), &comparisons, &json!({"mismatch": false}), &[], &json!({"progress": 1.0}));
        assert_eq!((ok.decision, ok.winner.as_deref()), ("ship", Some("c")));
        assert!((ok.confidence.unwrap() - 0.97).abs() < 1e-12);
        assert!(ok.warnings.is_empty());

        let srm = recommend(primary.clone(), &comparisons, &json!({"mismatch": true}), &[], &Value::Null);
        assert_eq!((srm.decision, srm.winner), ("do_not_trust", None));
        let breach = [json!({"metric_id": "revenue", "treatment_id": "c", "significant_breach": true})];
        let guarded = recommend(primary.clone(), &comparisons, &Value::Null, &breach, &json!({"progress": 0.5}));
        assert_eq!(guarded.decision, "do_not_trust");
        assert_eq!(guarded.warnings, vec!["guardrail_breach:revenue:c", "underpowered"]);

        let worse = [comparison("b", -0.01, 0.01), comparison("c", -0.02, 0.001)];
        assert_eq!(recommend(primary.clone(), &worse, &Value::Null, &[], &Value::Null).decision, "keep_control");
        let unclear = [comparison("b", 0.01, 0.4)];
        let pending = recommend(primary.clone(), &unclear, &Value::Null, &[], &Value::Null);
        assert_eq!((pending.decision, pending.confidence.map(|c| (c * 10.0).round())), ("no_winner_yet", Some(6.0)));
        assert_eq!(recommend(primary, &[], &Value::Null, &[], &Value::Null).warnings, vec!["no_data"]);
    }
}
