//! Every row and table function of the catalog (`ab_core::catalog`, docs/functions.md) runs
//! through [`call`]: it reads the arguments the overload declares, calls its `ab_core` body
//! and returns the value as the declared SQL type. The build script exports one C function
//! per overload under the symbol the catalog names, and embeds the catalog's SQL.

use crate::sql_glue::{field_datums, new_composite, OrRaise};
use ab_core::catalog::{self, Args, Overload, Param, Value};
use pgrx::fcinfo::{pg_getarg, pg_return_null};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::prelude::*;
use pgrx::{pg_guard, FromDatum, IntoDatum};

include!(concat!(env!("OUT_DIR"), "/catalog_sql.rs"));

/// Exports `$symbol` (and its V1 info record `$info`) running overload `$overload` of the
/// catalog's function `$function`.
macro_rules! adapter {
    ($symbol:ident, $info:ident, $function:literal, $overload:literal) => {
        #[unsafe(no_mangle)]
        #[doc(hidden)]
        pub extern "C" fn $info() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }

        #[unsafe(no_mangle)]
        #[pg_guard]
        pub unsafe extern "C-unwind" fn $symbol(fcinfo: FunctionCallInfo) -> Datum {
            // SAFETY: Postgres calls the symbol through the declaration the catalog rendered for
            // this very overload, so the arguments have the overload's types.
            unsafe { call(fcinfo, &catalog::FUNCTIONS[$function].overloads[$overload]) }
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/catalog_symbols.rs"));

/// The arguments of a call, read from `fcinfo` as the overload declares them.
struct PgArgs {
    fcinfo: FunctionCallInfo,
    params: &'static [Param],
}

impl PgArgs {
    fn get<T: FromDatum>(&self, i: usize) -> T {
        // SAFETY: argument i has the SQL type of `params[i]`, which `T` reads (the callers
        // below pair them as `SqlType` does); the function is STRICT, so it is not NULL.
        unsafe { pg_getarg::<T>(self.fcinfo, i) }
            .unwrap_or_else(|| error!("pg_ab: argument {} is NULL in a STRICT function", self.params[i].name))
    }
}

impl Args for PgArgs {
    fn float(&self, i: usize) -> f64 {
        self.get(i)
    }

    fn int(&self, i: usize) -> i64 {
        self.get(i)
    }

    fn int32(&self, i: usize) -> i32 {
        self.get(i)
    }

    fn bool(&self, i: usize) -> bool {
        self.get(i)
    }

    fn text(&self, i: usize) -> &str {
        self.get::<&str>(i)
    }

    fn floats(&self, i: usize) -> ab_core::Result<Vec<f64>> {
        catalog::without_nulls(self.params[i].name, self.get::<Array<f64>>(i).iter())
    }

    fn ints(&self, i: usize) -> ab_core::Result<Vec<i64>> {
        catalog::without_nulls(self.params[i].name, self.get::<Array<i64>>(i).iter())
    }

    fn texts(&self, i: usize) -> ab_core::Result<Vec<String>> {
        catalog::without_nulls(self.params[i].name, self.get::<Array<&str>>(i).iter().map(|v| v.map(str::to_owned)))
    }
}

/// Runs `overload` on the call's arguments.
///
/// # Safety
/// `fcinfo` is a call of a function declared as `overload` renders (postgres.rs of the catalog).
unsafe fn call(fcinfo: FunctionCallInfo, overload: &'static Overload) -> Datum {
    let value = (overload.body)(&PgArgs { fcinfo, params: overload.params }).or_raise();
    let datum = match value {
        Value::Null => None,
        Value::Float(v) => v.into_datum(),
        Value::Int32(v) => v.into_datum(),
        Value::Int64(v) => v.into_datum(),
        Value::Bool(v) => v.into_datum(),
        Value::Text(v) => v.into_datum(),
        Value::Floats(v) => v.into_datum(),
        Value::Record(fields) => new_composite(fcinfo, fields).into_datum(),
        // SAFETY: the overload returns TABLE, so Postgres called it as a set-returning function.
        Value::Rows(rows) => return unsafe { materialize(fcinfo, rows) },
    };
    // SAFETY: `fcinfo` is this call's.
    datum.unwrap_or_else(|| unsafe { pg_return_null(fcinfo) })
}

/// A table function's rows, returned in materialize mode: all at once in a tuplestore.
///
/// # Safety
/// `fcinfo` is a call of a set-returning function whose result columns are the rows' fields.
unsafe fn materialize(fcinfo: FunctionCallInfo, rows: Vec<Vec<ab_core::records::FieldValue>>) -> Datum {
    unsafe {
        pg_sys::InitMaterializedSRF(fcinfo, 0);
        let result_info = (*fcinfo).resultinfo.cast::<pg_sys::ReturnSetInfo>();
        for row in rows {
            let (mut values, mut nulls): (Vec<Datum>, Vec<bool>) =
                field_datums(row).into_iter().map(|d| (d.unwrap_or(Datum::from(0)), d.is_none())).unzip();
            pg_sys::tuplestore_putvalues((*result_info).setResult, (*result_info).setDesc, values.as_mut_ptr(), nulls.as_mut_ptr());
        }
    }
    Datum::from(0)
}
