//! Group sequential designs (docs/statistics.md, "Group sequential designs"): a test planned to
//! look at the data K times, at information fractions 0 < t₁ < … < t_K of the planned maximum,
//! stopping at the first look whose z-statistic crosses that look's boundary. Each boundary
//! spends part of alpha, α(t_k) − α(t_{k−1}), by a Lan–DeMets spending function, so the looks'
//! times need not be fixed in advance and the overall type I error is alpha.
//!
//! The crossing probabilities are those of Brownian motion observed at the looks: the recursive
//! numerical integration of Armitage, McPherson and Rowe (1969), on the grid of Jennison and
//! Turnbull (2000, "Group Sequential Methods", §19.2) refined [`GRID_R`] times, with Simpson's rule.

use crate::alternative::Alternative;
use crate::dist::{normal_isf, normal_sf};
use crate::error::{InvalidArgument, Result};
use crate::records::{FieldValue, Record, ResultRecord, GST_BOUNDARY};
use crate::work::Work;

/// Looks a design may plan. The work grows with their number (each look integrates over the
/// previous one's grid): 100 looks, daily for three months, take 0.5 s for a boundary and 2.5 s
/// for an inflation factor (`examples/group_sequential_cost.rs`).
pub const MAX_LOOKS: usize = 100;
/// Jennison and Turnbull's grid parameter: 6r − 1 points per look before clipping to the
/// continuation region and adding Simpson's midpoints. With r = 48 the boundaries, p-bounds and
/// inflation factors are within 4.5e-8 of the quadrature reference (ab_core/tests/golden.rs,
/// `group_sequential_designs_match_their_references`).
const GRID_R: usize = 48;
/// Steps of the search for a boundary or a drift: bisection halves an interval of width at
/// most 80, so 80 steps reach double precision; a cap, not a tolerance.
const MAX_SEARCH_STEPS: usize = 80;
/// The largest z a boundary may take: no probability computed here is below 10⁻³⁰⁰, and a
/// boundary that spends nothing is infinite instead.
const Z_CEILING: f64 = 40.0;
/// Alpha above this is refused: a boundary at a look could then fall below 0 for a two-sided
/// test (more than the remaining probability to spend), which no design wants.
const MAX_ALPHA: f64 = 0.5;

/// How alpha is spent over the information fraction t.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spending {
    /// Lan–DeMets' O'Brien–Fleming-like α(t) = 2 − 2Φ(z_{1−α/2}/√t): almost nothing early.
    OBrienFleming,
    /// Lan–DeMets' Pocock-like α(t) = α·ln(1 + (e − 1)t): about evenly over the looks.
    Pocock,
    /// Kim–DeMets' power family α(t) = α·t^ρ (spotify-confidence's; ρ = 3 is close to
    /// O'Brien–Fleming, ρ = 1 to Pocock).
    Power(f64),
}

impl Spending {
    /// `'obrien-fleming'`, `'pocock'` or `'power:ρ'` with ρ in (0, 100].
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "obrien-fleming" | "o'brien-fleming" => Ok(Self::OBrienFleming),
            "pocock" => Ok(Self::Pocock),
            other => match other.strip_prefix("power:").map(str::parse::<f64>) {
                Some(Ok(rho)) if rho > 0.0 && rho <= 100.0 => Ok(Self::Power(rho)),
                _ => Err(InvalidArgument::new(
                    "spending",
                    format!("must be 'obrien-fleming', 'pocock' or 'power:ρ' with ρ in (0, 100], got '{other}'"),
                )),
            },
        }
    }

    /// Alpha spent by information fraction `t` of a one-sided test at level `alpha` (all of
    /// it from t = 1 on).
    pub fn spent(self, alpha: f64, t: f64) -> f64 {
        let t = t.min(1.0);
        match self {
            Self::OBrienFleming => 2.0 * normal_sf(normal_isf(alpha / 2.0) / t.sqrt()),
            Self::Pocock => alpha * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
            Self::Power(rho) => alpha * t.powf(rho),
        }
    }
}

/// A planned design: looks, alpha and how it is spent.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    information: Vec<f64>,
    alpha: f64,
    spending: Spending,
    alternative: Alternative,
}

