//! `ab-example-data PATH [--users N] [--experiments K]`: writes the sample experiment
//! (`ab_datafusion::example`) as a Parquet file, for `ab-sql` and the benchmarks.

use ab_datafusion::example;
use clap::Parser;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use std::fs::File;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Write pg_ab's sample experiment as Parquet")]
struct Args {
    /// The Parquet file to write.
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
}

const BATCH_ROWS: u64 = 65_536;

fn main() -> ExitCode {
    let args = Args::parse();
    if args.experiments < 1 {
        eprintln!("ab-example-data: error: --experiments must be at least 1");
        return ExitCode::from(2);
    }
    match write(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ab-example-data: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn write(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let file = File::create(&args.path).map_err(|e| format!("cannot create {}: {e}", args.path.display()))?;
    let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(file, example::schema(), Some(properties))?;
    let mut first = 0;
    while first < args.users {
        let count = BATCH_ROWS.min(args.users - first);
        writer.write(&example::batch(first, count as usize, args.experiments, args.seed))?;
        first += count;
    }
    writer.close()?;
    Ok(())
}
