//! The `ab-sql` command: SQL with every pg_ab function over Parquet, CSV and JSON files, in
//! this process or, with `--cluster df://HOST:PORT`, on a Ballista cluster (`ab_ballista`).
//!
//! ```text
//! ab-sql --table events=events.parquet --table users=users.csv "SELECT …"
//! ab-sql --table events=data/ --file analysis.sql --format csv
//! ab-sql --table events=events.parquet          # interactive prompt on a terminal
//! ab-sql --cluster df://scheduler:50050 --table events=/shared/events/ "SELECT …"
//! ```
//! A table path may be a file or a directory of files; its extension (or, for a directory,
//! its files' extension) picks the reader. Bad SQL or a missing file is one line on stderr and
//! exit status 1; bad usage is status 2. The command lives in the library so that a test can
//! run it against a cluster in process; `--cluster` needs the `cluster` feature, so a local
//! build does not compile Ballista's client.

use clap::{Parser, ValueEnum};
use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::nullif;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use datafusion::sql::parser::DFParser;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "ab-sql", about = "Run SQL with pg_ab's functions over Parquet, CSV and JSON files")]
pub struct Args {
    /// A table as NAME=PATH (a file or a directory of files); repeat for more tables.
    #[arg(long = "table", value_name = "NAME=PATH")]
    tables: Vec<String>,
    /// Read the SQL from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "sql")]
    file: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Run on a Ballista cluster (an `ab-scheduler`) instead of in this process. Table paths
    /// must then be readable at the same path by the scheduler and every executor.
    #[arg(long, env = "AB_CLUSTER", value_name = "df://HOST:PORT")]
    cluster: Option<String>,
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

pub type Failure = Box<dyn std::error::Error>;

/// The whole command: parses the arguments, runs, prints, and gives the exit status.
pub async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args, &mut std::io::stdout().lock()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", error_line(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// What `ab-sql` prints on stderr for an error: one line, since DataFusion errors can span
/// several.
pub fn error_line(error: &dyn std::error::Error) -> String {
    format!("ab-sql: error: {}", error.to_string().replace('\n', " "))
}

/// Runs the command, writing results to `out`.
pub async fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    if args.cluster.is_some() {
        return run_here(args, out).await.map_err(as_local_error);
    }
    run_here(args, out).await
}

async fn run_here(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let ctx = context(args.cluster.as_deref()).await?;
    for table in &args.tables {
        register_table(&ctx, table).await?;
    }
    if let Some(sql) = &args.sql {
        return execute(&ctx, sql, args.format, out).await;
    }
    if let Some(file) = &args.file {
        let sql = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        return execute(&ctx, &sql, args.format, out).await;
    }
    if std::io::stdin().is_terminal() {
        return interactive(&ctx, args.format, out).await;
    }
    let sql = std::io::read_to_string(std::io::stdin())?;
    execute(&ctx, &sql, args.format, out).await
}

/// A session with every pg_ab function, local or planned for a cluster. Locally, as in
/// `datafusion-cli`, `SHOW FUNCTIONS` and `information_schema` list them with their parameters.
async fn context(cluster: Option<&str>) -> Result<SessionContext, Failure> {
    let ctx = match cluster {
        None => SessionContext::new_with_config(SessionConfig::new().with_information_schema(true)),
        Some(url) => cluster_context(url).await?,
    };
    crate::register_all(&ctx);
    Ok(ctx)
}

/// Ballista's client session: queries are planned here and run by the scheduler's executors.
#[cfg(feature = "cluster")]
async fn cluster_context(url: &str) -> Result<SessionContext, Failure> {
    use ballista::prelude::SessionContextExt;
    if !url.starts_with("df://") {
        return Err(format!("--cluster wants df://HOST:PORT, got '{url}'").into());
    }
    Ok(SessionContext::remote(url).await?)
}

/// Ballista reports an error raised in a task (bad input found on an executor) inside its
/// job's failure, as `Job … failed: … DataFusionError(Shared(Execution("message")))`; ab-sql
/// shows it as local mode does. Other errors are left as they are.
fn as_local_error(error: Failure) -> Failure {
    const TASK_ERROR: &str = "Execution(\"";
    let text = error.to_string();
    let (Some(start), Some(end)) = (text.rfind(TASK_ERROR), text.rfind("\")")) else { return error };
    let start = start + TASK_ERROR.len();
    if !text.contains("failed due to") || end < start {
        return error;
    }
    Box::new(datafusion::error::DataFusionError::Execution(unescape_debug(&text[start..end])))
}

/// The string whose `{:?}` is `escaped` (without its quotes).
fn unescape_debug(escaped: &str) -> String {
    let mut text = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => text.push('\n'),
            Some('t') => text.push('\t'),
            Some('r') => text.push('\r'),
            Some('0') => text.push('\0'),
            Some('u') => {
                let code: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                text.extend(u32::from_str_radix(&code, 16).ok().and_then(char::from_u32));
            }
            Some(other) => text.push(other),
            None => {}
        }
    }
    text
}

#[cfg(not(feature = "cluster"))]
async fn cluster_context(_url: &str) -> Result<SessionContext, Failure> {
    Err("this ab-sql was built without cluster support; build it with `cargo build -p ab_datafusion --features cluster`".into())
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

async fn execute(ctx: &SessionContext, sql: &str, format: Format, out: &mut dyn Write) -> Result<(), Failure> {
    let statements = DFParser::parse_sql(sql)?;
    for statement in statements {
        let plan = ctx.state().statement_to_plan(statement).await?;
        let batches = with_progress(ctx.execute_logical_plan(plan).await?.collect()).await?;
        print(&batches, format, out)?;
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

fn print(batches: &[RecordBatch], format: Format, out: &mut dyn Write) -> Result<(), Failure> {
    match format {
        Format::Table => writeln!(out, "{}", pretty_format_batches(batches)?)?,
        Format::Csv => {
            let mut writer = datafusion::arrow::csv::Writer::new(&mut *out);
            for batch in batches {
                writer.write(&flatten_structs(batch)?)?;
            }
        }
        Format::Json => {
            let mut writer = datafusion::arrow::json::ArrayWriter::new(&mut *out);
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
async fn interactive(ctx: &SessionContext, format: Format, out: &mut dyn Write) -> Result<(), Failure> {
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
            if let Err(error) = execute(ctx, &buffer, format, out).await {
                eprintln!("{}", error_line(error.as_ref()));
            }
            buffer.clear();
        }
    }
}