impl Design {
    /// `information`: the looks' fractions of the planned maximum information, increasing, the
    /// first above 0 (a look past the maximum, t > 1, spends what is left). `alpha` in (0, 0.5].
    pub fn new(information: Vec<f64>, alpha: f64, spending: &str, alternative: &str) -> Result<Self> {
        if information.is_empty() || information.len() > MAX_LOOKS {
            return Err(InvalidArgument::new("information", format!("must hold 1 to {MAX_LOOKS} looks, got {}", information.len())));
        }
        let mut previous = 0.0;
        for &t in &information {
            if !(t.is_finite() && t > previous) {
                return Err(InvalidArgument::new("information", format!("must be finite, above 0 and increasing, got {information:?}")));
            }
            previous = t;
        }
        if !(alpha > 0.0 && alpha <= MAX_ALPHA) {
            return Err(InvalidArgument::new("alpha", format!("must be in (0, {MAX_ALPHA}], got {alpha}")));
        }
        Ok(Self { information, alpha, spending: Spending::parse(spending)?, alternative: Alternative::parse(alternative)? })
    }

    fn two_sided(&self) -> bool {
        self.alternative == Alternative::TwoSided
    }

    /// Alpha spent by information fraction `t`. A two-sided design spends alpha/2 on each side
    /// by the spending function at level alpha/2 (the convention of ldbounds, gsDesign and
    /// spotify-confidence, whose O'Brien–Fleming bounds for five looks at 0.05 are the
    /// textbook 4.88, 3.36, 2.68, 2.29, 2.03).
    fn spent(&self, t: f64) -> f64 {
        let sides = if self.two_sided() { 2.0 } else { 1.0 };
        sides * self.spending.spent(self.alpha / sides, t)
    }

    /// Each look's boundary on |z| (two-sided) or on z in the alternative's direction:
    /// infinite at a look that spends nothing.
    pub(crate) fn boundaries(&self, work: &Work) -> Result<Vec<f64>> {
        let mut walk = Walk::start();
        let mut bounds = Vec::with_capacity(self.information.len());
        let mut spent_before = 0.0;
        for &t in &self.information {
            let spent = self.spent(t);
            let to_spend = spent - spent_before;
            spent_before = spent;
            let bound = if to_spend > 0.0 { walk.boundary_spending(t, to_spend, self.two_sided(), work)? } else { f64::INFINITY };
            walk = walk.continue_inside(t, bound, self.two_sided(), 0.0, work)?;
            bounds.push(bound);
        }
        Ok(bounds)
    }

    /// The probability of crossing a boundary at some look when the z-statistic at the full
    /// information has mean `drift` in the alternative's direction.
    fn rejection_probability(&self, bounds: &[f64], drift: f64, work: &Work) -> Result<f64> {
        let mut walk = Walk::start();
        let mut crossed = 0.0;
        for (&t, &bound) in self.information.iter().zip(bounds) {
            crossed += walk.crossing(t, bound, self.two_sided(), drift, work)?;
            walk = walk.continue_inside(t, bound, self.two_sided(), drift, work)?;
        }
        Ok(crossed)
    }

    /// The drift with `power`: the rejection probability increases with it, so it is bracketed
    /// by doubling and found by the Illinois method (regula falsi that halves a stale end's
    /// value), which needs about ten evaluations where bisection needs fifty.
    fn drift_for_power(&self, bounds: &[f64], power: f64, work: &Work) -> Result<f64> {
        let shortfall = |drift: f64| Ok::<f64, InvalidArgument>(self.rejection_probability(bounds, drift, work)? - power);
        let (mut low, mut f_low) = (0.0, shortfall(0.0)?);
        let mut high = (normal_isf(self.alternative.tail_alpha(self.alpha)) + normal_isf(1.0 - power)).max(1.0);
        let mut f_high = shortfall(high)?;
        while f_high < 0.0 {
            (low, f_low) = (high, f_high);
            high *= 2.0;
            if high > Z_CEILING {
                return Err(InvalidArgument::new("power", format!("{power} is out of reach of this design")));
            }
            f_high = shortfall(high)?;
        }
        for _ in 0..MAX_SEARCH_STEPS {
            let next = (low * f_high - high * f_low) / (f_high - f_low);
            let f_next = shortfall(next)?;
            if f_next == 0.0 || (high - low).abs() <= 1e-14 * high {
                return Ok(next);
            }
            if (f_next < 0.0) == (f_high < 0.0) {
                f_low /= 2.0;
            } else {
                (low, f_low) = (high, f_high);
            }
            (high, f_high) = (next, f_next);
        }
        Ok(high)
    }
}

/// The boundary of a design's last look, given the looks before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    pub look: i32,
    pub information: f64,
    /// Alpha spent up to and including this look.
    pub alpha_spent: f64,
    pub z_bound: f64,
    /// The nominal p-value at and below which this look rejects: the test's own p-value,
    /// two-sided or one-sided as the design.
    pub p_bound: f64,
}

