//! `ab-sql`: SQL with every pg_ab function over Parquet, CSV and JSON files, no server needed
//! (or on a Ballista cluster with `--cluster`). The command is `ab_datafusion::cli`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ab_datafusion::cli::main().await
}
