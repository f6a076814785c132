//! `ab_core`'s result records as Arrow structs, with the field names of the Postgres
//! composite types (SPEC §3): `ab_ztest_result`, `ab_ttest_result`, `ab_cuped_result`,
//! `ab_srm_result`.

use ab_core::compare::{Cuped, TTest, ZTest};
use ab_core::srm::Srm;
use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use std::sync::Arc;

/// One field value of a result record.
#[derive(Clone, Copy)]
pub enum Cell {
    Float(Option<f64>),
    Bool(Option<bool>),
    Int(Option<i32>),
}

/// A result record that becomes one row of an Arrow struct.
pub trait Record {
    /// Field names and types, in the order of the SQL composite type.
    const FIELDS: &'static [(&'static str, Kind)];
    fn cells(&self) -> Vec<Cell>;

    fn data_type() -> DataType {
        DataType::Struct(fields(Self::FIELDS))
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    Float,
    Bool,
    Int,
}

fn fields(spec: &[(&str, Kind)]) -> Fields {
    spec.iter()
        .map(|(name, kind)| {
            let data_type = match kind {
                Kind::Float => DataType::Float64,
                Kind::Bool => DataType::Boolean,
                Kind::Int => DataType::Int32,
            };
            Field::new(*name, data_type, true)
        })
        .collect()
}

/// Records (None is a NULL struct) as one struct column.
pub fn to_struct_array<R: Record>(records: &[Option<R>]) -> ArrayRef {
    let cells: Vec<Option<Vec<Cell>>> = records.iter().map(|r| r.as_ref().map(Record::cells)).collect();
    let columns: Vec<ArrayRef> = R::FIELDS
        .iter()
        .enumerate()
        .map(|(index, (_, kind))| -> ArrayRef {
            let cell = |row: &Option<Vec<Cell>>| -> Option<Cell> { row.as_ref().map(|cells| cells[index]) };
            match kind {
                Kind::Float => {
                    let mut builder = Float64Builder::with_capacity(cells.len());
                    cells.iter().for_each(|row| builder.append_option(match cell(row) {
                        Some(Cell::Float(value)) => value,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
                Kind::Bool => {
                    let mut builder = BooleanBuilder::with_capacity(cells.len());
                    cells.iter().for_each(|row| builder.append_option(match cell(row) {
                        Some(Cell::Bool(value)) => value,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
                Kind::Int => {
                    let mut builder = Int32Builder::with_capacity(cells.len());
                    cells.iter().for_each(|row| builder.append_option(match cell(row) {
                        Some(Cell::Int(value)) => value,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
            }
        })
        .collect();
    let validity = NullBuffer::from_iter(records.iter().map(Option::is_some));
    Arc::new(StructArray::new(fields(R::FIELDS), columns, Some(validity)))
}

const ZTEST_FIELDS: &[(&str, Kind)] = &[
    ("rate_c", Kind::Float),
    ("rate_t", Kind::Float),
    ("diff", Kind::Float),
    ("rel_lift", Kind::Float),
    ("z", Kind::Float),
    ("p_value", Kind::Float),
    ("ci_low", Kind::Float),
    ("ci_high", Kind::Float),
    ("rel_ci_low", Kind::Float),
    ("rel_ci_high", Kind::Float),
    ("significant", Kind::Bool),
];

impl Record for ZTest {
    const FIELDS: &'static [(&'static str, Kind)] = ZTEST_FIELDS;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Float(Some(self.rate_c)),
            Cell::Float(Some(self.rate_t)),
            Cell::Float(Some(self.diff)),
            Cell::Float(self.rel_lift),
            Cell::Float(self.z),
            Cell::Float(self.p_value),
            Cell::Float(Some(self.ci_low)),
            Cell::Float(Some(self.ci_high)),
            Cell::Float(self.rel_ci_low),
            Cell::Float(self.rel_ci_high),
            Cell::Bool(self.significant),
        ]
    }
}

const TTEST_FIELDS: &[(&str, Kind)] = &[
    ("mean_c", Kind::Float),
    ("mean_t", Kind::Float),
    ("diff", Kind::Float),
    ("rel_lift", Kind::Float),
    ("t", Kind::Float),
    ("df", Kind::Float),
    ("p_value", Kind::Float),
    ("ci_low", Kind::Float),
    ("ci_high", Kind::Float),
    ("rel_ci_low", Kind::Float),
    ("rel_ci_high", Kind::Float),
    ("significant", Kind::Bool),
];

impl Record for TTest {
    const FIELDS: &'static [(&'static str, Kind)] = TTEST_FIELDS;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Float(Some(self.mean_c)),
            Cell::Float(Some(self.mean_t)),
            Cell::Float(Some(self.diff)),
            Cell::Float(self.rel_lift),
            Cell::Float(self.t),
            Cell::Float(self.df),
            Cell::Float(self.p_value),
            Cell::Float(self.ci_low),
            Cell::Float(self.ci_high),
            Cell::Float(self.rel_ci_low),
            Cell::Float(self.rel_ci_high),
            Cell::Bool(self.significant),
        ]
    }
}

const CUPED_FIELDS: &[(&str, Kind)] = &[
    ("theta", Kind::Float),
    ("diff", Kind::Float),
    ("rel_lift", Kind::Float),
    ("t", Kind::Float),
    ("df", Kind::Float),
    ("p_value", Kind::Float),
    ("ci_low", Kind::Float),
    ("ci_high", Kind::Float),
    ("variance_reduction", Kind::Float),
    ("significant", Kind::Bool),
];

impl Record for Cuped {
    const FIELDS: &'static [(&'static str, Kind)] = CUPED_FIELDS;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Float(self.theta),
            Cell::Float(Some(self.diff)),
            Cell::Float(self.rel_lift),
            Cell::Float(self.t),
            Cell::Float(self.df),
            Cell::Float(self.p_value),
            Cell::Float(self.ci_low),
            Cell::Float(self.ci_high),
            Cell::Float(self.variance_reduction),
            Cell::Bool(self.significant),
        ]
    }
}

impl Record for Srm {
    const FIELDS: &'static [(&'static str, Kind)] = &[("chi2", Kind::Float), ("df", Kind::Int), ("p_value", Kind::Float)];
    fn cells(&self) -> Vec<Cell> {
        vec![Cell::Float(Some(self.chi2)), Cell::Int(Some(self.df)), Cell::Float(Some(self.p_value))]
    }
}
