//! Mergeable, numerically stable accumulators: the state of every pg_ab aggregate.
//!
//! [`Moments`] keeps `(count, shift, mean, M2)` where `mean` and `M2` are of the values minus
//! `shift` (the first value seen). Welford's update runs on those small deviations and Chan's
//! formula merges partial states, so data offset by 1e9 keeps every digit that data centred
//! on zero would. Raw sums of squares never appear.

/// Count, mean and sum of squared deviations of a stream of values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    count: u64,
    shift: f64,
    shifted_mean: f64,
    m2: f64,
}

impl Moments {
    /// Bytes of [`Moments::to_bytes`].
    pub const ENCODED_LEN: usize = 32;

    pub fn push(&mut self, value: f64) {
        if self.count == 0 {
            self.shift = value;
        }
        self.count += 1;
        let delta = self.deviation(value);
        self.shifted_mean += delta / self.count as f64;
        self.m2 += delta * self.deviation(value);
    }

    /// `value` minus the current mean, computed without the shift's magnitude.
    fn deviation(&self, value: f64) -> f64 {
        (value - self.shift) - self.shifted_mean
    }

    /// Chan et al.'s parallel merge.
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let delta = Moments::mean_difference(self, other);
        let count = self.count + other.count;
        let other_share = other.count as f64 / count as f64;
        self.shifted_mean += delta * other_share;
        self.m2 += other.m2 + delta * delta * self.count as f64 * other_share;
        self.count = count;
    }

    /// `mean(b) − mean(a)`, exact to the precision of the deviations rather than of the means:
    /// two means near 1e9 differ by 0.01 with all their digits.
    pub fn mean_difference(a: &Moments, b: &Moments) -> f64 {
        (b.shift - a.shift) + (b.shifted_mean - a.shifted_mean)
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean; NaN-free only when `count > 0`, so callers check the count first.
    pub fn mean(&self) -> f64 {
        self.shift + self.shifted_mean
    }

    /// Sum of squared deviations from the mean.
    pub fn m2(&self) -> f64 {
        self.m2
    }

    /// The sample variance (ddof = 1); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.count >= 2).then(|| self.m2 / (self.count - 1) as f64)
    }

    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut bytes = [0u8; Self::ENCODED_LEN];
        bytes[0..8].copy_from_slice(&self.count.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.shift.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.shifted_mean.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.m2.to_le_bytes());
        bytes
    }

    /// Decodes [`Moments::to_bytes`]; `None` for input of the wrong length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let word = |i: usize| -> Option<[u8; 8]> { bytes.get(i * 8..i * 8 + 8)?.try_into().ok() };
        if bytes.len() != Self::ENCODED_LEN {
            return None;
        }
        Some(Self {
            count: u64::from_le_bytes(word(0)?),
            shift: f64::from_le_bytes(word(1)?),
            shifted_mean: f64::from_le_bytes(word(2)?),
            m2: f64::from_le_bytes(word(3)?),
        })
    }
}

/// Moments of two paired variables plus their co-moment `Σ(x − x̄)(y − ȳ)`: CUPED's state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CoMoments {
    pub x: Moments,
    pub y: Moments,
    comoment: f64,
}

impl CoMoments {
    pub const ENCODED_LEN: usize = 2 * Moments::ENCODED_LEN + 8;

    pub fn push(&mut self, x: f64, y: f64) {
        let dx = self.x.deviation(x);
        self.x.push(x);
        self.y.push(y);
        self.comoment += dx * self.y.deviation(y);
    }

    pub fn merge(&mut self, other: &CoMoments) {
        if other.x.count == 0 {
            return;
        }
        if self.x.count == 0 {
            *self = *other;
            return;
        }
        let dx = Moments::mean_difference(&self.x, &other.x);
        let dy = Moments::mean_difference(&self.y, &other.y);
        let count = (self.x.count + other.x.count) as f64;
        self.comoment += other.comoment + dx * dy * self.x.count as f64 * other.x.count as f64 / count;
        self.x.merge(&other.x);
        self.y.merge(&other.y);
    }

