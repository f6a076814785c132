//! The interaction of two concurrent experiments (`ab_interaction_agg`).

use crate::dist::{t_isf, t_sf};
use crate::moments::{Moments, TwoGroups};
use crate::compare::TestSettings;
use crate::records::{FieldValue, ResultRecord};
use FieldValue::{Bool as BoolValue, Float as FloatValue};

/// `ab_interaction_agg`'s result: do two concurrent experiments interact? The 2×2 contrast
/// `(μ11 − μ10) − (μ01 − μ00)` (first index: experiment A's arm, second: B's), its standard
/// error `√Σ s²/n` over the four cells, and a t-test with Welch–Satterthwaite degrees of
/// freedom `(Σ vᵢ)² / Σ vᵢ²/(nᵢ − 1)`, `vᵢ = sᵢ²/nᵢ`, against the alternative
/// (`larger`: the treatments reinforce each other).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InteractionTest {
    pub contrast: f64,
    pub se: Option<f64>,
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub significant: Option<bool>,
}

/// The interaction contrast of the four cells (`groups` by A's arm, each by B's arm).
/// `None` when a cell is empty; the test fields are NULL when a cell has fewer than two
/// units or no cell varies.
pub fn interaction_of_groups(groups: &TwoGroups<TwoGroups<Moments>>, settings: TestSettings) -> Option<InteractionTest> {
    let cells = [&groups.control.control, &groups.control.treatment, &groups.treatment.control, &groups.treatment.treatment];
    if cells.iter().any(|c| c.count() == 0) {
        return None;
    }
    // Differences of means from the accumulators keep full precision on offset data.
    let contrast = Moments::mean_difference(&groups.treatment.control, &groups.treatment.treatment)
        - Moments::mean_difference(&groups.control.control, &groups.control.treatment);
    let variances: Option<Vec<(f64, f64)>> =
        cells.iter().map(|c| c.variance().map(|var| (var / c.count() as f64, (c.count() - 1) as f64))).collect();
    let test = variances.and_then(|cells| {
        let total: f64 = cells.iter().map(|(v, _)| v).sum();
        let denominator: f64 = cells.iter().map(|(v, dof)| v * v / dof).sum();
        (total > 0.0).then(|| {
            let (se, df) = (total.sqrt(), total * total / denominator);
            let t = contrast / se;
            let p_value = settings.alternative.p_value(t, |x| t_sf(x, df));
            let critical = t_isf(settings.alternative.tail_alpha(settings.alpha), df);
            let ci = settings.alternative.interval(contrast, critical, se);
            (se, t, df, p_value, ci)
        })
    });
    Some(InteractionTest {
        contrast,
        se: test.map(|t| t.0),
        t: test.map(|t| t.1),
        df: test.map(|t| t.2),
        p_value: test.map(|t| t.3),
        ci_low: test.map(|t| t.4 .0),
        ci_high: test.map(|t| t.4 .1),
        significant: test.map(|t| t.3 < settings.alpha),
    })
}

impl ResultRecord for InteractionTest {
    const RECORD: &'static crate::records::Record = &crate::records::INTERACTION;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.contrast)), FloatValue(self.se), FloatValue(self.t), FloatValue(self.df),
            FloatValue(self.p_value), FloatValue(self.ci_low), FloatValue(self.ci_high), BoolValue(self.significant),
        ]
    }
}
