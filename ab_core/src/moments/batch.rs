//! Batch kernels for engines that see whole columns (DataFusion): a slice's moments in two
//! passes, a batch split by arm, and many groups' cells filled in one pass over a batch. Each
//! gives what pushing the rows one by one gives, and merges into running states by Chan's
//! formula.

use super::{CoMoments, Moments, Proportion, TwoGroups};

impl Moments {
    /// The moments of a whole slice in two passes: the mean of the values minus the first one,
    /// then the squared deviations from it, with the corrected two-pass formula (Chan, Golub
    /// and LeVeque 1983). As exact as [`Moments::push`] value by value, without its division
    /// per value, and [`Moments::merge`] adds the result to a running state.
    pub fn of_slice(values: &[f64]) -> Moments {
        let Some(&shift) = values.first() else { return Moments::default() };
        let count = values.len() as f64;
        let [sum] = lane_sums(values.len(), |i| [values[i] - shift]);
        let shifted_mean = sum / count;
        let [squares, residual] = lane_sums(values.len(), |i| {
            let deviation = (values[i] - shift) - shifted_mean;
            [deviation * deviation, deviation]
        });
        Moments::of_two_passes(values.len() as u64, shift, shifted_mean, squares, residual)
    }

    /// The second pass's sums, `Σd²` and `Σd` of the deviations `d` from the first pass's
    /// mean, as moments: `Σd` is rounding error and corrects `Σd²` for it.
    fn of_two_passes(count: u64, shift: f64, shifted_mean: f64, squares: f64, residual: f64) -> Moments {
        Moments { count, shift, shifted_mean, m2: squares - residual * residual / count as f64 }
    }
}

impl CoMoments {
    /// The co-moments of two whole slices of equal length in two passes, as
    /// [`Moments::of_slice`] does for one.
    pub fn of_slices(xs: &[f64], ys: &[f64]) -> CoMoments {
        assert_eq!(xs.len(), ys.len(), "paired slices");
        let (Some(&shift_x), Some(&shift_y)) = (xs.first(), ys.first()) else { return CoMoments::default() };
        let count = xs.len() as f64;
        let [sum_x, sum_y] = lane_sums(xs.len(), |i| [xs[i] - shift_x, ys[i] - shift_y]);
        let (mean_x, mean_y) = (sum_x / count, sum_y / count);
        let [squares_x, squares_y, products, residual_x, residual_y] = lane_sums(xs.len(), |i| {
            let (dx, dy) = ((xs[i] - shift_x) - mean_x, (ys[i] - shift_y) - mean_y);
            [dx * dx, dy * dy, dx * dy, dx, dy]
        });
        let rows = xs.len() as u64;
        CoMoments {
            x: Moments::of_two_passes(rows, shift_x, mean_x, squares_x, residual_x),
            y: Moments::of_two_passes(rows, shift_y, mean_y, squares_y, residual_y),
            comoment: products - residual_x * residual_y / count,
        }
    }
}

/// Independent partial sums, so that a sum over a slice is not one chain of dependent
/// additions: the processor (and the vectoriser) keeps `LANES` of them in flight.
const LANES: usize = 8;

/// `Σ term(i)` for `i < rows`, each of the `M` sums over `LANES` interleaved partial sums.
fn lane_sums<const M: usize>(rows: usize, term: impl Fn(usize) -> [f64; M]) -> [f64; M] {
    let mut lanes = [[0.0; M]; LANES];
    let whole = rows - rows % LANES;
    for start in (0..whole).step_by(LANES) {
        for (lane, sums) in lanes.iter_mut().enumerate() {
            for (sum, term) in sums.iter_mut().zip(term(start + lane)) {
                *sum += term;
            }
        }
    }
    for (row, sums) in (whole..rows).zip(lanes.iter_mut()) {
        for (sum, term) in sums.iter_mut().zip(term(row)) {
            *sum += term;
        }
    }
    std::array::from_fn(|m| lanes.iter().map(|sums| sums[m]).sum())
}

