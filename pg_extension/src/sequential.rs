//! Sequential testing and outlier capping: `ab_msprt`, `ab_winsorize`.

use crate::sql_glue::{record, OrRaise};
use ab_core::{outliers, sequential};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Mixture SPRT at one look: always-valid p-value and confidence sequence of a difference
/// with variance `variance`, mixing over N(0, tau2).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_msprt(
    diff: f64,
    variance: f64,
    tau2: f64,
    alpha: default!(f64, 0.05),
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "ab_msprt_result") {
    record("ab_msprt_result", fcinfo, &sequential::msprt(diff, variance, tau2, alpha).or_raise())
}

/// `value` capped to [lo, hi].
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_winsorize(value: f64, lo: f64, hi: f64) -> f64 {
    outliers::winsorize(value, lo, hi).or_raise()
}
