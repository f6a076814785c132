//! `ab_ttest_agg`, `ab_ztest_agg` and `ab_cuped_agg` as DataFusion aggregates.
//!
//! Each group keeps `ab_core`'s [`TestState`]: one Welford/Chan accumulator per arm plus the
//! first row's alpha and alternative. Partial states travel between partitions as one binary
//! state field (`TestState::to_bytes`, the encoding Postgres' parallel workers use), and
//! `merge_batch` merges them with Chan's formula, so partial and final aggregation give the
//! single-pass answer. A [`GroupsAccumulator`] serves `GROUP BY experiment, variant`.
//!
//! Batches with no NULL (and no alpha, alternative or parameter column, which the first row
//! of each group sets) skip the row-by-row path: ungrouped, each arm's rows in two passes
//! ([`TwoArmTest::of_batch`]); grouped, every group's arms in two passes over the batch
//! together ([`TwoArmTest::of_cells`]). Either way the batch's moments are merged into the
//! running states by Chan's formula, which is what pushing the rows one by one gives.

use crate::args::{invalid, plan_error};
use crate::results::{records_to_struct_array, struct_type};
use ab_core::catalog;
use ab_core::records::ResultRecord;
use ab_core::aggregate::TestState;
use ab_core::compare::{self, Cuped, InteractionTest, RatioCuped, RatioTest, TTest, ZTest};
use ab_core::sequential::{self, AlwaysValid};
use ab_core::error::check_finite;
use ab_core::moments::{CellSums, CellTally, CoMomentMatrix, CoMoments, GroupState, Moments, Proportion, TwoGroups};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature,
};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;

/// An optional argument after the metrics (and the required parameter, if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailing {
    Alpha,
    Alternative,
    /// The test's own parameter (N* of the confidence sequence).
    Parameter,
}

/// What differs between the aggregates: the metric columns, the accumulator, the result.
pub trait TwoArmTest: Debug + Send + Sync + 'static {
    type State: GroupState + Debug + Send + Sync;
    type Output: ResultRecord;
    const NAME: &'static str;
    /// Types of the metric arguments after `is_treatment`.
    const METRIC_TYPES: &'static [DataType];
    /// A required float parameter right after the metrics (the mSPRT's τ²), with its check.
    const REQUIRED_PARAMETER: Option<fn(f64) -> ab_core::Result<f64>> = None;
    /// The optional arguments after that, in order.
    const TRAILING: &'static [Trailing] = &[Trailing::Alpha, Trailing::Alternative];
    /// The check of an optional [`Trailing::Parameter`].
    const PARAMETER_CHECK: fn(f64) -> ab_core::Result<f64> = Ok;
    /// The metric columns of one batch, downcast once.
    type Metrics<'a>;
    fn metrics(columns: &[ArrayRef]) -> Self::Metrics<'_>;
    /// Adds row `row` of the metric columns to `arm`; `Ok(false)` when a metric is NULL.
    fn push(metrics: &Self::Metrics<'_>, row: usize, arm: &mut Self::State) -> Result<bool>;
    /// Both arms' states of a whole batch without NULLs, in a few passes over its columns;
    /// `None` where the test has no such form or a value is not finite (the row-by-row path
    /// then reports it).
    fn of_batch(_is_treatment: &BooleanArray, _metrics: &Self::Metrics<'_>) -> Option<TwoGroups<Self::State>> {
        None
    }
    /// The states of every cell (a group's arm, `2 × group + arm`) of a whole batch without
    /// NULLs, row `i` in `cells[i]`; `None` as for [`TwoArmTest::of_batch`].
    fn of_cells(_cells: &[usize], _cell_count: usize, _metrics: &Self::Metrics<'_>, _scratch: &mut CellScratch) -> Option<Vec<(usize, Self::State)>> {
        None
    }
    fn finish(state: &TestState<Self::State>) -> Option<Self::Output>;
}

