//! The byte form of the accumulators. It crosses process boundaries: Postgres' parallel workers
//! and Ballista's shuffles between executors, which may run different builds during a rolling
//! upgrade. Fields are little-endian and written in one fixed order by [`Writer`], read back by
//! [`Reader`]; an aggregate's whole state starts with its format version
//! (`crate::aggregate::STATE_FORMAT`), so a build refuses a layout it does not know instead of
//! misreading it.

use super::{CoMomentMatrix, CoMoments, GroupState, Moments, Proportion, TwoGroups};

/// Appends fields to a byte buffer.
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { bytes: Vec::with_capacity(capacity) }
    }

    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn i64(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn f64(&mut self, value: f64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads the fields a [`Writer`] wrote, in the same order; `None` past the end.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[byte]| byte)
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }

    pub fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_le_bytes)
    }

    pub fn f64(&mut self) -> Option<f64> {
        self.take().map(f64::from_le_bytes)
    }

    /// `Some(())` when every byte was read: trailing bytes mean another layout.
    pub fn finish(self) -> Option<()> {
        self.bytes.is_empty().then_some(())
    }
}

impl GroupState for Moments {
    const ENCODED_LEN: usize = 32;

    fn merge_from(&mut self, other: &Self) {
        self.merge(other)
    }

    fn encode(&self, out: &mut Writer) {
        out.u64(self.count);
        out.f64(self.shift);
        out.f64(self.shifted_mean);
        out.f64(self.m2);
    }

    fn decode(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self { count: input.u64()?, shift: input.f64()?, shifted_mean: input.f64()?, m2: input.f64()? })
    }
}

impl GroupState for CoMoments {
    const ENCODED_LEN: usize = 2 * Moments::ENCODED_LEN + 8;

    fn merge_from(&mut self, other: &Self) {
        self.merge(other)
    }

    fn encode(&self, out: &mut Writer) {
        self.x.encode(out);
        self.y.encode(out);
        out.f64(self.comoment);
    }

    fn decode(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self { x: Moments::decode(input)?, y: Moments::decode(input)?, comoment: input.f64()? })
    }
}

impl GroupState for Proportion {
    const ENCODED_LEN: usize = 16;

    fn merge_from(&mut self, other: &Self) {
        self.merge(other)
    }

    fn encode(&self, out: &mut Writer) {
        out.i64(self.trials);
        out.i64(self.successes);
    }

    fn decode(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self { trials: input.i64()?, successes: input.i64()? })
    }
}

/// The marginals, then the whole symmetric matrix row by row.
impl<const K: usize> GroupState for CoMomentMatrix<K> {
    const ENCODED_LEN: usize = K * Moments::ENCODED_LEN + K * K * 8;

    fn merge_from(&mut self, other: &Self) {
        self.merge(other)
    }

    fn encode(&self, out: &mut Writer) {
        self.marginals.iter().for_each(|marginal| marginal.encode(out));
        self.comoments.iter().flatten().for_each(|value| out.f64(*value));
    }

    fn decode(input: &mut Reader<'_>) -> Option<Self> {
        let mut decoded = Self::default();
        for marginal in &mut decoded.marginals {
            *marginal = Moments::decode(input)?;
        }
        for value in decoded.comoments.iter_mut().flatten() {
            *value = input.f64()?;
        }
        Some(decoded)
    }
}

/// Control, then treatment. Two arms of a second experiment inside each arm of a first make
/// the 2×2 cells of an interaction test, a `TwoGroups<TwoGroups<Moments>>`.
impl<S: GroupState> GroupState for TwoGroups<S> {
    const ENCODED_LEN: usize = 2 * S::ENCODED_LEN;

    fn merge_from(&mut self, other: &Self) {
        self.merge(other)
    }

    fn encode(&self, out: &mut Writer) {
        self.control.encode(out);
        self.treatment.encode(out);
    }

    fn decode(input: &mut Reader<'_>) -> Option<Self> {
        Some(Self { control: S::decode(input)?, treatment: S::decode(input)? })
    }
}
