//! Numerical integration for the Bayesian and bandit statistics: adaptive Gauss–Legendre
//! on panels whose breakpoints follow the integrand's mass (posteriors of a million users
//! are needles on [0, 1]). Each panel is integrated with 10 and 20 nodes and split until
//! the two agree; the nodes come from Newton's method on the Legendre polynomials, so no
//! table is typed in.

use crate::error::{InvalidArgument, Result};
use crate::work::Work;
use std::sync::OnceLock;

/// (nodes, weights) of the n-point Gauss–Legendre rule on [-1, 1].
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        // Tricomi's initial guess, then Newton on P_n.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            derivative = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let step = p1 / derivative;
            x -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        let weight = 2.0 / ((1.0 - x * x) * derivative * derivative);
        nodes[i] = -x;
        nodes[n - 1 - i] = x;
        weights[i] = weight;
        weights[n - 1 - i] = weight;
    }
    (nodes, weights)
}

struct Rules {
    coarse: (Vec<f64>, Vec<f64>),
    fine: (Vec<f64>, Vec<f64>),
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules { coarse: gauss_legendre(10), fine: gauss_legendre(20) })
}

fn apply(rule: &(Vec<f64>, Vec<f64>), f: &impl Fn(f64) -> Result<f64>, a: f64, b: f64) -> Result<f64> {
    let (half, middle) = ((b - a) / 2.0, (a + b) / 2.0);
    let mut sum = 0.0;
    for (x, w) in rule.0.iter().zip(&rule.1) {
        sum += w * f(middle + half * x)?;
    }
    Ok(sum * half)
}

/// Panels refined at most this many times per integral. Each split costs 30 integrand
/// evaluations, so an integral costs at most ~120,000 of them plus its first panels; the
/// integrals of the domains documented converge in far fewer (a million-user posterior in
/// under 200). An integral still above its tolerance after that many splits is returned only
/// if its estimated error is below [`ACCEPTABLE_ERROR`]; otherwise the call fails.
pub(crate) const MAX_SPLITS: usize = 4000;

/// The estimated absolute error an integral that used up [`MAX_SPLITS`] may still return
/// with: three orders below the Bayesian functions' 1e-6 contract. Rounding noise in a
/// posterior of 1e8 users keeps the error estimate around 1e-12 however fine the panels.
pub(crate) const ACCEPTABLE_ERROR: f64 = 1e-9;

struct Panel {
    a: f64,
    b: f64,
    estimate: f64,
    error: f64,
}

fn panel(f: &impl Fn(f64) -> Result<f64>, a: f64, b: f64) -> Result<Panel> {
    let (coarse, fine) = (apply(&rules().coarse, f, a, b)?, apply(&rules().fine, f, a, b)?);
    Ok(Panel { a, b, estimate: fine, error: (fine - coarse).abs() })
}