#[derive(Debug)]
pub struct TTestAgg;
#[derive(Debug)]
pub struct ZTestAgg;
#[derive(Debug)]
pub struct CupedAgg;
#[derive(Debug)]
pub struct RatioAgg;
#[derive(Debug)]
pub struct RatioCupedAgg;
#[derive(Debug)]
pub struct InteractionAgg;
#[derive(Debug)]
pub struct MsprtAgg;
#[derive(Debug)]
pub struct SeqTTestAgg;

fn finite_at(values: &Float64Array, row: usize, argument: &'static str) -> Result<Option<f64>> {
    if values.is_null(row) {
        return Ok(None);
    }
    check_finite(argument, values.value(row)).map(Some).map_err(|e| invalid("", e))
}

fn push_value(values: &&Float64Array, row: usize, arm: &mut Moments) -> Result<bool> {
    let Some(value) = finite_at(values, row, "value")? else { return Ok(false) };
    arm.push(value);
    Ok(true)
}

fn moments_of_batch(is_treatment: &BooleanArray, values: &Float64Array) -> Option<TwoGroups<Moments>> {
    let groups = TwoGroups::<Moments>::of_batch(is_treatment.values(), values.values());
    (groups.control.is_finite() && groups.treatment.is_finite()).then_some(groups)
}

/// Reusable sums for [`TwoArmTest::of_cells`], one kind per state.
#[derive(Debug, Default)]
pub struct CellScratch {
    moments: CellSums<1>,
    comoments: CellSums<2>,
    proportions: CellTally,
}

/// Cell states, unless a value was not finite or a sum overflowed.
fn all_finite<S>(cells: Vec<(usize, S)>, is_finite: impl Fn(&S) -> bool) -> Option<Vec<(usize, S)>> {
    cells.iter().all(|(_, state)| is_finite(state)).then_some(cells)
}

fn moments_of_cells(cells: &[usize], cell_count: usize, values: &Float64Array, scratch: &mut CellScratch) -> Option<Vec<(usize, Moments)>> {
    all_finite(scratch.moments.moments(cells, values.values(), cell_count), Moments::is_finite)
}

fn comoments_of_cells(cells: &[usize], cell_count: usize, xs: &Float64Array, ys: &Float64Array, scratch: &mut CellScratch) -> Option<Vec<(usize, CoMoments)>> {
    all_finite(scratch.comoments.comoments(cells, xs.values(), ys.values(), cell_count), CoMoments::is_finite)
}

fn comoments_of_batch(is_treatment: &BooleanArray, xs: &Float64Array, ys: &Float64Array) -> Option<TwoGroups<CoMoments>> {
    let groups = TwoGroups::<CoMoments>::of_batch(is_treatment.values(), xs.values(), ys.values());
    (groups.control.is_finite() && groups.treatment.is_finite()).then_some(groups)
}

impl TwoArmTest for TTestAgg {
    type State = Moments;
    type Output = TTest;
    const NAME: &'static str = "ab_ttest_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Float64];
    type Metrics<'a> = &'a Float64Array;
    fn metrics(columns: &[ArrayRef]) -> &Float64Array {
        columns[0].as_primitive::<Float64Type>()
    }
    fn push(values: &&Float64Array, row: usize, arm: &mut Moments) -> Result<bool> {
        push_value(values, row, arm)
    }
    fn of_batch(is_treatment: &BooleanArray, values: &&Float64Array) -> Option<TwoGroups<Moments>> {
        moments_of_batch(is_treatment, values)
    }
    fn of_cells(cells: &[usize], cell_count: usize, values: &&Float64Array, scratch: &mut CellScratch) -> Option<Vec<(usize, Moments)>> {
        moments_of_cells(cells, cell_count, values, scratch)
    }
    fn finish(state: &TestState<Moments>) -> Option<TTest> {
        compare::ttest_of_groups(&state.groups, state.settings_or_default())
    }
}

