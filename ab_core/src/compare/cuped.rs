//! CUPED: Welch's test on the metric adjusted by a pre-period covariate (`ab_cuped_agg`).

use super::welch::{arm_of, welch_variance, WelchCore};
use super::Arm;
use crate::moments::{CoMoments, Moments, TwoGroups};
use crate::compare::TestSettings;
use crate::records::{FieldValue, ResultRecord};
use FieldValue::{Bool as BoolValue, Float as FloatValue};

/// `ab_cuped_agg`'s result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cuped {
    pub theta: Option<f64>,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub variance_reduction: Option<f64>,
    pub significant: Option<bool>,
}

/// CUPED (Deng et al. 2013): Welch's test on `Y' = Y − θ(X − mean(X))`, θ and mean(X) pooled
/// over both groups. `None` when a group is empty.
pub fn cuped_of_groups(groups: &TwoGroups<CoMoments>, settings: TestSettings) -> Option<Cuped> {
    let (c, t) = (&groups.control, &groups.treatment);
    if c.x.count() == 0 || t.x.count() == 0 {
        return None;
    }
    let mut pooled = *c;
    pooled.merge(t);
    let theta = (pooled.x.m2() > 0.0).then(|| pooled.comoment() / pooled.x.m2());
    let slope = theta.unwrap_or(0.0);
    let adjusted = |group: &CoMoments| Arm {
        n: group.x.count() as f64,
        mean: group.y.mean() - slope * Moments::mean_difference(&pooled.x, &group.x),
        var: if group.x.count() >= 2 {
            (group.y.m2() - 2.0 * slope * group.comoment() + slope * slope * group.x.m2()) / (group.x.count() - 1) as f64
        } else {
            f64::NAN
        },
    };
    let (control, treatment) = (adjusted(c), adjusted(t));
    let diff = Moments::mean_difference(&c.y, &t.y) - slope * Moments::mean_difference(&c.x, &t.x);
    let test = WelchCore::new(control, treatment, diff, settings);
    let raw_se2 = welch_variance(arm_of(&c.y)?, arm_of(&t.y)?);
    let variance_reduction = (test.se2.is_finite() && raw_se2 > 0.0).then(|| 1.0 - test.se2 / raw_se2);
    Some(Cuped {
        theta,
        diff,
        rel_lift: (control.mean != 0.0).then(|| diff / control.mean),
        t: test.t,
        df: test.df,
        p_value: test.p_value,
        ci_low: test.ci.map(|ci| ci.0),
        ci_high: test.ci.map(|ci| ci.1),
        variance_reduction,
        significant: test.p_value.map(|p| p < settings.alpha),
    })
}

impl ResultRecord for Cuped {
    const RECORD: &'static crate::records::Record = &crate::records::CUPED;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(self.theta), FloatValue(Some(self.diff)), FloatValue(self.rel_lift), FloatValue(self.t),
            FloatValue(self.df), FloatValue(self.p_value), FloatValue(self.ci_low), FloatValue(self.ci_high),
            FloatValue(self.variance_reduction), BoolValue(self.significant),
        ]
    }
}