/// Rows of a batch split by arm, `[control, treatment]`, each arm with its `K` columns.
/// Branch-free: every value is written to both arms and only its own arm's length grows, so
/// randomly interleaved arms cost no mispredicted branches.
pub fn split_by_arm<const K: usize>(is_treatment: impl IntoIterator<Item = bool>, columns: [&[f64]; K]) -> [[Vec<f64>; K]; 2] {
    let rows = columns.first().map_or(0, |column| column.len());
    let mut arms: [[Vec<f64>; K]; 2] = std::array::from_fn(|_| std::array::from_fn(|_| vec![0.0; rows]));
    let mut lengths = [0usize; 2];
    for (row, treated) in is_treatment.into_iter().take(rows).enumerate() {
        for (k, column) in columns.iter().enumerate() {
            arms[0][k][lengths[0]] = column[row];
            arms[1][k][lengths[1]] = column[row];
        }
        lengths[usize::from(treated)] += 1;
    }
    for (arm, length) in arms.iter_mut().zip(lengths) {
        arm.iter_mut().for_each(|column| column.truncate(length));
    }
    arms
}

impl TwoGroups<Moments> {
    /// Both arms' moments of a batch: row `i` of `values` belongs to treatment where the
    /// `i`-th flag is true.
    pub fn of_batch(is_treatment: impl IntoIterator<Item = bool>, values: &[f64]) -> Self {
        let [[control], [treatment]] = split_by_arm(is_treatment, [values]);
        Self { control: Moments::of_slice(&control), treatment: Moments::of_slice(&treatment) }
    }
}

impl TwoGroups<CoMoments> {
    /// Both arms' co-moments of paired columns `xs` and `ys`, split as the moments' `of_batch`.
    pub fn of_batch(is_treatment: impl IntoIterator<Item = bool>, xs: &[f64], ys: &[f64]) -> Self {
        let [[control_x, control_y], [treatment_x, treatment_y]] = split_by_arm(is_treatment, [xs, ys]);
        Self { control: CoMoments::of_slices(&control_x, &control_y), treatment: CoMoments::of_slices(&treatment_x, &treatment_y) }
    }
}

/// One batch's rows added to many accumulators at once, row `i` to cell `cells[i]` (a
/// group's arm, in a grouped aggregate): the two passes of [`Moments::of_slice`] and
/// [`CoMoments::of_slices`], run for every cell together over the batch in place. No division
/// and no call per row. The sums stay allocated from batch to batch; only the cells a batch
/// touched are reset.
#[derive(Debug, Default)]
pub struct CellSums<const K: usize> {
    counts: Vec<u64>,
    shifts: Vec<[f64; K]>,
    /// Sums of the values minus the shift, then (after the first pass) their means.
    means: Vec<[f64; K]>,
    squares: Vec<[f64; K]>,
    residuals: Vec<[f64; K]>,
    /// `Σ d₀d₁` of the deviations, when `K` is 2.
    products: Vec<f64>,
    /// The cells of this batch, in the order first seen.
    touched: Vec<usize>,
}

impl<const K: usize> CellSums<K> {
    /// The two passes over `columns`, each as long as `cells`; every cell `< cell_count`.
    fn add(&mut self, cells: &[usize], columns: [&[f64]; K], cell_count: usize) {
        assert!(columns.iter().all(|column| column.len() == cells.len()), "a value for every row");
        if self.counts.len() < cell_count {
            self.counts.resize(cell_count, 0);
            self.shifts.resize(cell_count, [0.0; K]);
            self.means.resize(cell_count, [0.0; K]);
            self.squares.resize(cell_count, [0.0; K]);
            self.residuals.resize(cell_count, [0.0; K]);
            self.products.resize(cell_count, 0.0);
        }
        for (row, &cell) in cells.iter().enumerate() {
            if self.counts[cell] == 0 {
                self.touched.push(cell);
                self.shifts[cell] = std::array::from_fn(|k| columns[k][row]);
            }
            self.counts[cell] += 1;
            for ((sum, column), shift) in self.means[cell].iter_mut().zip(&columns).zip(self.shifts[cell]) {
                *sum += column[row] - shift;
            }
        }
        for &cell in &self.touched {
            let count = self.counts[cell] as f64;
            self.means[cell].iter_mut().for_each(|sum| *sum /= count);
        }
        for (row, &cell) in cells.iter().enumerate() {
            let deviations: [f64; K] = std::array::from_fn(|k| (columns[k][row] - self.shifts[cell][k]) - self.means[cell][k]);
            for (k, deviation) in deviations.iter().enumerate() {
                self.squares[cell][k] += deviation * deviation;
                self.residuals[cell][k] += deviation;
            }
            if K == 2 {
                self.products[cell] += deviations[0] * deviations[K - 1];
            }
        }
    }

