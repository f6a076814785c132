//! One verdict per comparison: `ab_verdicts_prop` and `ab_verdicts_mean` compare every
//! treatment of a metric with its control and return, per treatment, the test, its
//! Holm-adjusted p-value and the intervals of the difference and of the relative lift at
//! Holm's level, so significance and every interval agree (`ab_core::compare::verdict`).
//! `ab_seq_verdicts_prop` and `ab_seq_verdicts_mean` do the same with the always-valid
//! p-value and confidence sequence, for experiments analysed sequentially. The results views
//! (`sql/migrations/0004_one_verdict.sql`, `0005_incremental_results.sql`) read them.

use crate::sql_glue::{elements, OrRaise};
use ab_core::compare::verdict::{verdicts, ArmSummary, Horizon, Scale, Verdict};
use ab_core::compare::TestSettings;
use ab_core::InvalidArgument;
use pgrx::prelude::*;

// pgrx reads the SQL columns off the written-out return type, so each function spells it.
type VerdictRow = (i32, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, f64, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, bool);

fn rows(scale: Scale, control: ArmSummary, treatments: Vec<ArmSummary>, alpha: f64, alternative: &str, horizon: Horizon) -> Vec<VerdictRow> {
    let settings = TestSettings::new(alpha, alternative).or_raise();
    verdicts(scale, control, &treatments, settings, horizon)
        .or_raise()
        .into_iter()
        .enumerate()
        .map(|(i, v): (usize, Verdict)| {
            (
                i as i32 + 1,
                v.diff,
                v.rel_lift,
                v.statistic,
                v.df,
                v.p_value,
                v.holm_p_value,
                v.level,
                v.ci_low,
                v.ci_high,
                v.rel_ci_low,
                v.rel_ci_high,
                v.significant,
            )
        })
        .collect()
}

/// The treatments' arrays have one length each; the error names the first array whose length
/// differs from the first one's.
fn same_length(arrays: &[(&'static str, usize)]) {
    let Some(&(argument, _)) = arrays.iter().find(|(_, length)| *length != arrays[0].1) else { return };
    let names: Vec<&str> = arrays.iter().map(|(name, _)| *name).collect();
    let lengths: Vec<usize> = arrays.iter().map(|(_, length)| *length).collect();
    let names = format!("{} and {}", names[..names.len() - 1].join(", "), names[names.len() - 1]);
    crate::sql_glue::raise_invalid(InvalidArgument::new(argument, format!("{names} must have the same length, got {lengths:?}")));
}

/// Conversion rates: `x_c` of `n_c` control units converted; `x_t[i]` of `n_t[i]` of
/// treatment i. One row per treatment (1-based `treatment`).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_verdicts_prop(
    x_c: i64,
    n_c: i64,
    x_t: Array<i64>,
    n_t: Array<i64>,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
) -> TableIterator<
    'static,
    (
        name!(treatment, i32),
        name!(diff, Option<f64>),
        name!(rel_lift, Option<f64>),
        name!(statistic, Option<f64>),
        name!(df, Option<f64>),
        name!(p_value, Option<f64>),
        name!(holm_p_value, f64),
        name!(interval_level, Option<f64>),
        name!(ci_low, Option<f64>),
        name!(ci_high, Option<f64>),
        name!(rel_ci_low, Option<f64>),
        name!(rel_ci_high, Option<f64>),
        name!(significant, bool),
    ),
> {
    let (control, treatments) = proportion_arms(x_c, n_c, &x_t, &n_t);
    TableIterator::new(rows(Scale::Proportion, control, treatments, alpha, alternative, Horizon::Fixed))
}

fn proportion_arms(x_c: i64, n_c: i64, x_t: &Array<i64>, n_t: &Array<i64>) -> (ArmSummary, Vec<ArmSummary>) {
    let (x_t, n_t) = (elements("x_t", x_t), elements("n_t", n_t));
    same_length(&[("x_t", x_t.len()), ("n_t", n_t.len())]);
    let control = ArmSummary::proportion(x_c, n_c).or_raise();
    (control, x_t.iter().zip(&n_t).map(|(x, n)| ArmSummary::proportion(*x, *n).or_raise()).collect())
}

/// Means: the control's mean, sample standard deviation and size, then the treatments' as
/// arrays. The standard deviation of a single unit is not used (pass 0), nor the mean of none.
#[pg_extern(immutable, strict, parallel_safe)]
#[allow(clippy::too_many_arguments)]
fn ab_verdicts_mean(
    mean_c: f64,
    sd_c: f64,
    n_c: i64,
    mean_t: Array<f64>,
    sd_t: Array<f64>,
    n_t: Array<i64>,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
) -> TableIterator<
    'static,
    (
        name!(treatment, i32),
        name!(diff, Option<f64>),
        name!(rel_lift, Option<f64>),
        name!(statistic, Option<f64>),
        name!(df, Option<f64>),
        name!(p_value, Option<f64>),
        name!(holm_p_value, f64),
        name!(interval_level, Option<f64>),
        name!(ci_low, Option<f64>),
        name!(ci_high, Option<f64>),
        name!(rel_ci_low, Option<f64>),
        name!(rel_ci_high, Option<f64>),
        name!(significant, bool),
    ),
> {
    let (control, treatments) = mean_arms((mean_c, sd_c, n_c), (&mean_t, &sd_t, &n_t));
    TableIterator::new(rows(Scale::Mean, control, treatments, alpha, alternative, Horizon::Fixed))
}

type MeanArrays<'a, 'b> = (&'a Array<'b, f64>, &'a Array<'b, f64>, &'a Array<'b, i64>);

fn mean_arms((mean_c, sd_c, n_c): (f64, f64, i64), (mean_t, sd_t, n_t): MeanArrays) -> (ArmSummary, Vec<ArmSummary>) {
    let (mean_t, sd_t, n_t) = (elements("mean_t", mean_t), elements("sd_t", sd_t), elements("n_t", n_t));
    same_length(&[("mean_t", mean_t.len()), ("sd_t", sd_t.len()), ("n_t", n_t.len())]);
    let control = ArmSummary::mean(mean_c, Some(sd_c), n_c).or_raise();
    let treatments =
        mean_t.iter().zip(&sd_t).zip(&n_t).map(|((mean, sd), n)| ArmSummary::mean(*mean, Some(*sd), *n).or_raise()).collect();
    (control, treatments)
}

/// [`ab_verdicts_prop`] read at any look: the always-valid p-value and confidence sequence
/// (Waudby-Smith et al.'s asymptotic sequence designed for `alpha` with N* = `tuning_n`).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_seq_verdicts_prop(
    x_c: i64,
    n_c: i64,
    x_t: Array<i64>,
    n_t: Array<i64>,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
    tuning_n: default!(f64, 5000.0),
) -> TableIterator<
    'static,
    (
        name!(treatment, i32),
        name!(diff, Option<f64>),
        name!(rel_lift, Option<f64>),
        name!(statistic, Option<f64>),
        name!(df, Option<f64>),
        name!(p_value, Option<f64>),
        name!(holm_p_value, f64),
        name!(interval_level, Option<f64>),
        name!(ci_low, Option<f64>),
        name!(ci_high, Option<f64>),
        name!(rel_ci_low, Option<f64>),
        name!(rel_ci_high, Option<f64>),
        name!(significant, bool),
    ),
