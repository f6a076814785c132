//! Shared by the integration tests of the installed `pg_ab` extension: the connection to the
//! throwaway cluster that `scripts/test.sh` starts (`PG_AB_TEST_URL`), in a database where
//! the script has run `CREATE EXTENSION pg_ab`.

use postgres::{Client, NoTls};

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
