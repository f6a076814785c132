//! The distributions behind the tests: tail probabilities and quantiles that keep their
//! relative precision far into the tails.
//!
//! The normal and chi-square come from `statrs`. Student's t does too for moderate degrees
//! of freedom; above [`LARGE_DF`] `statrs`' incomplete beta loses digits (1e-8 relative at
//! 1e7 df, no answer at 1e8; Welch df reach 10¹² on counts like SPEC §3's), so there we use
//! Hill's asymptotic normalizing transformation (ACM Algorithm 395), measured against scipy
//! to 4e-13 relative from 1e4 df up. `statrs`' erfc is off by up to 1e-10 relative, so the
//! normal tail uses `libm`'s (msun) erfc.

use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};
use statrs::function::erf::erfc_inv;
use libm::erfc;
use std::f64::consts::SQRT_2;

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
        for _ in 0..64 {
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