impl ResultRecord for Boundary {
    const RECORD: &'static Record = &GST_BOUNDARY;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FieldValue::Int(Some(self.look)),
            FieldValue::Float(Some(self.information)),
            FieldValue::Float(Some(self.alpha_spent)),
            FieldValue::Float(Some(self.z_bound)),
            FieldValue::Float(Some(self.p_bound)),
        ]
    }
}

/// The boundary at the last of `information`'s looks.
pub fn boundary(information: Vec<f64>, alpha: f64, spending: &str, alternative: &str) -> Result<Boundary> {
    let design = Design::new(information, alpha, spending, alternative)?;
    let work = Work::new("information");
    let z_bound = *design.boundaries(&work)?.last().expect("a design has a look");
    let t = *design.information.last().expect("a design has a look");
    let one_tail = normal_sf(z_bound);
    Ok(Boundary {
        look: i32::try_from(design.information.len()).expect("at most MAX_LOOKS looks"),
        information: t,
        alpha_spent: design.spent(t),
        z_bound,
        p_bound: if design.two_sided() { 2.0 * one_tail } else { one_tail },
    })
}

/// How much more information (sample size) the design needs at its last look than a test with
/// one look, for the same alpha and `power`: (θ_K/θ₁)², θ the drift that gives the power.
/// The last look must be at the planned maximum (1).
pub fn inflation(information: Vec<f64>, alpha: f64, power: f64, spending: &str, alternative: &str) -> Result<f64> {
    crate::planning::check_power(power)?;
    if information.last() != Some(&1.0) {
        return Err(InvalidArgument::new("information", format!("the last planned look must be at 1, got {information:?}")));
    }
    let design = Design::new(information, alpha, spending, alternative)?;
    if power <= alpha {
        return Err(InvalidArgument::new("power", format!("must exceed alpha ({alpha}), got {power}")));
    }
    let single = Design { information: vec![1.0], ..design.clone() };
    let work = Work::new("information");
    let drift = design.drift_for_power(&design.boundaries(&work)?, power, &work)?;
    let single_drift = single.drift_for_power(&single.boundaries(&work)?, power, &work)?;
    Ok((drift / single_drift).powi(2))
}

/// The score S(t) = z(t)·√t just after a look, on the region where the test went on: points
/// and their Simpson weight times the sub-density there (whose total is the probability of
/// having gone on). Before the first look, all of the mass is at 0.
struct Walk {
    time: f64,
    points: Vec<f64>,
    mass: Vec<f64>,
}

impl Walk {
    fn start() -> Self {
        Self { time: 0.0, points: vec![0.0], mass: vec![1.0] }
    }

    /// P(the test went on until now and crosses `bound` at the look at `t`), with `drift` the
    /// mean of z at t = 1 (S(t) has mean drift·t).
    fn crossing(&self, t: f64, bound: f64, two_sided: bool, drift: f64, work: &Work) -> Result<f64> {
        if bound.is_infinite() {
            return Ok(0.0);
        }
        let step = t - self.time;
        let (sd, shift, edge) = (step.sqrt(), drift * step, bound * t.sqrt());
        work.charge(self.points.len() as u64)?;
        Ok(self
            .points
            .iter()
            .zip(&self.mass)
            .map(|(&s, &mass)| {
                let upper = normal_sf((edge - s - shift) / sd);
                let lower = if two_sided { normal_sf((edge + s + shift) / sd) } else { 0.0 };
                mass * (upper + lower)
            })
            .sum())
    }

    /// The bound at the look at `t` whose crossing probability under the null is `to_spend`.
    fn boundary_spending(&self, t: f64, to_spend: f64, two_sided: bool, work: &Work) -> Result<f64> {
        let (mut low, mut high) = (if two_sided { 0.0 } else { -Z_CEILING }, Z_CEILING);
        if self.crossing(t, high, two_sided, 0.0, work)? >= to_spend {
            return Ok(high);
        }
        for _ in 0..MAX_SEARCH_STEPS {
            let middle = 0.5 * (low + high);
            if middle <= low || middle >= high {
                break;
            }
            if self.crossing(t, middle, two_sided, 0.0, work)? > to_spend {
                low = middle;
            } else {
                high = middle;
            }
        }
        Ok(0.5 * (low + high))
    }

