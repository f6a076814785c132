//! What every SQL-facing file needs: raising `ab_core`'s errors as SQLSTATE 22023 (or 54000
//! for a work cap) and building composite results.

use ab_core::records::{FieldValue, ResultRecord};
use ab_core::InvalidArgument;
use pgrx::prelude::*;
use pgrx::{pg_sys, IntoDatum, PgTupleDesc};

/// Raises `ERROR` with SQLSTATE 22023 (invalid_parameter_value) and the argument's name, or
/// 54000 (program_limit_exceeded) when valid input hit one of `ab_core`'s work caps.
pub fn raise_invalid(error: InvalidArgument) -> ! {
    let code = if error.is_limit_exceeded() {
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED
    } else {
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
    };
    ereport!(PgLogLevel::ERROR, code, format!("pg_ab: {error}"));
    unreachable!("ereport(ERROR) does not return")
}

pub trait OrRaise<T> {
    /// The value, or `ERROR` 22023 naming the bad argument (54000 at a work cap).
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for ab_core::Result<T> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|error| raise_invalid(error))
    }
}

/// A value that must be finite: NaN or infinity in a metric is bad data, not a statistic.
pub fn finite(argument: &'static str, value: f64) -> f64 {
    ab_core::error::check_finite(argument, value).or_raise()
}

/// The datums of a record's fields (`None` is SQL NULL).
pub fn field_datums(fields: Vec<FieldValue>) -> Vec<Option<pg_sys::Datum>> {
    fields
        .into_iter()
        .map(|value| match value {
            FieldValue::Float(v) => v.into_datum(),
            FieldValue::Bool(v) => v.into_datum(),
            FieldValue::Int(v) => v.into_datum(),
            FieldValue::BigInt(v) => v.into_datum(),
        })
        .collect()
}

/// A value of the running function's declared composite return type from its fields in
/// declaration order (the catalog's record, `ab_core::records`). The type is found by
/// the function's OID, not by name: a lookup by name follows `search_path`, which pg_restore
/// empties while it refreshes materialized views over these functions (and users may set
/// without our schema).
pub fn new_composite(fcinfo: pg_sys::FunctionCallInfo, fields: Vec<FieldValue>) -> PgHeapTuple<'static, pgrx::AllocatedByRust> {
    // SAFETY: Postgres passes every V1 function a valid fcinfo whose flinfo names it.
    let return_type = unsafe { pg_sys::get_func_rettype((*(*fcinfo).flinfo).fn_oid) };
    let Some(descriptor) = PgTupleDesc::for_composite_type_by_oid(return_type) else {
        error!("pg_ab: the result type of this function is missing; reinstall the extension")
    };
    // SAFETY: the fields are built with `IntoDatum` from the Rust types that match the column
    // types the catalog renders for the record, in the same order.
    unsafe { PgHeapTuple::from_datums(descriptor, field_datums(fields)) }
        .unwrap_or_else(|e| error!("pg_ab: cannot build the result: {e}"))
}

/// A result record of `ab_core` as a value of the running function's composite type.
pub fn record<R: ResultRecord>(fcinfo: pg_sys::FunctionCallInfo, record: &R) -> PgHeapTuple<'static, pgrx::AllocatedByRust> {
    new_composite(fcinfo, record.values())
}