    /// `Σ(x − x̄)(y − ȳ)`.
    pub fn comoment(&self) -> f64 {
        self.comoment
    }

    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut bytes = [0u8; Self::ENCODED_LEN];
        bytes[..32].copy_from_slice(&self.x.to_bytes());
        bytes[32..64].copy_from_slice(&self.y.to_bytes());
        bytes[64..].copy_from_slice(&self.comoment.to_le_bytes());
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::ENCODED_LEN {
            return None;
        }
        Some(Self {
            x: Moments::from_bytes(&bytes[..32])?,
            y: Moments::from_bytes(&bytes[32..64])?,
            comoment: f64::from_le_bytes(bytes[64..].try_into().ok()?),
        })
    }
}

/// Trials and successes: the state of a proportion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proportion {
    pub trials: i64,
    pub successes: i64,
}

impl Proportion {
    pub const ENCODED_LEN: usize = 16;

    pub fn push(&mut self, success: bool) {
        self.trials += 1;
        self.successes += i64::from(success);
    }

    pub fn merge(&mut self, other: &Proportion) {
        self.trials += other.trials;
        self.successes += other.successes;
    }

    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut bytes = [0u8; Self::ENCODED_LEN];
        bytes[..8].copy_from_slice(&self.trials.to_le_bytes());
        bytes[8..].copy_from_slice(&self.successes.to_le_bytes());
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::ENCODED_LEN {
            return None;
        }
        Some(Self {
            trials: i64::from_le_bytes(bytes[..8].try_into().ok()?),
            successes: i64::from_le_bytes(bytes[8..].try_into().ok()?),
        })
    }
}

/// Moments of K paired variables and every pairwise co-moment `Σ(xᵢ − x̄ᵢ)(xⱼ − x̄ⱼ)`: the
/// state of a ratio metric adjusted by a pre-period ratio (numerator, denominator and their
/// pre-period counterparts). Each variable keeps its own shifted [`Moments`], so offsets of
/// 1e9 cost no digits here either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoMomentMatrix<const K: usize> {
    pub marginals: [Moments; K],
    /// Symmetric; the diagonal is unused (each marginal's M2).
    comoments: [[f64; K]; K],
}

impl<const K: usize> Default for CoMomentMatrix<K> {
    fn default() -> Self {
        Self { marginals: [Moments::default(); K], comoments: [[0.0; K]; K] }
    }
}

impl<const K: usize> CoMomentMatrix<K> {
    pub const ENCODED_LEN: usize = K * Moments::ENCODED_LEN + K * K * 8;

    // (i, j) and (j, i) of the symmetric matrix are written together, so ranges read best.
    #[allow(clippy::needless_range_loop)]
    pub fn push(&mut self, values: [f64; K]) {
        let before: [f64; K] = std::array::from_fn(|i| self.marginals[i].deviation(values[i]));
        for (marginal, value) in self.marginals.iter_mut().zip(values) {
            marginal.push(value);
        }
        let after: [f64; K] = std::array::from_fn(|j| self.marginals[j].deviation(values[j]));
        for i in 0..K {
            for j in i + 1..K {
                let added = before[i] * after[j];
                self.comoments[i][j] += added;
                self.comoments[j][i] += added;
            }
        }
    }

    pub fn merge(&mut self, other: &Self) {
        if other.count() == 0 {
            return;
        }
        if self.count() == 0 {
            *self = *other;
            return;
        }
        let deltas: [f64; K] = std::array::from_fn(|i| Moments::mean_difference(&self.marginals[i], &other.marginals[i]));
        let weight = self.count() as f64 * other.count() as f64 / (self.count() + other.count()) as f64;
        for i in 0..K {
            for j in 0..K {
                if i != j {
                    self.comoments[i][j] += other.comoments[i][j] + deltas[i] * deltas[j] * weight;
                }
            }
        }
        for (marginal, other) in self.marginals.iter_mut().zip(&other.marginals) {
            marginal.merge(other);
        }
    }

    pub fn count(&self) -> u64 {
        self.marginals[0].count()
    }

