//! Numerical integration for the Bayesian and bandit statistics: adaptive Gauss–Legendre
//! on panels whose breakpoints follow the integrand's mass (posteriors of a million users
//! are needles on [0, 1]). Each panel is integrated with 10 and 20 nodes and split until
//! the two agree; the nodes come from Newton's method on the Legendre polynomials, so no
//! table is typed in.

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

fn apply(rule: &(Vec<f64>, Vec<f64>), f: &impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let (half, middle) = ((b - a) / 2.0, (a + b) / 2.0);
    rule.0.iter().zip(&rule.1).map(|(x, w)| w * f(middle + half * x)).sum::<f64>() * half
}

/// Panels refined at most this many times: the work is bounded whatever the integrand.
const MAX_SPLITS: usize = 4000;

struct Panel {
    a: f64,
    b: f64,
    estimate: f64,
    error: f64,
}

fn panel(f: &impl Fn(f64) -> f64, a: f64, b: f64) -> Panel {
    let (coarse, fine) = (apply(&rules().coarse, f, a, b), apply(&rules().fine, f, a, b));
    Panel { a, b, estimate: fine, error: (fine - coarse).abs() }
}

/// ∫ f over [lo, hi], split first at `breakpoints` (where the integrand changes fast), then
/// by always halving the panel with the largest error estimate until the total is within
/// `tolerance` (absolute) or within a few ulps of the result.
pub fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64, breakpoints: &[f64], tolerance: f64) -> f64 {
    let mut edges: Vec<f64> = breakpoints.iter().copied().filter(|x| *x > lo && *x < hi).collect();
    edges.push(lo);
    edges.push(hi);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let mut panels: Vec<Panel> = edges.windows(2).map(|w| panel(&f, w[0], w[1])).collect();
    for _ in 0..MAX_SPLITS {
        let total: f64 = panels.iter().map(|p| p.estimate).sum();
        let error: f64 = panels.iter().map(|p| p.error).sum();
        if error <= tolerance.max(64.0 * f64::EPSILON * total.abs()) {
            break;
        }
        let worst = (0..panels.len()).max_by(|&i, &j| panels[i].error.total_cmp(&panels[j].error)).expect("panels");
        let Panel { a, b, .. } = panels.swap_remove(worst);
        let middle = (a + b) / 2.0;
        if middle <= a || middle >= b {
            // The panel is as narrow as floating point allows: keep its estimate.
            panels.push(Panel { a, b, estimate: apply(&rules().fine, &f, a, b), error: 0.0 });
            continue;
        }
        panels.push(panel(&f, a, middle));
        panels.push(panel(&f, middle, b));
    }
    panels.iter().map(|p| p.estimate).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_exactly_and_needles_accurately() {
        let (nodes, weights) = gauss_legendre(20);
        assert!((weights.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        assert!(nodes.windows(2).all(|w| w[0] < w[1]));
        let cubic = integrate(|x| x * x * x - x, 0.0, 2.0, &[], 1e-14);
        assert!((cubic - 2.0).abs() < 1e-13, "{cubic}");
        // A normal density of sd 1e-4 centred at 0.3: mass 1.
        let sd = 1e-4;
        let density = |x: f64| (-(x - 0.3f64).powi(2) / (2.0 * sd * sd)).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt());
        let marks: Vec<f64> = (-40..=40).map(|k| 0.3 + f64::from(k) * sd).collect();
        let mass = integrate(density, 0.0, 1.0, &marks, 1e-12);
        assert!((mass - 1.0).abs() < 1e-10, "{mass}");
    }
}