impl TwoArmTest for ZTestAgg {
    type State = Proportion;
    type Output = ZTest;
    const NAME: &'static str = "ab_ztest_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Boolean];
    type Metrics<'a> = &'a BooleanArray;
    fn metrics(columns: &[ArrayRef]) -> &BooleanArray {
        columns[0].as_boolean()
    }
    fn push(converted: &&BooleanArray, row: usize, arm: &mut Proportion) -> Result<bool> {
        if converted.is_null(row) {
            return Ok(false);
        }
        arm.push(converted.value(row));
        Ok(true)
    }
    /// Counts of set bits, 64 rows a word.
    fn of_batch(is_treatment: &BooleanArray, converted: &&BooleanArray) -> Option<TwoGroups<Proportion>> {
        let (arms, converted) = (is_treatment.values(), converted.values());
        let count = |bits: usize| i64::try_from(bits).ok();
        let (rows, treated) = (count(arms.len())?, count(arms.count_set_bits())?);
        let (successes, treated_successes) = (count(converted.count_set_bits())?, count((arms & converted).count_set_bits())?);
        Some(TwoGroups {
            control: Proportion { trials: rows - treated, successes: successes - treated_successes },
            treatment: Proportion { trials: treated, successes: treated_successes },
        })
    }
    fn of_cells(cells: &[usize], cell_count: usize, converted: &&BooleanArray, scratch: &mut CellScratch) -> Option<Vec<(usize, Proportion)>> {
        Some(scratch.proportions.proportions(cells, converted.values(), cell_count))
    }
    fn finish(state: &TestState<Proportion>) -> Option<ZTest> {
        compare::ztest_of_groups(&state.groups, state.settings_or_default())
    }
}

impl TwoArmTest for CupedAgg {
    type State = CoMoments;
    type Output = Cuped;
    const NAME: &'static str = "ab_cuped_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Float64, DataType::Float64];
    type Metrics<'a> = (&'a Float64Array, &'a Float64Array);
    fn metrics(columns: &[ArrayRef]) -> (&Float64Array, &Float64Array) {
        (columns[0].as_primitive::<Float64Type>(), columns[1].as_primitive::<Float64Type>())
    }
    fn push((values, covariates): &(&Float64Array, &Float64Array), row: usize, arm: &mut CoMoments) -> Result<bool> {
        let Some(value) = finite_at(values, row, "value")? else { return Ok(false) };
        let Some(covariate) = finite_at(covariates, row, "covariate")? else { return Ok(false) };
        arm.push(covariate, value);
        Ok(true)
    }
    fn of_batch(is_treatment: &BooleanArray, (values, covariates): &(&Float64Array, &Float64Array)) -> Option<TwoGroups<CoMoments>> {
        comoments_of_batch(is_treatment, covariates, values)
    }
    fn of_cells(cells: &[usize], cell_count: usize, (values, covariates): &(&Float64Array, &Float64Array), scratch: &mut CellScratch) -> Option<Vec<(usize, CoMoments)>> {
        comoments_of_cells(cells, cell_count, covariates, values, scratch)
    }
    fn finish(state: &TestState<CoMoments>) -> Option<Cuped> {
        compare::cuped_of_groups(&state.groups, state.settings_or_default())
    }
}

impl TwoArmTest for RatioAgg {
    type State = CoMoments;
    type Output = RatioTest;
    const NAME: &'static str = "ab_ratio_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Float64, DataType::Float64];
    type Metrics<'a> = (&'a Float64Array, &'a Float64Array);
    fn metrics(columns: &[ArrayRef]) -> (&Float64Array, &Float64Array) {
        (columns[0].as_primitive::<Float64Type>(), columns[1].as_primitive::<Float64Type>())
    }
    fn push((numerators, denominators): &(&Float64Array, &Float64Array), row: usize, arm: &mut CoMoments) -> Result<bool> {
        let Some(numerator) = finite_at(numerators, row, "numerator")? else { return Ok(false) };
        let Some(denominator) = finite_at(denominators, row, "denominator")? else { return Ok(false) };
        arm.push(denominator, numerator);
        Ok(true)
    }
    fn of_batch(is_treatment: &BooleanArray, (numerators, denominators): &(&Float64Array, &Float64Array)) -> Option<TwoGroups<CoMoments>> {
        comoments_of_batch(is_treatment, denominators, numerators)
    }
    fn of_cells(cells: &[usize], cell_count: usize, (numerators, denominators): &(&Float64Array, &Float64Array), scratch: &mut CellScratch) -> Option<Vec<(usize, CoMoments)>> {
        comoments_of_cells(cells, cell_count, denominators, numerators, scratch)
    }
    fn finish(state: &TestState<CoMoments>) -> Option<RatioTest> {
        compare::ratio_of_groups(&state.groups, state.settings_or_default())
    }
}