/// ∫ f over [lo, hi], split first at `breakpoints` (where the integrand changes fast), then
/// by always halving the panel with the largest error estimate until the total is within
/// `tolerance` (absolute) or within a few ulps of the result. Every panel's 30 evaluations
/// are charged to `work` (which polls the interrupt hook); an integrand's error ends the
/// integral; so does an estimate that is not finite, or one still off by more than
/// [`ACCEPTABLE_ERROR`] after [`MAX_SPLITS`] splits (limit exceeded).
pub(crate) fn integrate(f: impl Fn(f64) -> Result<f64>, lo: f64, hi: f64, breakpoints: &[f64], tolerance: f64, work: &Work) -> Result<f64> {
    let mut edges: Vec<f64> = breakpoints.iter().copied().filter(|x| *x > lo && *x < hi).collect();
    edges.push(lo);
    edges.push(hi);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let mut panels = Vec::with_capacity(edges.len() + 2 * MAX_SPLITS);
    for w in edges.windows(2) {
        work.charge(PANEL_EVALUATIONS)?;
        panels.push(panel(&f, w[0], w[1])?);
    }
    for _ in 0..MAX_SPLITS {
        let total: f64 = panels.iter().map(|p| p.estimate).sum();
        let error: f64 = panels.iter().map(|p| p.error).sum();
        if !(total.is_finite() && error.is_finite()) {
            return Err(InvalidArgument::limit_exceeded(work.argument(), "the integrand is not finite in double precision"));
        }
        if error <= tolerance.max(64.0 * f64::EPSILON * total.abs()) {
            break;
        }
        let worst = (0..panels.len()).max_by(|&i, &j| panels[i].error.total_cmp(&panels[j].error)).expect("panels");
        let Panel { a, b, .. } = panels.swap_remove(worst);
        let middle = (a + b) / 2.0;
        work.charge(2 * PANEL_EVALUATIONS)?;
        if middle <= a || middle >= b {
            // The panel is as narrow as floating point allows: keep its estimate.
            panels.push(Panel { a, b, estimate: apply(&rules().fine, &f, a, b)?, error: 0.0 });
            continue;
        }
        panels.push(panel(&f, a, middle)?);
        panels.push(panel(&f, middle, b)?);
    }
    let total: f64 = panels.iter().map(|p| p.estimate).sum();
    let error: f64 = panels.iter().map(|p| p.error).sum();
    if !(error <= tolerance.max(64.0 * f64::EPSILON * total.abs()) || error <= ACCEPTABLE_ERROR) {
        return Err(InvalidArgument::limit_exceeded(
            work.argument(),
            format!("the integral's error estimate is still {error:e} after {MAX_SPLITS} refinements"),
        ));
    }
    Ok(total)
}

/// Integrand evaluations of one panel: the 10- and the 20-node rule.
const PANEL_EVALUATIONS: u64 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_exactly_and_needles_accurately() {
        let (nodes, weights) = gauss_legendre(20);
        assert!((weights.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        assert!(nodes.windows(2).all(|w| w[0] < w[1]));
        let work = Work::new("x");
        let cubic = integrate(|x| Ok(x * x * x - x), 0.0, 2.0, &[], 1e-14, &work).unwrap();
        assert!((cubic - 2.0).abs() < 1e-13, "{cubic}");
        // A normal density of sd 1e-4 centred at 0.3: mass 1.
        let sd = 1e-4;
        let density = |x: f64| Ok((-(x - 0.3f64).powi(2) / (2.0 * sd * sd)).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt()));
        let marks: Vec<f64> = (-40..=40).map(|k| 0.3 + f64::from(k) * sd).collect();
        let mass = integrate(density, 0.0, 1.0, &marks, 1e-12, &work).unwrap();
        assert!((mass - 1.0).abs() < 1e-10, "{mass}");
    }

    /// An integral that cannot reach its tolerance within the splits, or whose integrand is
    /// not finite, is an error, not a number; so is an integrand's own error.
    #[test]
    fn unconverged_integrals_are_errors() {
        let work = Work::new("x");
        let error = integrate(|x| Ok((1e6 * x).sin()), 0.0, 1.0, &[], 1e-14, &work).unwrap_err();
        assert!(error.is_limit_exceeded() && error.reason.contains("refinements"), "{error}");
        let error = integrate(|x| Ok(if x > 0.5 { f64::NAN } else { x }), 0.0, 1.0, &[], 1e-14, &work).unwrap_err();
        assert!(error.is_limit_exceeded() && error.reason.contains("not finite"), "{error}");
        let failing = |_: f64| Err(crate::InvalidArgument::new("x", "no"));
        assert_eq!(integrate(failing, 0.0, 1.0, &[], 1e-14, &work).unwrap_err().reason, "no");
        // The budget bounds the splits of all integrals of a call together.
        let small = Work::with_limit("x", 1000);
        assert!(integrate(|x| Ok((1e6 * x).sin()), 0.0, 1.0, &[], 1e-14, &small).unwrap_err().reason.contains("steps"));
    }
}
