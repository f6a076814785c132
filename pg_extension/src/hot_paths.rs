//! The per-row functions that run over millions of rows: `ab_hash`, `ab_bucket` and the
//! transition functions of `ab_ttest_agg(bool, float8)`, `ab_ztest_agg(bool, bool)` and
//! `ab_cuped_agg(bool, float8, float8)`.
//!
//! They use the V1 calling convention directly, as Postgres' own C functions do, instead of
//! `#[pg_extern]`'s argument machinery: text arguments are read in place (detoasted only when
//! compressed or out of line) and not validated as UTF-8, since hashing needs only their bytes.
//! On 10M rows this took `ab_bucket` from 1.66x to 0.92x of `hashtext` and `ab_ttest_agg`
//! from 1.74x to 0.99x of `count/avg/var_samp` (README, Benchmarks). The SQL declarations
//! are the catalog's (`ab_core::catalog`); `#[pg_guard]`
//! turns a Rust panic into a Postgres error as `#[pg_extern]` does.

use crate::aggregates::state_mut;
use crate::sql_glue::finite;
use crate::sql_glue::OrRaise;
use ab_core::assign;
use ab_core::moments::{CoMoments, Moments, Proportion};
use pgrx::fcinfo::{pg_arg_is_null, pg_getarg_datum_raw, pg_return_null};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::varlena::{varatt_is_1b_e, varatt_is_4b_c, varlena_to_byte_slice};
use pgrx::{pg_guard, Internal};

/// Declares the V1 info record Postgres looks up for each function.
macro_rules! v1_info {
    ($($info:ident),* $(,)?) => {$(
        #[unsafe(no_mangle)]
        #[doc(hidden)]
        pub extern "C" fn $info() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}

v1_info!(
    pg_finfo_ab_hash_v1,
    pg_finfo_ab_bucket_v1,
    pg_finfo_ab_ttest_agg_sfunc_v1,
    pg_finfo_ab_ztest_agg_sfunc_v1,
    pg_finfo_ab_cuped_agg_sfunc_v1,
);

/// The bytes of a text argument, read in place unless compressed or stored out of line.
///
/// # Safety
/// `fcinfo`'s argument `n` must be a non-NULL `text`.
unsafe fn text_arg<'a>(fcinfo: FunctionCallInfo, n: usize) -> &'a [u8] {
    unsafe {
        let mut varlena = pg_getarg_datum_raw(fcinfo, n).cast_mut_ptr::<pg_sys::varlena>();
        if varatt_is_4b_c(varlena) || varatt_is_1b_e(varlena) {
            varlena = pg_sys::pg_detoast_datum_packed(varlena);
        }
        varlena_to_byte_slice(varlena)
    }
}

unsafe fn bool_arg(fcinfo: FunctionCallInfo, n: usize) -> bool {
    unsafe { pg_getarg_datum_raw(fcinfo, n).value() != 0 }
}

/// float8 is passed by value on every 64-bit platform Postgres 15 supports.
unsafe fn float8_arg(fcinfo: FunctionCallInfo, n: usize) -> f64 {
    unsafe { f64::from_bits(pg_getarg_datum_raw(fcinfo, n).value() as u64) }
}

/// `ab_hash(unit text, salt text) → float8`, STRICT.
#[unsafe(no_mangle)]
#[pg_guard]
pub unsafe extern "C-unwind" fn ab_hash_v1(fcinfo: FunctionCallInfo) -> Datum {
    unsafe { Datum::from(assign::hash_unit(text_arg(fcinfo, 0), text_arg(fcinfo, 1)).to_bits()) }
}

/// `ab_bucket(unit text, salt text, buckets int4) → int4`, STRICT.
#[unsafe(no_mangle)]
#[pg_guard]
pub unsafe extern "C-unwind" fn ab_bucket_v1(fcinfo: FunctionCallInfo) -> Datum {
    unsafe {
        let buckets = pg_getarg_datum_raw(fcinfo, 2).value() as i32;
        Datum::from(assign::bucket(text_arg(fcinfo, 0), text_arg(fcinfo, 1), buckets).or_raise())
    }
}

/// The state argument of a transition function (NULL before the first row).
unsafe fn state_arg(fcinfo: FunctionCallInfo) -> Internal {
    unsafe { Internal::from((!pg_arg_is_null(fcinfo, 0)).then(|| pg_getarg_datum_raw(fcinfo, 0))) }
}

/// Returns the state, which stays NULL until a row without NULLs arrives.
unsafe fn return_state(fcinfo: FunctionCallInfo, state: Internal) -> Datum {
    match state.unwrap() {
        Some(datum) => datum,
        None => unsafe { pg_return_null(fcinfo) },
    }
}

unsafe fn any_null(fcinfo: FunctionCallInfo, args: std::ops::RangeInclusive<usize>) -> bool {
    args.into_iter().any(|n| unsafe { pg_arg_is_null(fcinfo, n) })
}

/// `ab_ttest_agg_sfunc(internal, bool, float8) → internal`.
#[unsafe(no_mangle)]
#[pg_guard]
pub unsafe extern "C-unwind" fn ab_ttest_agg_sfunc_v1(fcinfo: FunctionCallInfo) -> Datum {
    unsafe {
        let mut state = state_arg(fcinfo);
        if !any_null(fcinfo, 1..=2) {
            let value = finite("value", float8_arg(fcinfo, 2));
            state_mut::<Moments>(&mut state, fcinfo).groups.group_mut(bool_arg(fcinfo, 1)).push(value);
        }
        return_state(fcinfo, state)
    }
}

/// `ab_ztest_agg_sfunc(internal, bool, bool) → internal`.
#[unsafe(no_mangle)]
#[pg_guard]
pub unsafe extern "C-unwind" fn ab_ztest_agg_sfunc_v1(fcinfo: FunctionCallInfo) -> Datum {
    unsafe {
        let mut state = state_arg(fcinfo);
        if !any_null(fcinfo, 1..=2) {
            state_mut::<Proportion>(&mut state, fcinfo).groups.group_mut(bool_arg(fcinfo, 1)).push(bool_arg(fcinfo, 2));
        }
        return_state(fcinfo, state)
    }
}

/// `ab_cuped_agg_sfunc(internal, bool, float8, float8) → internal`.
#[unsafe(no_mangle)]
#[pg_guard]
pub unsafe extern "C-unwind" fn ab_cuped_agg_sfunc_v1(fcinfo: FunctionCallInfo) -> Datum {
    unsafe {
        let mut state = state_arg(fcinfo);
        if !any_null(fcinfo, 1..=3) {
            let value = finite("value", float8_arg(fcinfo, 2));
            let covariate = finite("covariate", float8_arg(fcinfo, 3));
            state_mut::<CoMoments>(&mut state, fcinfo).groups.group_mut(bool_arg(fcinfo, 1)).push(covariate, value);
        }
        return_state(fcinfo, state)
    }
}
