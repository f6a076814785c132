//! Health checks of an experiment's analysis: sample-ratio mismatch, multiple testing and
//! contamination.

use crate::sql_glue::{elements, record, OrRaise};
use ab_core::contamination;
use ab_core::srm::{self, Correction};
use pgrx::prelude::*;

/// Chi-square test of observed counts per variant against the configured weights.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_srm(observed: Array<i64>, weights: Array<f64>, fcinfo: pgrx::pg_sys::FunctionCallInfo) -> pgrx::composite_type!('static, "ab_srm_result") {
    let (observed, weights) = (elements("observed", &observed), elements("weights", &weights));
    record("ab_srm_result", fcinfo, &srm::srm(&observed, &weights).or_raise())
}

/// Corrected p-values (bonferroni, holm or fdr_bh), in the order given.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_adjust_pvalues(p: Array<f64>, method: default!(&str, "'holm'")) -> Vec<f64> {
    let correction = Correction::parse(method).or_raise();
    srm::adjust_pvalues(&elements("p", &p), correction).or_raise()
}

/// Units exposed to more than one variant, from exposure rows given as two arrays
/// (`array_agg(user_id)`, `array_agg(variant)`); NULL without rows.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_contamination(
    units: Array<&str>,
    variants: Array<&str>,
    fcinfo: pgrx::pg_sys::FunctionCallInfo,
) -> Option<pgrx::composite_type!('static, "ab_contamination_result")> {
    let (units, variants) = (elements("units", &units), elements("variants", &variants));
    contamination::contamination(&units, &variants).or_raise().map(|r| record("ab_contamination_result", fcinfo, &r))
}
