//! Mergeable, numerically stable accumulators: the state of every pg_ab aggregate.
//!
//! [`Moments`] keeps `(count, shift, mean, M2)` where `mean` and `M2` are of the values minus
//! `shift` (the first value seen). Welford's update runs on those small deviations and Chan's
//! formula merges partial states, so data offset by 1e9 keeps every digit that data centred
//! on zero would. Raw sums of squares never appear.
//!
//! The accumulators are here; [`batch`] has the kernels for whole columns (DataFusion) and
//! [`codec`] the byte form that crosses processes.

mod batch;
pub mod codec;

pub use batch::{split_by_arm, CellSums, CellTally};
use codec::{Reader, Writer};

/// Count, mean and sum of squared deviations of a stream of values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    count: u64,
    shift: f64,
    shifted_mean: f64,
    m2: f64,
}

impl Moments {
    pub fn push(&mut self, value: f64) {
        if self.count == 0 {
            self.shift = value;
        }
        self.count += 1;
        let delta = self.deviation(value);
        self.shifted_mean += delta / self.count as f64;
        self.m2 += delta * self.deviation(value);
    }

    /// False when a value was infinite or NaN, or a sum overflowed.
    pub fn is_finite(&self) -> bool {
        self.shift.is_finite() && self.shifted_mean.is_finite() && self.m2.is_finite()
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

}

/// Moments of two paired variables plus their co-moment `Σ(x − x̄)(y − ȳ)`: CUPED's state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CoMoments {
    pub x: Moments,
    pub y: Moments,
    comoment: f64,
}

impl CoMoments {
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

    pub fn is_finite(&self) -> bool {
        self.x.is_finite() && self.y.is_finite() && self.comoment.is_finite()
    }

    /// `Σ(x − x̄)(y − ȳ)`.
    pub fn comoment(&self) -> f64 {
        self.comoment
    }

}

/// Trials and successes: the state of a proportion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proportion {
    pub trials: i64,
    pub successes: i64,
}

impl Proportion {
    pub fn push(&mut self, success: bool) {
        self.trials += 1;
        self.successes += i64::from(success);
    }

    pub fn merge(&mut self, other: &Proportion) {
        self.trials += other.trials;
        self.successes += other.successes;
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

}

/// Any per-group accumulator: it merges, and encodes to a fixed number of bytes ([`codec`]).
pub trait GroupState: Copy + Default {
    const ENCODED_LEN: usize;
    fn merge_from(&mut self, other: &Self);
    fn encode(&self, out: &mut Writer);
    fn decode(input: &mut Reader<'_>) -> Option<Self>;

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Writer::with_capacity(Self::ENCODED_LEN);
        self.encode(&mut out);
        out.into_bytes()
    }

    /// Decodes [`GroupState::to_bytes`]; `None` for bytes of another length or layout.
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut input = Reader::new(bytes);
        let decoded = Self::decode(&mut input)?;
        input.finish().map(|()| decoded)
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

    fn relative(a: f64, b: f64) -> f64 {
        if a == b { 0.0 } else { ((a - b) / b).abs() }
    }

    /// Values offset by 1e9 with a spread of about 1: the case that loses digits first.
    fn offset_values(n: usize) -> Vec<f64> {
        (0..n).map(|i| 1e9 + ((i * 7919) % 1013) as f64 / 8.0 + (i as f64).sin()).collect()
    }

    #[test]
    fn slice_moments_equal_value_by_value_moments_and_merge_like_them() {
        let values = offset_values(10_007);
        let streamed = moments_of(&values);
        let mut merged = moments_of(&values[..3]);
        for chunk in values[3..].chunks(4096) {
            merged.merge(&Moments::of_slice(chunk));
        }
        for sliced in [Moments::of_slice(&values), merged] {
            assert_eq!(sliced.count(), streamed.count());
            assert!(relative(sliced.mean(), streamed.mean()) < 1e-15);
            assert!(relative(sliced.m2(), streamed.m2()) < 1e-11, "{} vs {}", sliced.m2(), streamed.m2());
        }
        assert_eq!(Moments::of_slice(&[]), Moments::default());
        assert_eq!(Moments::of_slice(&[5.0]).variance(), None);
        assert!(!Moments::of_slice(&[1.0, f64::NAN]).is_finite());
        assert!(!Moments::of_slice(&[1.0, f64::INFINITY]).is_finite());
    }

