//! `ab-sql`: SQL with every pg_ab function over Parquet, CSV and JSON files, no server needed.
//!
//! ```text
//! ab-sql --table events=events.parquet --table users=users.csv "SELECT …"
//! ab-sql --table events=data/ --file analysis.sql --format csv
//! ab-sql --table events=events.parquet          # interactive prompt on a terminal
//! ```
//! A table path may be a file or a directory of files; its extension (or, for a directory,
//! its files' extension) picks the reader. Bad SQL or a missing file is one line on stderr and
//! exit status 1; bad usage is status 2.

use clap::{Parser, ValueEnum};
use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::nullif;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionContext};
use datafusion::sql::parser::DFParser;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "ab-sql", about = "Run SQL with pg_ab's functions over Parquet, CSV and JSON files")]
struct Args {
    /// A table as NAME=PATH (a file or a directory of files); repeat for more tables.
    #[arg(long = "table", value_name = "NAME=PATH")]
    tables: Vec<String>,
    /// Read the SQL from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "sql")]
    file: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The SQL to run (statements separated by ';'). Without it and without --file, SQL is
    /// read from standard input, with a prompt on a terminal.
    sql: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: DataFusion errors can span several.
            eprintln!("ab-sql: error: {}", error.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Failure> {
    let ctx = SessionContext::new();
    ab_datafusion::register_all(&ctx);
    for table in &args.tables {
        register_table(&ctx, table).await?;
    }
    if let Some(sql) = &args.sql {
        return execute(&ctx, sql, args.format).await;
    }
    if let Some(file) = &args.file {
        let sql = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        return execute(&ctx, &sql, args.format).await;
    }
    if std::io::stdin().is_terminal() {
        return interactive(&ctx, args.format).await;
    }
    let sql = std::io::read_to_string(std::io::stdin())?;
    execute(&ctx, &sql, args.format).await
}

async fn register_table(ctx: &SessionContext, spec: &str) -> Result<(), Failure> {
    let (name, path) = spec.split_once('=').ok_or_else(|| format!("--table wants NAME=PATH, got '{spec}'"))?;
    let location = Path::new(path);
    if !location.exists() {
        return Err(format!("table {name}: no such file or directory: {path}").into());
    }
    let extension = if location.is_dir() { extension_inside(location)? } else { extension_of(location) };
    let extension = extension.ok_or_else(|| format!("table {name}: cannot tell the format of {path} (want .parquet, .csv or .json)"))?;
    let dotted = format!(".{extension}");
    match extension.as_str() {
        "parquet" => ctx.register_parquet(name, path, ParquetReadOptions::default().file_extension(&dotted)).await?,
        "csv" => ctx.register_csv(name, path, CsvReadOptions::new().file_extension(&dotted)).await?,
        "json" | "ndjson" | "jsonl" => ctx.register_json(name, path, JsonReadOptions::default().file_extension(&dotted)).await?,
        other => return Err(format!("table {name}: unsupported format .{other} (want .parquet, .csv or .json)").into()),
    }
    Ok(())
}

fn extension_of(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

/// The extension shared by the files of a directory.
fn extension_inside(directory: &Path) -> Result<Option<String>, Failure> {
    let mut found = None;
    for entry in std::fs::read_dir(directory)? {
        let path = entry?.path();
        if path.is_file() && !path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
            found = found.or_else(|| extension_of(&path));
        }
    }
    Ok(found)
}

async fn execute(ctx: &SessionContext, sql: &str, format: Format) -> Result<(), Failure> {
    let statements = DFParser::parse_sql(sql)?;
    for statement in statements {
        let plan = ctx.state().statement_to_plan(statement).await?;
        let batches = with_progress(ctx.execute_logical_plan(plan).await?.collect()).await?;
        print(&batches, format)?;
    }
    Ok(())
}

/// Runs `work`, showing the elapsed time on a terminal's stderr when it takes more than a
/// second, so a long scan is visibly alive.
async fn with_progress<T>(work: impl std::future::Future<Output = T>) -> T {
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let done = done.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs(1)).await;
            while !done.load(Ordering::Relaxed) {
                eprint!("\r  running… {:.0}s", started.elapsed().as_secs_f64());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let result = work.await;
    done.store(true, Ordering::Relaxed);
    let _ = ticker.await;
    eprint!("\r\x1b[K");
    result
}

fn print(batches: &[RecordBatch], format: Format) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Table => writeln!(out, "{}", pretty_format_batches(batches)?)?,
        Format::Csv => {
            let mut writer = datafusion::arrow::csv::Writer::new(&mut out);
            for batch in batches {
                writer.write(&flatten_structs(batch)?)?;
            }
        }
        Format::Json => {
            let mut writer = datafusion::arrow::json::ArrayWriter::new(&mut out);
            writer.write_batches(&batches.iter().collect::<Vec<_>>())?;
            writer.finish()?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// CSV has no nested values, so a struct column (a test's result) becomes one column per
/// field, named `column.field`.
fn flatten_structs(batch: &RecordBatch) -> Result<RecordBatch, Failure> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        match column.as_struct_opt() {
            Some(record) => {
                for (child, values) in record.fields().iter().zip(record.columns()) {
                    // A NULL record has NULL fields.
                    let values = match record.nulls() {
                        Some(nulls) => nullif(values, &BooleanArray::new(!nulls.inner(), None))?,
                        None => values.clone(),
                    };
                    fields.push(Field::new(format!("{}.{}", field.name(), child.name()), child.data_type().clone(), true));
                    columns.push(values);
                }
            }
            None => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// A prompt that runs each statement when its line ends with ';'.
async fn interactive(ctx: &SessionContext, format: Format) -> Result<(), Failure> {
    let mut buffer = String::new();
    let stdin = std::io::stdin();
    loop {
        eprint!("{}", if buffer.is_empty() { "ab-sql> " } else { "   ...> " });
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(());
        }
        buffer.push_str(&line);
        if line.trim_end().ends_with(';') {
            if let Err(error) = execute(ctx, &buffer, format).await {
                eprintln!("ab-sql: error: {}", error.to_string().replace('\n', " "));
            }
            buffer.clear();
        }
    }
}
