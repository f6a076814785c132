//! Reading the arguments of a scalar function column by column, and the errors of bad input.

use ab_core::catalog::without_nulls;
use ab_core::InvalidArgument;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, GenericListArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};

/// Bad input: a DataFusion error whose message names the function and the argument,
/// as Postgres' 22023 message does. A work cap of `ab_core` (Postgres' 54000) is the same
/// kind of error, its message reading "limit exceeded (argument): …": an execution error, so
/// that `ab-sql --cluster` unwraps it from Ballista's job failure as it does bad input.
pub fn invalid(function: &str, error: InvalidArgument) -> DataFusionError {
    let prefix = if function.is_empty() { String::new() } else { format!("{function}: ") };
    DataFusionError::Execution(format!("{prefix}{error}"))
}

pub fn plan_error(message: String) -> DataFusionError {
    DataFusionError::Plan(message)
}

/// One argument column, already coerced to its parameter's type.
pub struct Column {
    array: ArrayRef,
}

impl Column {
    pub fn new(array: ArrayRef) -> Self {
        Self { array }
    }

    /// A constant column of `rows` rows, for a parameter left to its default.
    pub fn constant(value: &ScalarValue, rows: usize) -> Result<Self> {
        Ok(Self { array: value.to_array_of_size(rows)? })
    }

    pub fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }

    pub fn text(&self, row: usize) -> &str {
        self.array.as_string::<i32>().value(row)
    }

    pub fn float(&self, row: usize) -> f64 {
        self.array.as_primitive::<Float64Type>().value(row)
    }

    pub fn int(&self, row: usize) -> i64 {
        self.array.as_primitive::<Int64Type>().value(row)
    }

    pub fn int32(&self, row: usize) -> i32 {
        self.array.as_primitive::<Int32Type>().value(row)
    }

    pub fn bool(&self, row: usize) -> bool {
        self.array.as_boolean().value(row)
    }

    fn list(&self, row: usize) -> ArrayRef {
        let list: &GenericListArray<i32> = self.array.as_list();
        list.value(row)
    }

    /// A list argument's elements; a NULL element is bad input.
    pub fn floats(&self, argument: &'static str, row: usize) -> Result<Vec<f64>, InvalidArgument> {
        let list = self.list(row);
        without_nulls(argument, list.as_primitive::<Float64Type>().iter())
    }

    pub fn ints(&self, argument: &'static str, row: usize) -> Result<Vec<i64>, InvalidArgument> {
        let list = self.list(row);
        without_nulls(argument, list.as_primitive::<Int64Type>().iter())
    }

    pub fn texts(&self, argument: &'static str, row: usize) -> Result<Vec<String>, InvalidArgument> {
        let list = self.list(row);
        without_nulls(argument, list.as_string::<i32>().iter().map(|v| v.map(str::to_owned)))
    }
}
