//! Shared by the integration tests of the installed `pg_ab` extension: the connection to the
//! throwaway cluster that `scripts/test.sh` starts (`PG_AB_TEST_URL`), in a database where
//! the script has run `CREATE EXTENSION pg_ab`; and the sample experiment
//! (`ab_datafusion::example`) loaded into a table, for tests comparing engines.

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int32Type};
use postgres::{Client, NoTls};
use std::io::Write;

/// Connects to the test database. There is no fallback: without a real Postgres with
/// pg_ab installed these tests have nothing to test, so they fail loudly.
pub fn connect() -> Client {
    let url = std::env::var("PG_AB_TEST_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=54329 user=postgres dbname=pg_ab_test".to_owned());
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        panic!("cannot connect to {url}: {e}\nRun the tests with `make test`, which starts the cluster.")
    })
}

/// The SQLSTATE and message of a query that must fail.
pub fn error_of(client: &mut Client, sql: &str) -> (String, String) {
    match client.batch_execute(sql) {
        Ok(()) => panic!("expected an error from: {sql}"),
        Err(error) => {
            let db = error.as_db_error().unwrap_or_else(|| panic!("not a server error for {sql}: {error}"));
            (db.code().code().to_owned(), db.message().to_owned())
        }
    }
}

/// (Re)creates `table` with the sample's columns and copies `batches` into it, every value
/// exactly as DataFusion reads it from Parquet.
pub fn load_example(client: &mut Client, table: &str, batches: impl IntoIterator<Item = RecordBatch>) {
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table};
             CREATE TABLE {table} (user_id text, experiment int4, variant text, converted bool, revenue float8, pre_revenue float8);"
        ))
        .expect("create table");
    let mut copy = client.copy_in(&format!("COPY {table} FROM STDIN")).expect("copy");
    for batch in batches {
        let column = |i: usize| batch.column(i);
        for row in 0..batch.num_rows() {
            // `{:?}` prints the shortest decimal that parses back to the same f64.
            writeln!(
                copy,
                "{}\t{}\t{}\t{}\t{:?}\t{:?}",
                column(0).as_string::<i32>().value(row),
                column(1).as_primitive::<Int32Type>().value(row),
                column(2).as_string::<i32>().value(row),
                if column(3).as_boolean().value(row) { "t" } else { "f" },
                column(4).as_primitive::<Float64Type>().value(row),
                column(5).as_primitive::<Float64Type>().value(row),
            )
            .expect("copy row");
        }
    }
    copy.finish().expect("copy finish");
    client.batch_execute(&format!("ANALYZE {table}")).expect("analyze");
}
