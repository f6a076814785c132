//! Contamination: units exposed to more than one variant of the same experiment (a broken
//! assignment, shared devices, a bucketing change). Their results mix arms, so they are
//! counted, and usually excluded.

use crate::records::{FieldValue, ResultRecord};
use crate::error::{InvalidArgument, Result};
use std::collections::HashMap;

/// `ab_contamination`'s result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contamination {
    pub units: i64,
    pub contaminated_units: i64,
    pub share: f64,
}

impl ResultRecord for Contamination {
    const RECORD: &'static crate::records::Record = &crate::records::CONTAMINATION;
    fn values(&self) -> Vec<FieldValue> {
        vec![FieldValue::BigInt(Some(self.units)), FieldValue::BigInt(Some(self.contaminated_units)), FieldValue::Float(Some(self.share))]
    }
}

/// Rows between two calls of the interrupt hook: the walk is linear in the arrays, which
/// Postgres bounds (1 GB), but 100 million rows take seconds.
const INTERRUPT_EVERY_ROWS: usize = 65_536;

/// From exposure rows (unit, variant), in any order and with repeats: the distinct units, those
/// seen in more than one variant, and their share. `None` without rows.
pub fn contamination<U: AsRef<str>, V: AsRef<str>>(units: &[U], variants: &[V]) -> Result<Option<Contamination>> {
    if units.len() != variants.len() {
        return Err(InvalidArgument::new(
            "units",
            format!("has {} entries but variants has {}", units.len(), variants.len()),
        ));
    }
    // Per unit: its first variant, and whether another one was seen.
    let mut seen: HashMap<&str, (&str, bool)> = HashMap::with_capacity(units.len());
    for (row, (unit, variant)) in units.iter().zip(variants).enumerate() {
        if row % INTERRUPT_EVERY_ROWS == 0 {
            crate::interrupt::check();
        }
        let entry = seen.entry(unit.as_ref()).or_insert((variant.as_ref(), false));
        entry.1 |= entry.0 != variant.as_ref();
    }
    if seen.is_empty() {
        return Ok(None);
    }
    let units = seen.len() as i64;
    let contaminated_units = seen.values().filter(|(_, mixed)| *mixed).count() as i64;
    Ok(Some(Contamination { units, contaminated_units, share: contaminated_units as f64 / units as f64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_units_seen_in_two_variants() {
        let units = ["a", "b", "a", "c", "b", "a"];
        let variants = ["control", "treatment", "control", "control", "control", "treatment"];
        let result = contamination(&units, &variants).unwrap().unwrap();
        assert_eq!((result.units, result.contaminated_units), (3, 2));
        assert!((result.share - 2.0 / 3.0).abs() < 1e-15);
        assert!(contamination::<&str, &str>(&[], &[]).unwrap().is_none());
        assert_eq!(contamination(&["a"], &["x", "y"]).unwrap_err().argument, "units");
    }
}