impl TwoArmTest for RatioCupedAgg {
    type State = CoMomentMatrix<4>;
    type Output = RatioCuped;
    const NAME: &'static str = "ab_ratio_cuped_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Float64, DataType::Float64, DataType::Float64, DataType::Float64];
    type Metrics<'a> = [&'a Float64Array; 4];
    fn metrics(columns: &[ArrayRef]) -> [&Float64Array; 4] {
        std::array::from_fn(|k| columns[k].as_primitive::<Float64Type>())
    }
    fn push(columns: &[&Float64Array; 4], row: usize, arm: &mut CoMomentMatrix<4>) -> Result<bool> {
        const NAMES: [&str; 4] = ["numerator", "denominator", "pre_numerator", "pre_denominator"];
        let mut values = [0.0; 4];
        for ((value, column), name) in values.iter_mut().zip(columns).zip(NAMES) {
            let Some(read) = finite_at(column, row, name)? else { return Ok(false) };
            *value = read;
        }
        arm.push(values);
        Ok(true)
    }
    fn finish(state: &TestState<CoMomentMatrix<4>>) -> Option<RatioCuped> {
        compare::ratio_cuped_of_groups(&state.groups, state.settings_or_default())
    }
}

/// The first boolean is experiment A's arm (the two "groups"), the second is B's, which
/// splits each of A's arms in two: the four cells of the 2×2.
impl TwoArmTest for InteractionAgg {
    type State = TwoGroups<Moments>;
    type Output = InteractionTest;
    const NAME: &'static str = "ab_interaction_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Boolean, DataType::Float64];
    type Metrics<'a> = (&'a BooleanArray, &'a Float64Array);
    fn metrics(columns: &[ArrayRef]) -> (&BooleanArray, &Float64Array) {
        (columns[0].as_boolean(), columns[1].as_primitive::<Float64Type>())
    }
    fn push((b_arms, values): &(&BooleanArray, &Float64Array), row: usize, cells: &mut TwoGroups<Moments>) -> Result<bool> {
        if b_arms.is_null(row) {
            return Ok(false);
        }
        let Some(value) = finite_at(values, row, "value")? else { return Ok(false) };
        cells.group_mut(b_arms.value(row)).push(value);
        Ok(true)
    }
    fn finish(state: &TestState<TwoGroups<Moments>>) -> Option<InteractionTest> {
        compare::interaction_of_groups(&state.groups, state.settings_or_default())
    }
}

impl TwoArmTest for MsprtAgg {
    type State = Moments;
    type Output = AlwaysValid;
    const NAME: &'static str = "ab_msprt_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Float64];
    const REQUIRED_PARAMETER: Option<fn(f64) -> ab_core::Result<f64>> = Some(sequential::check_tau2);
    const TRAILING: &'static [Trailing] = &[Trailing::Alpha];
    type Metrics<'a> = &'a Float64Array;
    fn metrics(columns: &[ArrayRef]) -> &Float64Array {
        columns[0].as_primitive::<Float64Type>()
    }
    fn push(values: &&Float64Array, row: usize, arm: &mut Moments) -> Result<bool> {
        push_value(values, row, arm)
    }
    fn of_batch(is_treatment: &BooleanArray, values: &&Float64Array) -> Option<TwoGroups<Moments>> {
        moments_of_batch(is_treatment, values)
    }
    fn of_cells(cells: &[usize], cell_count: usize, values: &&Float64Array, scratch: &mut CellScratch) -> Option<Vec<(usize, Moments)>> {
        moments_of_cells(cells, cell_count, values, scratch)
    }
    fn finish(state: &TestState<Moments>) -> Option<AlwaysValid> {
        // tau2 was checked as it arrived, so only an undefined variance gives None.
        sequential::msprt_of_groups(&state.groups, state.parameter?, state.settings_or_default().alpha).ok().flatten()
    }
}

