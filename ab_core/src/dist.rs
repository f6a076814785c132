//! The distributions behind the tests: tail probabilities and quantiles that keep their
//! relative precision far into the tails.
//!
//! The normal and chi-square come from `statrs`. Student's t does too for moderate degrees
//! of freedom; above [`LARGE_DF`] `statrs`' incomplete beta loses digits (1e-8 relative at
//! 1e7 df, no answer at 1e8; Welch df reach 10¹² on counts like docs/contract.md §3's), so there we use
//! Hill's asymptotic normalizing transformation (ACM Algorithm 395), measured against scipy
//! to 4e-13 relative from 1e4 df up. `statrs`' erfc is off by up to 1e-10 relative, so the
//! normal tail uses `libm`'s (msun) erfc.
//!
//! The Beta distribution is our own: `statrs`' incomplete beta stops its continued fraction
//! after 140 terms and returns what it has, which is 1e-3 off at Beta(5e5, 5e5), a posterior
//! of a million users. [`beta_cdf`] runs the continued fraction to convergence and computes
//! its prefactor xᵃ(1 − x)ᵇ/B(a, b) in the saddle-point form of TOMS 708 (Didonato and
//! Morris 1992), which keeps its digits where the lnΓ terms are each ~10⁷.

use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};
use statrs::function::erf::erfc_inv;
use statrs::function::gamma::ln_gamma;
use libm::erfc;
use std::f64::consts::SQRT_2;
use crate::error::{InvalidArgument, Result};
use crate::work::Work;

/// Degrees of freedom from which Student's t is computed by Hill's transformation.
const LARGE_DF: f64 = 1e4;

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / SQRT_2)
}

/// The z with P(Z > z) = p, for p in (0, 1); exact in the upper tail.
pub fn normal_isf(p: f64) -> f64 {
    SQRT_2 * erfc_inv(2.0 * p)
}

/// Fixed-point steps of `t_isf` above [`LARGE_DF`]: it settles in a handful (the factor
/// z(t)/t is within 1e-4 of 1 there), so 64 is never reached; a cap, not a tolerance.
const HILL_ITERATIONS: usize = 64;

/// P(T > t) for Student's t with `df` degrees of freedom (`df > 0`).
pub fn t_sf(t: f64, df: f64) -> f64 {
    if df >= LARGE_DF {
        let z = hill_normal_deviate(t.abs(), df);
        if t >= 0.0 { normal_sf(z) } else { normal_sf(-z) }
    } else {
        // `df > 0` is the only way `new` fails, and every caller passes a Welch df ≥ 1.
        StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |dist| dist.sf(t))
    }
}

/// The t with P(T > t) = p, for p in (0, 1).
pub fn t_isf(p: f64, df: f64) -> f64 {
    if df >= LARGE_DF {
        // Hill's z(t) is t times a factor close to 1 that varies slowly, so the
        // fixed-point iteration t ← t·z/z(t) converges in a handful of steps.
        let z = normal_isf(p);
        if z == 0.0 {
            return 0.0;
        }
        let target = z.abs();
        let mut t = target;
        for _ in 0..HILL_ITERATIONS {
            let next = t * target / hill_normal_deviate(t, df);
            let settled = (next - t).abs() <= 4.0 * f64::EPSILON * t;
            t = next;
            if settled {
                break;
            }
        }
        t.copysign(z)
    } else {
        StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |dist| dist.inverse_cdf(1.0 - p))
    }
}