    #[test]
    fn batches_split_by_arm_equal_rows_pushed_to_their_arm() {
        let xs = offset_values(5_003);
        let ys: Vec<f64> = xs.iter().enumerate().map(|(i, x)| 0.5 * (x - 1e9) + (i as f64).cos()).collect();
        let arms: Vec<bool> = (0..xs.len()).map(|i| (i * 2_654_435_761) % 7 < 3).collect();
        let mut pushed = TwoGroups::<CoMoments>::default();
        let mut pushed_y = TwoGroups::<Moments>::default();
        for ((x, y), treated) in xs.iter().zip(&ys).zip(&arms) {
            pushed.group_mut(*treated).push(*x, *y);
            pushed_y.group_mut(*treated).push(*y);
        }
        let batch = TwoGroups::<CoMoments>::of_batch(arms.iter().copied(), &xs, &ys);
        let batch_y = TwoGroups::<Moments>::of_batch(arms.iter().copied(), &ys);
        for (batch, pushed) in [(batch.control, pushed.control), (batch.treatment, pushed.treatment)] {
            assert_eq!(batch.x.count(), pushed.x.count());
            assert!(relative(batch.x.mean(), pushed.x.mean()) < 1e-15);
            assert!(relative(batch.x.m2(), pushed.x.m2()) < 1e-11);
            assert!(relative(batch.y.m2(), pushed.y.m2()) < 1e-11);
            assert!(relative(batch.comoment(), pushed.comoment()) < 1e-11);
        }
        for (batch, pushed) in [(batch_y.control, pushed_y.control), (batch_y.treatment, pushed_y.treatment)] {
            assert_eq!(batch.count(), pushed.count());
            assert!(relative(batch.mean(), pushed.mean()) < 1e-14);
            assert!(relative(batch.m2(), pushed.m2()) < 1e-11);
        }
        let [[control], [treatment]] = split_by_arm([true, false, true], [&[1.0, 2.0, 3.0][..]]);
        assert_eq!((control, treatment), (vec![2.0], vec![1.0, 3.0]));
    }

    /// Rows spread over cells as a grouped aggregate spreads them, over two batches whose cells
    /// overlap: each cell's sums equal its rows pushed one by one, so the reset between batches
    /// leaves nothing behind.
    #[test]
    fn cell_sums_equal_rows_pushed_to_their_cell() {
        let xs = offset_values(6_007);
        let ys: Vec<f64> = xs.iter().enumerate().map(|(i, x)| 0.25 * (x - 1e9) + (i as f64 * 0.3).cos()).collect();
        let cells: Vec<usize> = (0..xs.len()).map(|i| (i * 2_654_435_761) % 13 % 7).collect();
        let (mut one, mut two) = (CellSums::<1>::default(), CellSums::<2>::default());
        let mut summed = [CoMoments::default(); 7];
        let mut pushed = [CoMoments::default(); 7];
        for batch in [0..2_500, 2_500..xs.len()] {
            let (cells, xs, ys) = (&cells[batch.clone()], &xs[batch.clone()], &ys[batch]);
            let moments = one.moments(cells, ys, 7);
            let comoments = two.comoments(cells, xs, ys, 7);
            assert_eq!(moments.len(), comoments.len());
            for ((cell, y), (same_cell, batch)) in moments.into_iter().zip(comoments) {
                assert_eq!((cell, y), (same_cell, batch.y));
                summed[cell].merge(&batch);
            }
            cells.iter().zip(xs.iter().zip(ys)).for_each(|(&cell, (x, y))| pushed[cell].push(*x, *y));
        }
        for (summed, pushed) in summed.iter().zip(&pushed) {
            assert_eq!(summed.x.count(), pushed.x.count());
            assert!(relative(summed.x.mean(), pushed.x.mean()) < 1e-15);
            assert!(relative(summed.x.m2(), pushed.x.m2()) < 1e-11);
            assert!(relative(summed.y.m2(), pushed.y.m2()) < 1e-11);
            assert!(relative(summed.comoment(), pushed.comoment()) < 1e-11);
        }
        assert_eq!(one.moments(&[], &[], 7), vec![]);
    }

    #[test]
    fn cell_tally_counts_each_cell_and_starts_the_next_batch_from_zero() {
        let mut tally = CellTally::default();
        let counted = tally.proportions(&[2, 0, 2, 2], [true, true, false, true], 3);
        assert_eq!(counted, vec![(2, Proportion { trials: 3, successes: 2 }), (0, Proportion { trials: 1, successes: 1 })]);
        let next = tally.proportions(&[1, 2], [false, true], 3);
        assert_eq!(next, vec![(1, Proportion { trials: 1, successes: 0 }), (2, Proportion { trials: 1, successes: 1 })]);
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