impl TwoArmTest for SeqTTestAgg {
    type State = Moments;
    type Output = AlwaysValid;
    const NAME: &'static str = "ab_seq_ttest_agg";
    const METRIC_TYPES: &'static [DataType] = &[DataType::Float64];
    const TRAILING: &'static [Trailing] = &[Trailing::Alpha, Trailing::Parameter];
    const PARAMETER_CHECK: fn(f64) -> ab_core::Result<f64> = sequential::check_tuning_n;
    type Metrics<'a> = &'a Float64Array;
    fn metrics(columns: &[ArrayRef]) -> &Float64Array {
        columns[0].as_primitive::<Float64Type>()
    }
    fn push(values: &&Float64Array, row: usize, arm: &mut Moments) -> Result<bool> {
        push_value(values, row, arm)
    }
    fn of_batch(is_treatment: &BooleanArray, values: &&Float64Array) -> Option<TwoGroups<Moments>> {
        moments_of_batch(is_treatment, values)
    }
    fn of_cells(cells: &[usize], cell_count: usize, values: &&Float64Array, scratch: &mut CellScratch) -> Option<Vec<(usize, Moments)>> {
        moments_of_cells(cells, cell_count, values, scratch)
    }
    fn finish(state: &TestState<Moments>) -> Option<AlwaysValid> {
        let tuning_n = state.parameter.unwrap_or(sequential::DEFAULT_TUNING_N);
        sequential::seq_ttest_of_groups(&state.groups, state.settings_or_default().alpha, tuning_n).ok().flatten()
    }
}

/// A test parameter's column and the check of its values.
type ParameterColumn<'a> = (&'a ArrayRef, fn(f64) -> ab_core::Result<f64>);

/// The argument columns of one batch, split by role.
struct Rows<'a, T: TwoArmTest> {
    is_treatment: &'a BooleanArray,
    metrics: T::Metrics<'a>,
    alpha: Option<&'a ArrayRef>,
    alternative: Option<&'a ArrayRef>,
    /// The required or optional parameter.
    parameter: Option<ParameterColumn<'a>>,
}

impl<'a, T: TwoArmTest> Rows<'a, T> {
    fn new(values: &'a [ArrayRef]) -> Self {
        let metric_count = T::METRIC_TYPES.len();
        let mut next = 1 + metric_count;
        let mut parameter = T::REQUIRED_PARAMETER.and_then(|check| {
            next += 1;
            values.get(next - 1).map(|column| (column, check))
        });
        let (mut alpha, mut alternative) = (None, None);
        for (role, column) in T::TRAILING.iter().zip(values.iter().skip(next)) {
            match role {
                Trailing::Alpha => alpha = Some(column),
                Trailing::Alternative => alternative = Some(column),
                Trailing::Parameter => parameter = Some((column, T::PARAMETER_CHECK)),
            }
        }
        Self { is_treatment: values[0].as_boolean(), metrics: T::metrics(&values[1..1 + metric_count]), alpha, alternative, parameter }
    }

    /// Adds one row to `state`, or skips it when any argument is NULL.
    fn push(&self, row: usize, state: &mut TestState<T::State>) -> Result<()> {
        let columns = [Some(self.is_treatment as &dyn Array), self.alpha.map(|c| c.as_ref()), self.alternative.map(|c| c.as_ref())];
        let parameter = self.parameter.map(|(column, _)| column.as_ref());
        if columns.into_iter().chain([parameter]).flatten().any(|column| column.is_null(row)) {
            return Ok(());
        }
        if !T::push(&self.metrics, row, state.groups.group_mut(self.is_treatment.value(row)))? {
            return Ok(());
        }
        self.use_settings_of(row, state)
    }

