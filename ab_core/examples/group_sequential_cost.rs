//! The group sequential figures docs/statistics.md quotes, and what they cost to compute:
//! `cargo run --release -p ab_core --example group_sequential_cost`. For five equal looks at
//! 0.05 two-sided, each spending's boundaries and inflation factor at power 0.9; for 100 looks
//! (the cap), the time of the last boundary and of the inflation factor at power 0.8.

use ab_core::group_sequential::{boundary, inflation, MAX_LOOKS};
use std::time::Instant;

fn equal_looks(looks: usize) -> Vec<f64> {
    (1..=looks).map(|k| k as f64 / looks as f64).collect()
}

fn main() {
    let five = equal_looks(5);
    for spending in ["obrien-fleming", "pocock"] {
        let bounds: Vec<String> = (1..=five.len())
            .map(|k| format!("{:.3}", boundary(five[..k].to_vec(), 0.05, spending, "two-sided").expect("a valid design").z_bound))
            .collect();
        let factor = inflation(five.clone(), 0.05, 0.9, spending, "two-sided").expect("a valid design");
        println!("5 looks, {spending}: boundaries {}; inflation at power 0.9 {factor:.4}", bounds.join(", "));
    }
    let hundred = equal_looks(MAX_LOOKS);
    let started = Instant::now();
    boundary(hundred.clone(), 0.05, "obrien-fleming", "two-sided").expect("a valid design");
    let boundary_time = started.elapsed();
    let started = Instant::now();
    let factor = inflation(hundred, 0.05, 0.8, "obrien-fleming", "two-sided");
    println!(
        "{MAX_LOOKS} looks, obrien-fleming: last boundary in {boundary_time:.2?}; inflation at power 0.8 {factor:?} in {:.2?}",
        started.elapsed()
    );
}