> {
    let (control, treatments) = proportion_arms(x_c, n_c, &x_t, &n_t);
    TableIterator::new(rows(Scale::Proportion, control, treatments, alpha, alternative, Horizon::Sequential { tuning_n }))
}

/// [`ab_verdicts_mean`] read at any look, as [`ab_seq_verdicts_prop`].
#[pg_extern(immutable, strict, parallel_safe)]
#[allow(clippy::too_many_arguments)]
fn ab_seq_verdicts_mean(
    mean_c: f64,
    sd_c: f64,
    n_c: i64,
    mean_t: Array<f64>,
    sd_t: Array<f64>,
    n_t: Array<i64>,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
    tuning_n: default!(f64, 5000.0),
) -> TableIterator<
    'static,
    (
        name!(treatment, i32),
        name!(diff, Option<f64>),
        name!(rel_lift, Option<f64>),
        name!(statistic, Option<f64>),
        name!(df, Option<f64>),
        name!(p_value, Option<f64>),
        name!(holm_p_value, f64),
        name!(interval_level, Option<f64>),
        name!(ci_low, Option<f64>),
        name!(ci_high, Option<f64>),
        name!(rel_ci_low, Option<f64>),
        name!(rel_ci_high, Option<f64>),
        name!(significant, bool),
    ),
> {
    let (control, treatments) = mean_arms((mean_c, sd_c, n_c), (&mean_t, &sd_t, &n_t));
    TableIterator::new(rows(Scale::Mean, control, treatments, alpha, alternative, Horizon::Sequential { tuning_n }))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION ab_verdicts_prop(bigint, bigint, bigint[], bigint[], float8, text) IS 'One verdict per treatment of a conversion metric: Wald z-test, Holm across the treatments, Wald and Fieller intervals at Holm''s level (significant exactly when they exclude 0)';
COMMENT ON FUNCTION ab_verdicts_mean(float8, float8, bigint, float8[], float8[], bigint[], float8, text) IS 'One verdict per treatment of a mean: Welch t-test, Holm across the treatments, Welch and Fieller intervals at Holm''s level (significant exactly when they exclude 0)';
COMMENT ON FUNCTION ab_seq_verdicts_prop(bigint, bigint, bigint[], bigint[], float8, text, float8) IS 'ab_verdicts_prop at any look: always-valid p-value and asymptotic confidence sequence (N* = tuning_n), Holm across the treatments, significant exactly when the sequences exclude 0';
COMMENT ON FUNCTION ab_seq_verdicts_mean(float8, float8, bigint, float8[], float8[], bigint[], float8, text, float8) IS 'ab_verdicts_mean at any look: always-valid p-value and asymptotic confidence sequence (N* = tuning_n), Holm across the treatments, significant exactly when the sequences exclude 0';
"#,
    name = "verdict_comments",
    requires = [ab_verdicts_prop, ab_verdicts_mean, ab_seq_verdicts_prop, ab_seq_verdicts_mean]
);
