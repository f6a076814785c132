//! Sample-ratio mismatch and multiple-testing corrections.

use crate::dist::chi2_sf;
use crate::error::{InvalidArgument, Result};

/// Pearson's chi-square test of observed counts against the split the weights promise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Srm {
    pub chi2: f64,
    pub df: i32,
    pub p_value: f64,
}

/// `scipy.stats.chisquare(observed, Σobserved·w/Σw)`.
pub fn srm(observed: &[i64], weights: &[f64]) -> Result<Srm> {
    if observed.len() != weights.len() {
        return Err(InvalidArgument::new(
            "weights",
            format!("has {} entries but observed has {}", weights.len(), observed.len()),
        ));
    }
    if observed.len() < 2 {
        return Err(InvalidArgument::new("observed", "needs at least 2 groups"));
    }
    if let Some(bad) = observed.iter().find(|o| **o < 0) {
        return Err(InvalidArgument::new("observed", format!("counts must be >= 0, got {bad}")));
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
        return Err(InvalidArgument::new("weights", format!("must be positive and finite, got {bad}")));
    }
    let total = observed.iter().map(|o| *o as f64).sum::<f64>();
    if total == 0.0 {
        return Err(InvalidArgument::new("observed", "must not be all zero"));
    }
    let weight_sum: f64 = weights.iter().sum();
    let chi2 = observed
        .iter()
        .zip(weights)
        .map(|(o, w)| {
            let expected = total * w / weight_sum;
            (*o as f64 - expected).powi(2) / expected
        })
        .sum::<f64>();
    let df = observed.len() as i32 - 1;
    Ok(Srm { chi2, df, p_value: chi2_sf(chi2, f64::from(df)) })
}

/// A family-wise or false-discovery-rate correction, as statsmodels' `multipletests` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    Bonferroni,
    Holm,
    BenjaminiHochberg,
}

impl Correction {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "bonferroni" => Ok(Self::Bonferroni),
            "holm" => Ok(Self::Holm),
            "fdr_bh" => Ok(Self::BenjaminiHochberg),
            other => Err(InvalidArgument::new(
                "method",
                format!("must be 'bonferroni', 'holm' or 'fdr_bh', got '{other}'"),
            )),
        }
    }
}

/// Corrected p-values, in the order given.
pub fn adjust_pvalues(p_values: &[f64], correction: Correction) -> Result<Vec<f64>> {
    if let Some(bad) = p_values.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(InvalidArgument::new("p", format!("p-values must be between 0 and 1, got {bad}")));
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p_values[*a].total_cmp(&p_values[*b]));
    let mut adjusted = vec![0.0; m];
    match correction {
        Correction::Bonferroni => {
            for (out, p) in adjusted.iter_mut().zip(p_values) {
                *out = (p * m as f64).min(1.0);
            }
        }
        Correction::Holm => {
            // Step-down: the running maximum of (m − rank)·p over ascending p.
            let mut running_max: f64 = 0.0;
            for (rank, index) in order.iter().enumerate() {
                running_max = running_max.max(p_values[*index] * (m - rank) as f64);
                adjusted[*index] = running_max.min(1.0);
            }
        }
        Correction::BenjaminiHochberg => {
            // Step-up: the running minimum of p·m/rank over descending p.
            let mut running_min = f64::INFINITY;
            for (rank, index) in order.iter().enumerate().rev() {
                running_min = running_min.min(p_values[*index] * m as f64 / (rank + 1) as f64);
                adjusted[*index] = running_min.min(1.0);
            }
        }
    }
    Ok(adjusted)
}

impl crate::records::ResultRecord for Srm {
    const RECORD: &'static crate::records::Record = &crate::records::SRM;
    fn values(&self) -> Vec<crate::records::FieldValue> {
        use crate::records::FieldValue::{Float, Int};
        vec![Float(Some(self.chi2)), Int(Some(self.df)), Float(Some(self.p_value))]
    }
}