    /// Row `row`'s alpha, alternative and parameter become the group's unless an earlier row's did.
    fn use_settings_of(&self, row: usize, state: &mut TestState<T::State>) -> Result<()> {
        if let Some(alpha) = self.alpha {
            let alternative = self.alternative.map_or("two-sided", |column| column.as_string::<i32>().value(row));
            state.use_settings(alpha.as_primitive::<Float64Type>().value(row), alternative).map_err(|e| invalid(T::NAME, e))?;
        }
        if let Some((column, check)) = self.parameter {
            state.use_parameter(column.as_primitive::<Float64Type>().value(row), check).map_err(|e| invalid(T::NAME, e))?;
        }
        Ok(())
    }

    /// Adds every row of a batch with no NULL in any column at once ([`TwoArmTest::of_batch`]),
    /// which gives what adding them one by one gives; `false` when the batch needs the
    /// row-by-row path.
    fn push_whole_batch(&self, columns: &[ArrayRef], state: &mut TestState<T::State>) -> Result<bool> {
        if has_nulls(columns) {
            return Ok(false);
        }
        let Some(groups) = T::of_batch(self.is_treatment, &self.metrics) else { return Ok(false) };
        if !self.is_treatment.is_empty() {
            state.groups.merge(&groups);
            self.use_settings_of(0, state)?;
        }
        Ok(true)
    }

    /// Adds every row of a batch with no NULL and no settings column to its group's state at
    /// once ([`TwoArmTest::of_cells`]); `false` when the batch needs the row-by-row path.
    fn push_whole_batch_to_groups(&self, columns: &[ArrayRef], group_indices: &[usize], groups: &mut ManyGroups<T>) -> bool {
        let settings = [self.alpha, self.alternative, self.parameter.map(|(column, _)| column)];
        if settings.iter().any(Option::is_some) || has_nulls(columns) {
            return false;
        }
        groups.cells.clear();
        let arms = self.is_treatment.values().iter();
        groups.cells.extend(group_indices.iter().zip(arms).map(|(group, treated)| 2 * group + usize::from(treated)));
        let Some(cells) = T::of_cells(&groups.cells, 2 * groups.states.len(), &self.metrics, &mut groups.scratch) else { return false };
        for (cell, state) in cells {
            groups.states[cell / 2].groups.group_mut(cell % 2 == 1).merge_from(&state);
        }
        true
    }
}

/// Whether any row of the batch has a NULL in some column: such batches take the row-by-row path.
fn has_nulls(columns: &[ArrayRef]) -> bool {
    columns.iter().any(|column| column.logical_null_count() > 0)
}

fn decode<T: TwoArmTest>(bytes: &[u8]) -> Result<TestState<T::State>> {
    TestState::from_bytes(bytes).map_err(|e| DataFusionError::Execution(format!("{}: {e}", T::NAME)))
}

/// The aggregate UDF of one test.
#[derive(Debug)]
pub struct TwoArmAggregate<T> {
    signature: Signature,
    documentation: Documentation,
    test: PhantomData<T>,
}

impl<T: TwoArmTest> TwoArmAggregate<T> {
    pub fn udaf() -> AggregateUDF {
        let declared = catalog::aggregate(T::NAME).unwrap_or_else(|| panic!("{} is not in ab_core's catalog", T::NAME));
        let params = declared.params(declared.required.len() + declared.optional.len());
        let syntax = catalog::reference::call_syntax(T::NAME, &params, Some(declared.required.len()));
        let description = format!("{}; rows with NULLs are skipped.", declared.comment);
        let documentation = crate::scalars::documentation(&description, syntax, &params);
        AggregateUDF::from(Self {
            signature: crate::scalars::signature(declared.arities().map(|arity| declared.params(arity))),
            documentation,
            test: PhantomData,
        })
    }
}

impl<T> PartialEq for TwoArmAggregate<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for TwoArmAggregate<T> {}
impl<T> std::hash::Hash for TwoArmAggregate<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::any::type_name::<T>().hash(state)
    }
}