    /// The sample covariance (ddof = 1) of variables i and j; `None` below two rows.
    pub fn covariance(&self, i: usize, j: usize) -> Option<f64> {
        let count = self.count();
        (count >= 2).then(|| if i == j { self.marginals[i].m2() } else { self.comoments[i][j] } / (count - 1) as f64)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; Self::ENCODED_LEN];
        let (marginals, comoments) = bytes.split_at_mut(K * Moments::ENCODED_LEN);
        for (chunk, marginal) in marginals.chunks_exact_mut(Moments::ENCODED_LEN).zip(&self.marginals) {
            chunk.copy_from_slice(&marginal.to_bytes());
        }
        for (chunk, value) in comoments.chunks_exact_mut(8).zip(self.comoments.iter().flatten()) {
            chunk.copy_from_slice(&value.to_le_bytes());
        }
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::ENCODED_LEN {
            return None;
        }
        let (marginals, comoments) = bytes.split_at(K * Moments::ENCODED_LEN);
        let mut decoded = Self::default();
        for (marginal, chunk) in decoded.marginals.iter_mut().zip(marginals.chunks_exact(Moments::ENCODED_LEN)) {
            *marginal = Moments::from_bytes(chunk)?;
        }
        for (value, chunk) in decoded.comoments.iter_mut().flatten().zip(comoments.chunks_exact(8)) {
            *value = f64::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(decoded)
    }
}

/// Any per-group accumulator that merges and encodes to a fixed number of bytes.
pub trait GroupState: Copy + Default {
    const ENCODED_LEN: usize;
    fn merge_from(&mut self, other: &Self);
    fn encode_into(&self, out: &mut [u8]);
    fn decode(bytes: &[u8]) -> Option<Self>;
}

macro_rules! group_state {
    ($state:ty) => {
        impl GroupState for $state {
            const ENCODED_LEN: usize = <$state>::ENCODED_LEN;
            fn merge_from(&mut self, other: &Self) {
                self.merge(other)
            }
            fn encode_into(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_bytes())
            }
            fn decode(bytes: &[u8]) -> Option<Self> {
                Self::from_bytes(bytes)
            }
        }
    };
}
group_state!(Moments);
group_state!(CoMoments);
group_state!(Proportion);
group_state!(CoMomentMatrix<4>);

/// Two arms of a second experiment inside each arm of a first: the 2×2 cells of an
/// interaction test are a `TwoGroups<TwoGroups<Moments>>`.
impl<S: GroupState> GroupState for TwoGroups<S> {
    const ENCODED_LEN: usize = 2 * S::ENCODED_LEN;
    fn merge_from(&mut self, other: &Self) {
        self.merge(other)
    }
    fn encode_into(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_bytes())
    }
    fn decode(bytes: &[u8]) -> Option<Self> {
        Self::from_bytes(bytes)
    }
}

/// One accumulator per arm of an experiment: control and treatment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TwoGroups<S> {
    pub control: S,
    pub treatment: S,
}

impl<S: GroupState> TwoGroups<S> {
    pub fn group_mut(&mut self, is_treatment: bool) -> &mut S {
        if is_treatment { &mut self.treatment } else { &mut self.control }
    }

    pub fn merge(&mut self, other: &Self) {
        self.control.merge_from(&other.control);
        self.treatment.merge_from(&other.treatment);
    }

