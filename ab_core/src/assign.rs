//! Deterministic assignment of units to variants (docs/contract.md §2). SDKs in any language must
//! reproduce these numbers, so every step is spelled out:
//! `h = XXH3_64(salt ++ ":" ++ unit)`, `u = (h >> 11) · 2⁻⁵³`.

use crate::error::{InvalidArgument, Result};
use xxhash_rust::xxh3::xxh3_64;

/// Keys up to this size are hashed from a stack buffer, so the hot path never allocates.
const STACK_KEY_BYTES: usize = 256;

/// The 64-bit XXH3 (seed 0) of `salt ++ ":" ++ unit`. Units and salts are bytes (a `&str`
/// or the raw UTF-8 of a Postgres text), so no caller has to validate or copy them.
pub fn hash64(unit: impl AsRef<[u8]>, salt: impl AsRef<[u8]>) -> u64 {
    xxh3_of_parts(&[salt.as_ref(), b":", unit.as_ref()])
}

fn xxh3_of_parts(parts: &[&[u8]]) -> u64 {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    if len <= STACK_KEY_BYTES {
        let mut key = [0u8; STACK_KEY_BYTES];
        let mut end = 0;
        for part in parts {
            key[end..end + part.len()].copy_from_slice(part);
            end += part.len();
        }
        xxh3_64(&key[..len])
    } else {
        xxh3_64(&parts.concat())
    }
}

fn draw_from_hash(hash: u64) -> f64 {
    const TWO_POW_MINUS_53: f64 = 1.0 / (1u64 << 53) as f64;
    (hash >> 11) as f64 * TWO_POW_MINUS_53
}

/// The unit's uniform draw in `[0, 1)`: the top 53 bits of the hash.
pub fn hash_unit(unit: impl AsRef<[u8]>, salt: impl AsRef<[u8]>) -> f64 {
    draw_from_hash(hash64(unit, salt))
}

/// `floor(u · buckets)`, in `[0, buckets)`.
pub fn bucket(unit: impl AsRef<[u8]>, salt: impl AsRef<[u8]>, buckets: i32) -> Result<i32> {
    if buckets < 1 {
        return Err(InvalidArgument::new("buckets", format!("must be at least 1, got {buckets}")));
    }
    // u < 1 and u·buckets is exact to 53 bits, so the floor stays below `buckets`.
    Ok((hash_unit(unit, salt) * f64::from(buckets)) as i32)
}

/// Checks variant weights: finite, non-negative, summing to more than zero.
/// Returns their sum.
pub fn check_weights(weights: &[f64]) -> Result<f64> {
    if weights.is_empty() {
        return Err(InvalidArgument::new("weights", "must not be empty"));
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(InvalidArgument::new("weights", format!("must be finite and non-negative, got {bad}")));
    }
    let total: f64 = weights.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(InvalidArgument::new("weights", "must sum to more than zero"));
    }
    Ok(total)
}

/// The 1-based index of the first variant with `u < (w₁+…+wᵢ)/(w₁+…+wₙ)`.
pub fn assign_index(unit: impl AsRef<[u8]>, salt: impl AsRef<[u8]>, weights: &[f64]) -> Result<usize> {
    let total = check_weights(weights)?;
    Ok(index_for_draw(hash_unit(unit, salt), weights, total))
}

/// The name of the variant chosen by [`assign_index`].
pub fn assign_variant<'a, S: AsRef<str>>(
    unit: impl AsRef<[u8]>,
    salt: impl AsRef<[u8]>,
    variants: &'a [S],
    weights: &[f64],
) -> Result<&'a str> {
    if variants.len() != weights.len() {
        return Err(InvalidArgument::new(
            "variants",
            format!("has {} names but weights has {} entries", variants.len(), weights.len()),
        ));
    }
    let index = assign_index(unit, salt, weights)?;
    Ok(variants[index - 1].as_ref())
}

fn index_for_draw(u: f64, weights: &[f64], total: f64) -> usize {
    let mut cumulative = 0.0;
    for (i, weight) in weights.iter().enumerate() {
        cumulative += weight;
        if u < cumulative / total {
            return i + 1;
        }
    }
    // Unreachable in exact arithmetic (the last ratio is 1 and u < 1); a trailing
    // zero weight can make the last positive weight the answer.
    weights.iter().rposition(|w| *w > 0.0).map_or(weights.len(), |i| i + 1)
}

/// Traffic inclusion, independent of the variant draw: `u(unit, salt ++ ":traffic") < fraction`.
/// Raising `fraction` only adds units.
pub fn in_sample(unit: impl AsRef<[u8]>, salt: impl AsRef<[u8]>, fraction: f64) -> Result<bool> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(InvalidArgument::new("fraction", format!("must be between 0 and 1, got {fraction}")));
    }
    let draw = draw_from_hash(xxh3_of_parts(&[salt.as_ref(), b":traffic:", unit.as_ref()]));
    Ok(draw < fraction)
}

/// Mutually exclusive layers: the unit is eligible iff `lo <= u(unit, layer_salt) < hi`.
pub fn in_layer_range(unit: impl AsRef<[u8]>, layer_salt: impl AsRef<[u8]>, lo: f64, hi: f64) -> Result<bool> {
    if !(0.0..=1.0).contains(&lo) {
        return Err(InvalidArgument::new("lo", format!("must be between 0 and 1, got {lo}")));
    }
    if !(lo..=1.0).contains(&hi) {
        return Err(InvalidArgument::new("hi", format!("must be between lo and 1, got {hi}")));
    }
    let u = hash_unit(unit, layer_salt);
    Ok(lo <= u && u < hi)
}
