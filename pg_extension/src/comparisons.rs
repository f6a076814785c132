//! Two-sample tests from summary numbers: `ab_ztest`, `ab_ttest`.

use crate::sql_glue::{record, OrRaise};
use ab_core::compare::{self, TTest, TestSettings, ZTest};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Two-proportion z-test from conversion counts, control first.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ztest(
    x_c: i64,
    n_c: i64,
    x_t: i64,
    n_t: i64,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "ab_ztest_result") {
    let settings = TestSettings::new(alpha, alternative).or_raise();
    ztest_row(fcinfo, &compare::ztest(x_c, n_c, x_t, n_t, settings).or_raise())
}

/// Welch t-test from means, standard deviations and sizes, control first.
#[pg_extern(immutable, strict, parallel_safe)]
#[allow(clippy::too_many_arguments)] // the SQL signature docs/contract.md §3 fixes
fn ab_ttest(
    mean_c: f64,
    sd_c: f64,
    n_c: i64,
    mean_t: f64,
    sd_t: f64,
    n_t: i64,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "ab_ttest_result") {
    let settings = TestSettings::new(alpha, alternative).or_raise();
    ttest_row(fcinfo, &compare::ttest((mean_c, sd_c, n_c), (mean_t, sd_t, n_t), settings).or_raise())
}

pub fn ztest_row(fcinfo: pg_sys::FunctionCallInfo, r: &ZTest) -> pgrx::composite_type!('static, "ab_ztest_result") {
    record("ab_ztest_result", fcinfo, r)
}

pub fn ttest_row(fcinfo: pg_sys::FunctionCallInfo, r: &TTest) -> pgrx::composite_type!('static, "ab_ttest_result") {
    record("ab_ttest_result", fcinfo, r)
}
