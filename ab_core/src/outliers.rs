//! Capping outliers before a test: winsorizing to fixed bounds (percentile caps are these
//! bounds computed per experiment in SQL; see the pg_regress examples).

use crate::error::{check_finite, InvalidArgument, Result};

/// `value` clamped to [lo, hi].
pub fn winsorize(value: f64, lo: f64, hi: f64) -> Result<f64> {
    check_finite("lo", lo)?;
    check_finite("hi", hi)?;
    if lo > hi {
        return Err(InvalidArgument::new("lo", format!("must not exceed hi ({hi}), got {lo}")));
    }
    if value.is_nan() {
        return Err(InvalidArgument::new("value", "must be a number, got NaN"));
    }
    Ok(value.clamp(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_checks_bounds() {
        assert_eq!(winsorize(5.0, 0.0, 3.0), Ok(3.0));
        assert_eq!(winsorize(-1.0, 0.0, 3.0), Ok(0.0));
        assert_eq!(winsorize(f64::INFINITY, 0.0, 3.0), Ok(3.0));
        assert_eq!(winsorize(2.0, 0.0, 3.0), Ok(2.0));
        assert_eq!(winsorize(2.0, 4.0, 3.0).unwrap_err().argument, "lo");
        assert_eq!(winsorize(2.0, 0.0, f64::NAN).unwrap_err().argument, "hi");
        assert_eq!(winsorize(f64::NAN, 0.0, 1.0).unwrap_err().argument, "value");
    }
}