impl<T: TwoArmTest> AggregateUDFImpl for TwoArmAggregate<T> {
    fn name(&self) -> &str {
        T::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let mut expected = vec![DataType::Boolean];
        expected.extend_from_slice(T::METRIC_TYPES);
        if T::REQUIRED_PARAMETER.is_some() {
            expected.push(DataType::Float64);
        }
        let (required, all) = (expected.len(), expected.len() + T::TRAILING.len());
        if !(required..=all).contains(&arg_types.len()) {
            return Err(plan_error(format!("{} takes {required} to {all} arguments: {}", T::NAME, self.documentation.syntax_example)));
        }
        expected.extend(T::TRAILING.iter().map(|role| match role {
            Trailing::Alternative => DataType::Utf8,
            Trailing::Alpha | Trailing::Parameter => DataType::Float64,
        }));
        expected.truncate(arg_types.len());
        Ok(expected)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(struct_type(<T::Output as ResultRecord>::RECORD))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format_state_name(args.name, "state"), DataType::Binary, true))])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::<T>::default()))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ManyGroups::<T> { states: Vec::new(), cells: Vec::new(), scratch: CellScratch::default() }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// The accumulator of an ungrouped aggregate.
#[derive(Debug)]
struct SingleGroup<T: TwoArmTest> {
    state: TestState<T::State>,
}

impl<T: TwoArmTest> Default for SingleGroup<T> {
    fn default() -> Self {
        Self { state: TestState::default() }
    }
}

impl<T: TwoArmTest> Accumulator for SingleGroup<T> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = Rows::<T>::new(values);
        if rows.push_whole_batch(values, &mut self.state)? {
            return Ok(());
        }
        (0..rows.is_treatment.len()).try_for_each(|row| rows.push(row, &mut self.state))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for bytes in states[0].as_binary::<i32>().iter().flatten() {
            self.state.merge(&decode::<T>(bytes)?);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.state.to_bytes()))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&records_to_struct_array(&[T::finish(&self.state)]), 0)
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

/// The accumulator of a grouped aggregate: one state per group index.
#[derive(Debug)]
struct ManyGroups<T: TwoArmTest> {
    states: Vec<TestState<T::State>>,
    /// Each row's cell in the batch being added, `2 × group + arm`.
    cells: Vec<usize>,
    scratch: CellScratch,
}

impl<T: TwoArmTest> GroupsAccumulator for ManyGroups<T> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups, TestState::default());
        let rows = Rows::<T>::new(values);
        if opt_filter.is_none() && rows.push_whole_batch_to_groups(values, group_indices, self) {
            return Ok(());
        }
        for (row, group) in group_indices.iter().enumerate() {
            if opt_filter.is_none_or(|filter| filter.is_valid(row) && filter.value(row)) {
                rows.push(row, &mut self.states[*group])?;
            }
        }
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups, TestState::default());
        let partials = values[0].as_binary::<i32>();
        for (row, group) in group_indices.iter().enumerate() {
            if partials.is_valid(row) {
                self.states[*group].merge(&decode::<T>(partials.value(row))?);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let results: Vec<_> = emit_to.take_needed(&mut self.states).iter().map(T::finish).collect();
        Ok(records_to_struct_array(&results))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let states = emit_to.take_needed(&mut self.states);
        let bytes: Vec<Vec<u8>> = states.iter().map(TestState::to_bytes).collect();
        Ok(vec![Arc::new(BinaryArray::from_iter_values(bytes))])
    }

    /// Each row as a partial state of its own, for when DataFusion skips partial aggregation.
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let rows = Rows::<T>::new(values);
        let mut bytes = Vec::with_capacity(rows.is_treatment.len());
        for row in 0..rows.is_treatment.len() {
            let mut state = TestState::default();
            if opt_filter.is_none_or(|filter| filter.is_valid(row) && filter.value(row)) {
                rows.push(row, &mut state)?;
            }
            bytes.push(state.to_bytes());
        }
        Ok(vec![Arc::new(BinaryArray::from_iter_values(bytes))])
    }

    fn size(&self) -> usize {
        let scratch = &self.scratch;
        self.states.capacity() * size_of::<TestState<T::State>>()
            + self.cells.capacity() * size_of::<usize>()
            + scratch.moments.allocated_bytes()
            + scratch.comoments.allocated_bytes()
            + scratch.proportions.allocated_bytes()
    }
}
