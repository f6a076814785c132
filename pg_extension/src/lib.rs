//! `pg_ab`: the Postgres face of `ab_core`. Every function here is glue: it checks nothing
//! and computes nothing that `ab_core` does not, and turns `ab_core`'s errors into
//! SQLSTATE 22023 (54000 at a work cap). The SQL surface is `ab_core::catalog`'s, rendered by
//! build.rs (docs/functions.md): its row and table functions run through catalog.rs, its
//! aggregates through aggregates.rs, the hottest paths through hot_paths.rs.

use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;

mod aggregate_catalog;
mod aggregates;
mod catalog;
mod hot_paths;
mod sql_glue;

pgrx::pg_module_magic!();

/// Runs when a backend loads the library: long computations in `ab_core` poll this hook every
/// few thousand steps, so `statement_timeout`, `pg_cancel_backend` and
/// `pg_terminate_backend` end them. `CHECK_FOR_INTERRUPTS()` raises its `ERROR` through
/// pgrx's guard, which unwinds the Rust frames to the SQL function's boundary and hands the
/// error to Postgres there (`ab_core` holds no lock across the hook).
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    ab_core::interrupt::set_hook(check_for_interrupts);
}

/// `CHECK_FOR_INTERRUPTS()`. Its ERROR (57014 for a timeout or cancel) is caught and raised
/// again from Rust with the same code and message: pgrx attaches a Rust backtrace as the DETAIL
/// of an error it catches at the FFI boundary when the server runs with `RUST_BACKTRACE`, and
/// users should not see our stack frames. (A terminate is FATAL and exits the backend there.)
fn check_for_interrupts() {
    PgTryBuilder::new(|| {
        pgrx::check_for_interrupts!();
    })
        .catch_others(|caught| match caught {
            CaughtError::PostgresError(report) => {
                ereport!(PgLogLevel::ERROR, report.sql_error_code(), report.message().to_owned());
                unreachable!("ereport(ERROR) does not return")
            }
            other => other.rethrow(),
        })
        .execute()
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
