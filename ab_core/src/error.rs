//! The one error type of `ab_core`: an argument outside its domain, or valid arguments
//! whose computation would exceed one of the work caps (`docs/statistics.md`, "Bounded work").

use std::fmt;

/// Which of the two ways a call can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The argument is outside the function's domain: SQLSTATE 22023 in Postgres.
    Invalid,
    /// The arguments are valid but the answer is out of reach within the work caps:
    /// SQLSTATE 54000 (program_limit_exceeded) in Postgres.
    LimitExceeded,
}

/// An argument outside the domain of a function, or (with [`ErrorKind::LimitExceeded`]) the
/// argument whose size put the answer out of reach. Front ends map it to their own "bad
/// input" error (SQLSTATE 22023 in Postgres, a 4xx over HTTP) or "limit exceeded" error
/// (54000); the message names the argument as the caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument {
    pub argument: &'static str,
    pub reason: String,
    pub kind: ErrorKind,
}

impl InvalidArgument {
    pub fn new(argument: &'static str, reason: impl Into<String>) -> Self {
        Self { argument, reason: reason.into(), kind: ErrorKind::Invalid }
    }

    /// Valid input whose computation hit a work cap.
    pub fn limit_exceeded(argument: &'static str, reason: impl Into<String>) -> Self {
        Self { argument, reason: reason.into(), kind: ErrorKind::LimitExceeded }
    }

    pub fn is_limit_exceeded(&self) -> bool {
        self.kind == ErrorKind::LimitExceeded
    }
}

impl fmt::Display for InvalidArgument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Invalid => write!(f, "invalid {}: {}", self.argument, self.reason),
            ErrorKind::LimitExceeded => write!(f, "limit exceeded ({}): {}", self.argument, self.reason),
        }
    }
}

impl std::error::Error for InvalidArgument {}

pub type Result<T> = std::result::Result<T, InvalidArgument>;

/// `value` must lie strictly between 0 and 1 (alpha, power, rates).
pub(crate) fn check_open_unit(argument: &'static str, value: f64) -> Result<f64> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(InvalidArgument::new(argument, format!("must be between 0 and 1 exclusive, got {value}")))
    }
}

/// `value` must be a finite number.
pub fn check_finite(argument: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(InvalidArgument::new(argument, format!("must be a finite number, got {value}")))
    }
}

/// `mean_t − mean_c` of two finite means; a difference that overflows double precision (means
/// of ±1e308) is outside the domain, named by the larger side.
pub(crate) fn check_difference(mean_t: f64, mean_c: f64) -> Result<f64> {
    let diff = mean_t - mean_c;
    if diff.is_finite() {
        return Ok(diff);
    }
    let name = if mean_t.abs() >= mean_c.abs() { "mean_t" } else { "mean_c" };
    Err(InvalidArgument::new(name, format!("the difference {mean_t:?} − {mean_c:?} overflows double precision")))
}

/// `value` must be finite and strictly positive.
pub(crate) fn check_positive(argument: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(InvalidArgument::new(argument, format!("must be a positive finite number, got {value}")))
    }
}

/// A count that must be at least `min`.
pub(crate) fn check_at_least(argument: &'static str, value: i64, min: i64) -> Result<i64> {
    if value >= min {
        Ok(value)
    } else {
        Err(InvalidArgument::new(argument, format!("must be at least {min}, got {value}")))
    }
}