    /// Control's bytes, then treatment's.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; 2 * S::ENCODED_LEN];
        self.control.encode_into(&mut bytes[..S::ENCODED_LEN]);
        self.treatment.encode_into(&mut bytes[S::ENCODED_LEN..]);
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 2 * S::ENCODED_LEN {
            return None;
        }
        Some(Self {
            control: S::decode(&bytes[..S::ENCODED_LEN])?,
            treatment: S::decode(&bytes[S::ENCODED_LEN..])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments_of(values: &[f64]) -> Moments {
        let mut moments = Moments::default();
        values.iter().for_each(|v| moments.push(*v));
        moments
    }

    #[test]
    fn merged_partial_states_equal_one_pass() {
        let values: Vec<f64> = (0..1000).map(|i| 1e9 + ((i * 7919) % 1013) as f64 / 8.0).collect();
        let whole = moments_of(&values);
        for split in [1, 10, 500, 999] {
            let mut left = moments_of(&values[..split]);
            left.merge(&moments_of(&values[split..]));
            assert_eq!(left.count(), whole.count());
            let relative = |a: f64, b: f64| ((a - b) / b).abs();
            assert!(relative(left.mean(), whole.mean()) < 1e-15, "split {split}");
            assert!(relative(left.m2(), whole.m2()) < 1e-12, "split {split}");
        }
    }

    #[test]
    fn empty_states_merge_as_identity() {
        let filled = moments_of(&[1.0, 2.0, 4.0]);
        let mut empty = Moments::default();
        empty.merge(&filled);
        assert_eq!(empty, filled);
        let mut same = filled;
        same.merge(&Moments::default());
        assert_eq!(same, filled);
    }

    /// Four variables offset by 1e9: streaming, merged and decoded states all give the
    /// two-pass covariance matrix.
    #[test]
    fn comoment_matrix_matches_two_pass_covariances_after_merge_and_bytes() {
        let rows: Vec<[f64; 4]> = (0..300)
            .map(|i| {
                let t = i as f64;
                [1e9 + t.sin(), 2.0 + t.cos(), 1e9 + (t * 0.7).sin() + t.sin() * 0.5, (t * 1.3).cos()]
            })
            .collect();
        let mut left = CoMomentMatrix::<4>::default();
        let mut right = CoMomentMatrix::<4>::default();
        rows[..120].iter().for_each(|r| left.push(*r));
        rows[120..].iter().for_each(|r| right.push(*r));
        left.merge(&right);
        let decoded = CoMomentMatrix::<4>::from_bytes(&left.to_bytes()).expect("decodes");
        assert_eq!(decoded, left);
        let n = rows.len() as f64;
        let offsets = [1e9, 0.0, 1e9, 0.0];
        let mean = |k: usize| rows.iter().map(|r| r[k] - offsets[k]).sum::<f64>() / n;
        for i in 0..4 {
            for j in 0..4 {
                let centred = |r: &[f64; 4], k: usize| r[k] - offsets[k] - mean(k);
                let two_pass = rows.iter().map(|r| centred(r, i) * centred(r, j)).sum::<f64>() / (n - 1.0);
                let streamed = decoded.covariance(i, j).expect("two rows or more");
                assert!((streamed - two_pass).abs() <= 1e-9 * two_pass.abs().max(1e-3), "({i}, {j}): {streamed} vs {two_pass}");
            }
        }
    }

    #[test]
    fn comoments_match_two_pass_covariance() {
        let xs: Vec<f64> = (0..200).map(|i| (i as f64).sin() * 3.0 + 1e9).collect();
        let ys: Vec<f64> = xs.iter().enumerate().map(|(i, x)| 2.0 * (x - 1e9) + (i as f64).cos()).collect();
        let mut whole = CoMoments::default();
        xs.iter().zip(&ys).for_each(|(x, y)| whole.push(*x, *y));
        let mut left = CoMoments::default();
        let mut right = CoMoments::default();
        xs[..77].iter().zip(&ys[..77]).for_each(|(x, y)| left.push(*x, *y));
        xs[77..].iter().zip(&ys[77..]).for_each(|(x, y)| right.push(*x, *y));
        left.merge(&right);
        // Two-pass reference on the de-offset x, which is exact.
        let n = xs.len() as f64;
        let mx = xs.iter().map(|x| x - 1e9).sum::<f64>() / n;
        let my = ys.iter().sum::<f64>() / n;
        let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - 1e9 - mx) * (y - my)).sum();
        for state in [whole, left] {
            assert!(((state.comoment() - cov) / cov).abs() < 1e-12);
        }
    }

    #[test]
    fn bytes_round_trip_and_reject_wrong_length() {
        let mut groups = TwoGroups::<CoMoments>::default();
        groups.group_mut(true).push(1.0, 2.0);
        groups.group_mut(false).push(3.0, 5.0);
        groups.group_mut(false).push(4.0, 7.0);
        let bytes = groups.to_bytes();
        assert_eq!(TwoGroups::<CoMoments>::from_bytes(&bytes), Some(groups));
        assert_eq!(TwoGroups::<CoMoments>::from_bytes(&bytes[1..]), None);
        assert_eq!(Moments::from_bytes(&[0u8; 31]), None);
    }
}
