//! `ab_core`'s result records ([`ResultRecord`]) as Arrow structs, with the field names of
//! the Postgres composite types (docs/contract.md §3).

use ab_core::compare::{FieldKind, FieldValue, ResultRecord};
use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use std::sync::Arc;

fn fields<R: ResultRecord>() -> Fields {
    R::FIELDS
        .iter()
        .map(|(name, kind)| {
            let data_type = match kind {
                FieldKind::Float => DataType::Float64,
                FieldKind::Bool => DataType::Boolean,
                FieldKind::Int => DataType::Int32,
                FieldKind::BigInt => DataType::Int64,
            };
            Field::new(*name, data_type, true)
        })
        .collect()
}

/// The struct type of a record.
pub fn struct_type<R: ResultRecord>() -> DataType {
    DataType::Struct(fields::<R>())
}

/// Records (None is a NULL struct) as one struct column.
pub fn to_struct_array<R: ResultRecord>(records: &[Option<R>]) -> ArrayRef {
    let rows: Vec<Option<Vec<FieldValue>>> = records.iter().map(|r| r.as_ref().map(ResultRecord::values)).collect();
    let value = |row: &Option<Vec<FieldValue>>, index: usize| row.as_ref().map(|values| values[index]);
    let columns: Vec<ArrayRef> = R::FIELDS
        .iter()
        .enumerate()
        .map(|(index, (_, kind))| -> ArrayRef {
            match kind {
                FieldKind::Float => {
                    let mut builder = Float64Builder::with_capacity(rows.len());
                    rows.iter().for_each(|row| builder.append_option(match value(row, index) {
                        Some(FieldValue::Float(v)) => v,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
                FieldKind::Bool => {
                    let mut builder = BooleanBuilder::with_capacity(rows.len());
                    rows.iter().for_each(|row| builder.append_option(match value(row, index) {
                        Some(FieldValue::Bool(v)) => v,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
                FieldKind::Int => {
                    let mut builder = Int32Builder::with_capacity(rows.len());
                    rows.iter().for_each(|row| builder.append_option(match value(row, index) {
                        Some(FieldValue::Int(v)) => v,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
                FieldKind::BigInt => {
                    let mut builder = Int64Builder::with_capacity(rows.len());
                    rows.iter().for_each(|row| builder.append_option(match value(row, index) {
                        Some(FieldValue::BigInt(v)) => v,
                        _ => None,
                    }));
                    Arc::new(builder.finish())
                }
            }
        })
        .collect();
    let validity = NullBuffer::from_iter(records.iter().map(Option::is_some));
    Arc::new(StructArray::new(fields::<R>(), columns, Some(validity)))
}
