//! What every SQL-facing file needs: raising `ab_core`'s errors as SQLSTATE 22023 (or 54000
//! for a work cap) and building composite results.

use ab_core::compare::{FieldValue, ResultRecord};
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

/// A value of the running function's declared composite return type from its fields in
/// declaration order (`None` is SQL NULL). The type is found by the function's OID, not by
/// name: a lookup by name follows `search_path`, which pg_restore empties while it refreshes
/// materialized views over these functions (and users may set without our schema).
fn composite(type_name: &str, fcinfo: pg_sys::FunctionCallInfo, fields: Vec<Option<pg_sys::Datum>>) -> PgHeapTuple<'static, pgrx::AllocatedByRust> {
    // SAFETY: Postgres passes every V1 function a valid fcinfo whose flinfo names it.
    let return_type = unsafe { pg_sys::get_func_rettype((*(*fcinfo).flinfo).fn_oid) };
    let Some(descriptor) = PgTupleDesc::for_composite_type_by_oid(return_type) else {
        error!("pg_ab: type {type_name} is missing; reinstall the extension")
    };
    // SAFETY: the fields are built with `IntoDatum` from the Rust types that match the
    // column types of the `CREATE TYPE` in lib.rs, in the same order.
    unsafe { PgHeapTuple::from_datums(descriptor, fields) }
        .unwrap_or_else(|e| error!("pg_ab: cannot build {type_name}: {e}"))
}

/// A result record of `ab_core` as a value of the composite type `type_name` (the running
/// function's return type), whose fields `CREATE TYPE` (lib.rs) declares in the record's order.
pub fn record<R: ResultRecord>(type_name: &str, fcinfo: pg_sys::FunctionCallInfo, record: &R) -> PgHeapTuple<'static, pgrx::AllocatedByRust> {
    let fields = record
        .values()
        .into_iter()
        .map(|value| match value {
            FieldValue::Float(v) => v.into_datum(),
            FieldValue::Bool(v) => v.into_datum(),
            FieldValue::Int(v) => v.into_datum(),
            FieldValue::BigInt(v) => v.into_datum(),
        })
        .collect();
    composite(type_name, fcinfo, fields)
}

/// The elements of an array argument; a NULL element is bad input, not a crash.
pub fn elements<'a, T: pgrx::datum::UnboxDatum>(argument: &'static str, array: &'a pgrx::Array<'a, T>) -> Vec<T::As<'a>> {
    array
        .iter()
        .map(|element| element.unwrap_or_else(|| raise_invalid(InvalidArgument::new(argument, "must not contain NULL"))))
        .collect()
}
