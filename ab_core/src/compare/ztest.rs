//! The two-proportion z-test: `ab_ztest` and `ab_ztest_agg`.

use super::{Arm, RelativeLift};
use crate::dist::{normal_isf, normal_sf};
use crate::error::{InvalidArgument, Result};
use crate::moments::{Proportion, TwoGroups};
use crate::compare::TestSettings;
use crate::records::{FieldValue, ResultRecord};
use FieldValue::{Bool as BoolValue, Float as FloatValue};

/// `ab_ztest`'s result. `None` marks a statistic that is undefined for the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTest {
    pub rate_c: f64,
    pub rate_t: f64,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: f64,
    pub ci_high: f64,
    pub rel_ci_low: Option<f64>,
    pub rel_ci_high: Option<f64>,
    pub significant: Option<bool>,
}

/// Two-proportion z-test from counts (statsmodels' `proportions_ztest`, pooled SE), with a
/// Wald interval of the difference (unpooled SE) and a delta-method interval of the lift.
pub fn ztest(x_c: i64, n_c: i64, x_t: i64, n_t: i64, settings: TestSettings) -> Result<ZTest> {
    let control = proportion("x_c", x_c, "n_c", n_c)?;
    let treatment = proportion("x_t", x_t, "n_t", n_t)?;
    Ok(ztest_of(&TwoGroups { control, treatment }, settings))
}

pub(super) fn proportion(x_name: &'static str, x: i64, n_name: &'static str, n: i64) -> Result<Proportion> {
    if n < 1 {
        return Err(InvalidArgument::new(n_name, format!("must be at least 1, got {n}")));
    }
    if !(0..=n).contains(&x) {
        return Err(InvalidArgument::new(x_name, format!("must be between 0 and {n_name} ({n}), got {x}")));
    }
    Ok(Proportion { trials: n, successes: x })
}

/// [`ztest`] on accumulated groups; `None` when a group is empty.
pub fn ztest_of_groups(groups: &TwoGroups<Proportion>, settings: TestSettings) -> Option<ZTest> {
    (groups.control.trials > 0 && groups.treatment.trials > 0).then(|| ztest_of(groups, settings))
}

fn ztest_of(groups: &TwoGroups<Proportion>, settings: TestSettings) -> ZTest {
    let (c, t) = (&groups.control, &groups.treatment);
    let (n_c, n_t) = (c.trials as f64, t.trials as f64);
    let rate_c = c.successes as f64 / n_c;
    let rate_t = t.successes as f64 / n_t;
    let diff = rate_t - rate_c;
    // Integer sums first, as statsmodels does: exact up to 2⁶³.
    let pooled = (c.successes + t.successes) as f64 / (c.trials + t.trials) as f64;
    let pooled_se = (pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c)).sqrt();
    let z = (pooled_se > 0.0).then(|| diff / pooled_se);
    let p_value = z.map(|z| settings.alternative.p_value(z, normal_sf));
    let critical = normal_isf(settings.alternative.tail_alpha(settings.alpha));
    let var_c = rate_c * (1.0 - rate_c);
    let var_t = rate_t * (1.0 - rate_t);
    let se = (var_t / n_t + var_c / n_c).sqrt();
    let (ci_low, ci_high) = settings.alternative.interval(diff, critical, se);
    let relative = RelativeLift::new(Arm { n: n_c, mean: rate_c, var: var_c }, Arm { n: n_t, mean: rate_t, var: var_t }, diff);
    let (rel_ci_low, rel_ci_high) = relative.interval(settings, critical);
    ZTest {
        rate_c,
        rate_t,
        diff,
        rel_lift: relative.lift,
        z,
        p_value,
        ci_low,
        ci_high,
        rel_ci_low,
        rel_ci_high,
        significant: p_value.map(|p| p < settings.alpha),
    }
}

impl ResultRecord for ZTest {
    const RECORD: &'static crate::records::Record = &crate::records::ZTEST;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.rate_c)), FloatValue(Some(self.rate_t)), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.z), FloatValue(self.p_value),
            FloatValue(Some(self.ci_low)), FloatValue(Some(self.ci_high)),
            FloatValue(self.rel_ci_low), FloatValue(self.rel_ci_high), BoolValue(self.significant),
        ]
    }
}