    /// The walk just after the look at `t`, on the region inside `bound`.
    fn continue_inside(&self, t: f64, bound: f64, two_sided: bool, drift: f64, work: &Work) -> Result<Self> {
        let (step, sd_t) = (t - self.time, t.sqrt());
        let (sd, shift) = (step.sqrt(), drift * step);
        let upper = bound * sd_t;
        let lower = if two_sided { -upper } else { f64::NEG_INFINITY };
        let (points, weights) = simpson_grid(drift * t, sd_t, lower, upper);
        work.charge((points.len() * self.points.len()) as u64)?;
        let mass = points
            .iter()
            .zip(&weights)
            .map(|(&x, &weight)| {
                let density: f64 = self.points.iter().zip(&self.mass).map(|(&s, &m)| m * normal_pdf((x - s - shift) / sd)).sum::<f64>() / sd;
                weight * density
            })
            .collect();
        Ok(Self { time: t, points, mass })
    }
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Jennison and Turnbull's points around `mean` (dense within 3 sd, log-spaced out to
/// 3 + 4·ln r sd), clipped to (lower, upper) with the ends added, and Simpson's rule on them:
/// the points with midpoints inserted and their weights.
fn simpson_grid(mean: f64, sd: f64, lower: f64, upper: f64) -> (Vec<f64>, Vec<f64>) {
    let r = GRID_R as f64;
    let mut ends: Vec<f64> = (1..6 * GRID_R)
        .map(|i| {
            let i = i as f64;
            let z = if i < r {
                -3.0 - 4.0 * (r / i).ln()
            } else if i <= 5.0 * r {
                -3.0 + 3.0 * (i - r) / (2.0 * r)
            } else {
                3.0 + 4.0 * (r / (6.0 * r - i)).ln()
            };
            mean + sd * z
        })
        .collect();
    let (first, last) = (ends[0], ends[ends.len() - 1]);
    ends.retain(|&x| x > lower && x < upper);
    if lower > first {
        ends.insert(0, lower);
    }
    if upper < last {
        ends.push(upper);
    }
    if ends.len() < 2 {
        return (Vec::new(), Vec::new());
    }
    let mut points = Vec::with_capacity(2 * ends.len() - 1);
    let mut weights = vec![0.0; 2 * ends.len() - 1];
    for (i, pair) in ends.windows(2).enumerate() {
        let width = pair[1] - pair[0];
        points.push(pair[0]);
        points.push(0.5 * (pair[0] + pair[1]));
        weights[2 * i] += width / 6.0;
        weights[2 * i + 1] += 4.0 * width / 6.0;
        weights[2 * i + 2] += width / 6.0;
    }
    points.push(ends[ends.len() - 1]);
    (points, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single look is the fixed-horizon test: its boundary is z_{1−α/2}, its inflation 1.
    #[test]
    fn one_look_is_the_fixed_horizon_test() {
        let b = boundary(vec![1.0], 0.05, "obrien-fleming", "two-sided").unwrap();
        assert!((b.z_bound - normal_isf(0.025)).abs() < 1e-12, "{b:?}");
        assert!((inflation(vec![1.0], 0.05, 0.8, "pocock", "larger").unwrap() - 1.0).abs() < 1e-12);
    }

    /// The whole of alpha is spent over the looks: the null's crossing probabilities add up.
    #[test]
    fn the_looks_spend_alpha_exactly() {
        for spending in ["obrien-fleming", "pocock", "power:2"] {
            let design = Design::new(vec![0.2, 0.4, 0.6, 0.8, 1.0], 0.05, spending, "two-sided").unwrap();
            let work = Work::new("information");
            let bounds = design.boundaries(&work).unwrap();
            let total = design.rejection_probability(&bounds, 0.0, &work).unwrap();
            assert!((total - 0.05).abs() < 1e-10, "{spending}: {total}");
        }
    }

    #[test]
    fn bad_designs_name_their_argument() {
        let error = |result: Result<Boundary>| result.unwrap_err().to_string();
        assert!(error(boundary(vec![0.5, 0.5], 0.05, "pocock", "two-sided")).contains("information"));
        assert!(error(boundary(vec![], 0.05, "pocock", "two-sided")).contains("information"));
        assert!(error(boundary(vec![f64::NAN], 0.05, "pocock", "two-sided")).contains("information"));
        assert!(error(boundary(vec![1.0; MAX_LOOKS + 1], 0.05, "pocock", "two-sided")).contains("information"));
        assert!(error(boundary(vec![1.0], 0.6, "pocock", "two-sided")).contains("alpha"));
        assert!(error(boundary(vec![1.0], 0.05, "power:0", "two-sided")).contains("spending"));
        assert!(error(boundary(vec![1.0], 0.05, "haybittle", "two-sided")).contains("spending"));
        assert!(inflation(vec![0.5], 0.05, 0.8, "pocock", "two-sided").unwrap_err().to_string().contains("information"));
        assert!(inflation(vec![1.0], 0.05, 0.01, "pocock", "two-sided").unwrap_err().to_string().contains("power"));
    }
}