/// Hill (1970), Algorithm 395: the standard normal deviate with the same upper tail
/// as Student's t at `t ≥ 0` with `df` degrees of freedom.
fn hill_normal_deviate(t: f64, df: f64) -> f64 {
    let a = df - 0.5;
    let b = 48.0 * a * a;
    let y = a * (t * t / df).ln_1p();
    let correction = ((((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b) + y + 3.0) / b;
    (correction + 1.0) * y.sqrt()
}

/// P(X > x) for a chi-square X with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    ChiSquared::new(df).map_or(f64::NAN, |dist| dist.sf(x))
}

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Stirling's remainder lnΓ(z) − ((z − ½)·ln z − z + ln √(2π)), for z > 0: its asymptotic
/// series (Bernoulli numbers B₂ₖ/(2k(2k − 1))) from 10 on, where eight terms reach 1e-17;
/// below that, from lnΓ itself, whose value is small enough there to keep 1e-15.
fn stirling_remainder(z: f64) -> f64 {
    if z < 10.0 {
        return ln_gamma(z) - ((z - 0.5) * z.ln() - z + LN_SQRT_2PI);
    }
    const COEFFICIENTS: [f64; 8] =
        [1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0, 1.0 / 1188.0, -691.0 / 360_360.0, 1.0 / 156.0, -3617.0 / 122_400.0];
    let inverse_square = 1.0 / (z * z);
    COEFFICIENTS.iter().rev().fold(0.0, |sum, c| sum * inverse_square + c) / z
}

/// a·(ln(x/x₀) − e) with e = x/x₀ − 1: for small e as −a·(e − ln(1 + e)), which has no
/// cancellation, otherwise directly.
/// `scaled_e` is a·e, passed in because it is finite where e alone overflows (tiny a).
fn scaled_log_ratio(a: f64, x: f64, x0: f64, e: f64, scaled_e: f64) -> f64 {
    if e.abs() < 0.5 { -a * (e - e.ln_1p()) } else { a * (x.ln() - x0.ln()) - scaled_e }
}

/// ln(xᵃ·yᵇ/B(a, b)) with y = 1 − x given separately (whichever is computed as 1 − the
/// other loses digits). With x₀ = a/(a + b), Stirling's formula turns it into
/// a·ln(x/x₀) + b·ln(y/y₀) + ½·ln(ab/(a + b)) − ln √(2π) + remainders, and the two
/// logarithms are written so that their large linear parts, which cancel, never appear.
fn ln_beta_kernel(a: f64, b: f64, x: f64, y: f64) -> f64 {
    let total = a + b;
    let (x0, y0) = (a / total, b / total);
    // x − x₀ = (b·x − a·y)/(a + b), exact to a few ulps even when x is close to x₀.
    let offset = (b * x - a * y) / total;
    // a·(x/x₀ − 1) = (x − x₀)·(a + b), and likewise for b.
    scaled_log_ratio(a, x, x0, offset / x0, offset * total) + scaled_log_ratio(b, y, y0, -offset / y0, -offset * total)
        + 0.5 * (a.ln() + b.ln() - total.ln())
        - LN_SQRT_2PI
        + stirling_remainder(total)
        - stirling_remainder(a)
        - stirling_remainder(b)
}

/// The density of Beta(a, b) at x in (0, 1), for a, b > 0.
pub fn beta_pdf(a: f64, b: f64, x: f64) -> f64 {
    let y = 1.0 - x;
    (ln_beta_kernel(a, b, x, y) - x.ln() - y.ln()).exp()
}

/// The regularized incomplete beta function I_x(a, b) = P(Beta(a, b) ≤ x), for a, b > 0.
/// Fails (limit exceeded, naming `a`) when the continued fraction does not converge within
/// [`MAX_FRACTION_TERMS`], which happens only for shapes beyond [`MAX_SHAPE`].
pub fn beta_cdf(a: f64, b: f64, x: f64) -> Result<f64> {
    Ok(beta_tails_within(a, b, x, 1.0 - x, &Work::new("a"))?.0)
}

/// P(Beta(a, b) ≤ x) and P(Beta(a, b) > x), for a, b > 0 and y = 1 − x given separately so
/// that neither loses digits. The tail on x's side of the mean is computed, the other is
/// 1 minus it, so each tail keeps its relative precision where it is small.
pub fn beta_tails(a: f64, b: f64, x: f64, y: f64) -> Result<(f64, f64)> {
    beta_tails_within(a, b, x, y, &Work::new("a"))
}

/// [`beta_tails`], charging its continued-fraction terms to the caller's budget.
pub(crate) fn beta_tails_within(a: f64, b: f64, x: f64, y: f64, work: &Work) -> Result<(f64, f64)> {
    if x <= 0.0 {
        return Ok((0.0, 1.0));
    }
    if y <= 0.0 {
        return Ok((1.0, 0.0));
    }
    // The continued fraction converges fast below the mean; above it, use the mirror.
    if x < (a + 1.0) / (a + b + 2.0) {
        let lower = incomplete_beta_fraction(a, b, x, y, work)?;
        Ok((lower, 1.0 - lower))
    } else {
        let upper = incomplete_beta_fraction(b, a, y, x, work)?;
        Ok((1.0 - upper, upper))
    }
}

/// The largest Beta shape parameter the Bayesian functions accept (priors, and posteriors
/// prior + count): where the Beta cdf still keeps the digits the quadrature needs in double
/// precision. I_½(s, s) is ½ exactly; computed, it is off by 9e-11 at s = 1e12, 1.4e-9 at 1e14,
/// 3.5e-8 at 1e15 and 2.2e-7 at 9e15 (the ulps of x near the mean are no longer small against
/// the posterior's sd, ~1/√(8s)). At 1e13 the error is about 5e-10, well inside the 1e-6
/// contract of `ab_bayes_prop`. Whether a call with shapes this large also fits in its work
/// budget is a separate question ([`crate::work::MAX_STEPS_PER_CALL`]): one with a 1e9 prior
/// on a small sample does not, and fails with "limit exceeded" after the budget.
pub const MAX_SHAPE: f64 = 1e13;

/// Terms of the continued fraction one evaluation may take. At the mean, where it converges
/// slowest, it needs about 45 000 terms at shape 1e12 and 192 000 at 1e14 (growing as about
/// the cube root of the shape), so about 100 000 at [`MAX_SHAPE`]: this is ten times that. A
/// fraction still unconverged here is not going to converge (NaN or shapes far beyond the
/// domain), and its partial value is not an answer.
const MAX_FRACTION_TERMS: u64 = 1_000_000;

/// Terms charged to the budget (and the interrupt hook polled) at once.
const FRACTION_CHUNK: u64 = 1024;

/// I_x(a, b) by its continued fraction (modified Lentz), for x below (a + 1)/(a + b + 2).
/// Near the mean the fraction needs O(√max(a, b)) terms.
fn incomplete_beta_fraction(a: f64, b: f64, x: f64, y: f64, work: &Work) -> Result<f64> {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut fraction = d;
    let mut converged = false;
    let mut terms = 0;
    while terms < MAX_FRACTION_TERMS {
        terms += 1;
        if terms % FRACTION_CHUNK == 0 {
            work.charge(FRACTION_CHUNK)?;
        }
        let m = terms as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        fraction *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        fraction *= step;
        if (step - 1.0).abs() <= f64::EPSILON {
            converged = true;
            break;
        }
    }
    work.charge(terms % FRACTION_CHUNK)?;
    if !converged {
        return Err(InvalidArgument::limit_exceeded(
            work.argument(),
            format!("the Beta({a:?}, {b:?}) cdf's continued fraction did not converge in {MAX_FRACTION_TERMS} terms"),
        ));
    }
    Ok(ln_beta_kernel(a, b, x, y).exp() * fraction / a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fraction that cannot converge (NaN shapes) stops at its cap with an error instead
    /// of returning its partial value; one that needs more terms than the call's budget has
    /// left stops there.
    #[test]
    fn the_continued_fraction_is_capped() {
        let error = beta_cdf(f64::NAN, 1.0, 0.5).unwrap_err();
        assert!(error.is_limit_exceeded() && error.reason.contains("did not converge"), "{error}");
        // Beta(1e12, 1e12) at its mean needs about 45 000 terms.
        let work = Work::with_limit("n_c", 10_000);
        let error = beta_tails_within(1e12, 1e12, 0.5, 0.5, &work).unwrap_err();
        assert!(error.is_limit_exceeded() && error.argument == "n_c", "{error}");
        assert!(work.spent() <= 10_000 + FRACTION_CHUNK);
        let work = Work::new("n_c");
        let (lower, upper) = beta_tails_within(1e12, 1e12, 0.5, 0.5, &work).unwrap();
        assert!((lower - 0.5).abs() < 1e-9 && (upper - 0.5).abs() < 1e-9, "{lower} {upper}");
        assert!(work.spent() < 100_000, "{}", work.spent());
    }

    /// A prior of 1e-310 makes x/x₀ overflow; the kernel must not turn that into ∞ − ∞.
    #[test]
    fn tiny_shapes_give_numbers_not_nan() {
        let cdf = beta_cdf(1e-310, 2.5, 0.3).unwrap();
        assert!((cdf - 1.0).abs() < 1e-9, "{cdf}");
        assert!(beta_pdf(1e-310, 2.5, 0.3).is_finite());
        let symmetric = beta_cdf(1e-170, 1e-170, 0.3).unwrap();
        assert!((symmetric - 0.5).abs() < 1e-9, "{symmetric}");
    }
}
