//! Records of the catalog (`ab_core::records`, docs/contract.md §3) as Arrow structs:
//! the same field names and order as the Postgres composite types.

use ab_core::records::{FieldKind, FieldValue, Record, ResultRecord};
use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use std::sync::Arc;

fn fields(record: &Record) -> Fields {
    record
        .fields
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
pub fn struct_type(record: &Record) -> DataType {
    DataType::Struct(fields(record))
}

/// `ab_core` results (None is a NULL struct) as one struct column.
pub fn records_to_struct_array<R: ResultRecord>(records: &[Option<R>]) -> ArrayRef {
    let rows: Vec<Option<Vec<FieldValue>>> = records.iter().map(|r| r.as_ref().map(ResultRecord::values)).collect();
    to_struct_array(R::RECORD, &rows)
}

/// Rows of a record's field values (None is a NULL struct) as one struct column.
pub fn to_struct_array(record: &Record, rows: &[Option<Vec<FieldValue>>]) -> ArrayRef {
    let value = |row: &Option<Vec<FieldValue>>, index: usize| row.as_ref().map(|values| values[index]);
    let columns: Vec<ArrayRef> = record
        .fields
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
    let validity = NullBuffer::from_iter(rows.iter().map(Option::is_some));
    Arc::new(StructArray::new(fields(record), columns, Some(validity)))
}
