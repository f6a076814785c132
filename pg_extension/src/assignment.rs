//! Assignment of units to variants (docs/contract.md §2): `ab_assign`, `ab_in_sample`, `ab_in_layer`.
//! `ab_hash` and `ab_bucket` run per row over whole tables and live in hot_paths.rs.

use crate::sql_glue::{elements, OrRaise};
use ab_core::assign;
use pgrx::prelude::*;

/// The 1-based index of the unit's variant for the weights.
#[pg_extern(immutable, strict, parallel_safe, name = "ab_assign")]
fn ab_assign_index(unit: &str, salt: &str, weights: Array<f64>) -> i32 {
    let weights = elements("weights", &weights);
    // At most 2³¹ weights fit in a Postgres array, so the index fits in int4.
    assign::assign_index(unit, salt, &weights).or_raise() as i32
}

/// The name of the unit's variant for the weights.
#[pg_extern(immutable, strict, parallel_safe, name = "ab_assign")]
fn ab_assign_variant(unit: &str, salt: &str, variants: Array<&str>, weights: Array<f64>) -> String {
    let (variants, weights) = (elements("variants", &variants), elements("weights", &weights));
    assign::assign_variant(unit, salt, &variants, &weights).or_raise().to_owned()
}

/// Whether the unit is in the experiment's traffic fraction.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_in_sample(unit: &str, salt: &str, fraction: f64) -> bool {
    assign::in_sample(unit, salt, fraction).or_raise()
}

/// Whether the unit falls in the layer range [lo, hi).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_in_layer(unit: &str, layer_salt: &str, lo: f64, hi: f64) -> bool {
    assign::in_layer_range(unit, layer_salt, lo, hi).or_raise()
}
