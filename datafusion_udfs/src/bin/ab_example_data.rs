//! `ab-example-data PATH [--users N] [--experiments K] [--files F]`: writes the sample
//! experiment (`ab_datafusion::example`) as a Parquet file, or as a directory of F files, for
//! `ab-sql`, a cluster and the benchmarks.

use ab_datafusion::example;
use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Write pg_ab's sample experiment as Parquet")]
struct Args {
    /// The Parquet file to write (a directory with --files above 1).
    path: std::path::PathBuf,
    /// Users in the sample.
    #[arg(long, default_value_t = 300_000)]
    users: u64,
    /// Experiments the users are spread over (column `experiment`).
    #[arg(long, default_value_t = 1)]
    experiments: i32,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Split the rows over this many files in the directory PATH.
    #[arg(long, default_value_t = 1)]
    files: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.experiments < 1 {
        eprintln!("ab-example-data: error: --experiments must be at least 1");
        return ExitCode::from(2);
    }
    match example::write_parquet(&args.path, args.users, args.experiments, args.seed, args.files) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ab-example-data: error: {error}");
            ExitCode::FAILURE
        }
    }
}
