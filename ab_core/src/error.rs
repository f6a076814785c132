//! The one error type of `ab_core`: an argument outside its domain.

use std::fmt;

/// An argument outside the domain of a function. Front ends map it to their own
/// "bad input" error (SQLSTATE 22023 in Postgres, a 4xx over HTTP); the message
/// names the argument as the caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument {
    pub argument: &'static str,
    pub reason: String,
}

impl InvalidArgument {
    pub fn new(argument: &'static str, reason: impl Into<String>) -> Self {
        Self { argument, reason: reason.into() }
    }
}

impl fmt::Display for InvalidArgument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.argument, self.reason)
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