    /// Bytes held between batches.
    pub fn allocated_bytes(&self) -> usize {
        let cell = size_of::<u64>() + 4 * size_of::<[f64; K]>() + size_of::<f64>();
        self.counts.capacity() * cell + self.touched.capacity() * size_of::<usize>()
    }

    /// Every touched cell's moments (and, when `K` is 2, the co-moment), first seen first; its
    /// sums are reset.
    fn drain(&mut self) -> Vec<(usize, [Moments; K], f64)> {
        let drained = self
            .touched
            .iter()
            .map(|&cell| {
                let moments = std::array::from_fn(|k| {
                    Moments::of_two_passes(self.counts[cell], self.shifts[cell][k], self.means[cell][k], self.squares[cell][k], self.residuals[cell][k])
                });
                let residuals = self.residuals[cell];
                let comoment = if K == 2 { self.products[cell] - residuals[0] * residuals[K - 1] / self.counts[cell] as f64 } else { 0.0 };
                (cell, moments, comoment)
            })
            .collect();
        for cell in self.touched.drain(..) {
            self.counts[cell] = 0;
            self.means[cell] = [0.0; K];
            self.squares[cell] = [0.0; K];
            self.residuals[cell] = [0.0; K];
            self.products[cell] = 0.0;
        }
        drained
    }
}

impl CellSums<1> {
    /// The moments of `values` in each cell a row of the batch falls in.
    pub fn moments(&mut self, cells: &[usize], values: &[f64], cell_count: usize) -> Vec<(usize, Moments)> {
        self.add(cells, [values], cell_count);
        self.drain().into_iter().map(|(cell, [moments], _)| (cell, moments)).collect()
    }
}

impl CellSums<2> {
    /// The co-moments of paired `xs` and `ys` in each cell a row of the batch falls in.
    pub fn comoments(&mut self, cells: &[usize], xs: &[f64], ys: &[f64], cell_count: usize) -> Vec<(usize, CoMoments)> {
        self.add(cells, [xs, ys], cell_count);
        self.drain().into_iter().map(|(cell, [x, y], comoment)| (cell, CoMoments { x, y, comoment })).collect()
    }
}

/// Trials and successes per cell over a batch, row `i` to cell `cells[i]` as in
/// [`CellSums`]. The tally stays allocated from batch to batch; only the cells a batch
/// touched are reset.
#[derive(Debug, Default)]
pub struct CellTally {
    tally: Vec<Proportion>,
    /// The cells of this batch, in the order first seen.
    touched: Vec<usize>,
}

impl CellTally {
    /// Trials and successes of each cell a row of the batch falls in, first seen first; every
    /// cell `< cell_count`.
    pub fn proportions(&mut self, cells: &[usize], successes: impl IntoIterator<Item = bool>, cell_count: usize) -> Vec<(usize, Proportion)> {
        if self.tally.len() < cell_count {
            self.tally.resize(cell_count, Proportion::default());
        }
        for (&cell, success) in cells.iter().zip(successes) {
            if self.tally[cell].trials == 0 {
                self.touched.push(cell);
            }
            self.tally[cell].push(success);
        }
        self.touched.drain(..).map(|cell| (cell, std::mem::take(&mut self.tally[cell]))).collect()
    }

    /// Bytes held between batches.
    pub fn allocated_bytes(&self) -> usize {
        self.tally.capacity() * size_of::<Proportion>() + self.touched.capacity() * size_of::<usize>()
    }
}
