//! A realistic sample experiment as Arrow batches: users of a shop split 50/50 by
//! `ab_assign` per experiment, with a conversion, a revenue and a pre-period revenue that
//! CUPED can use. Deterministic for a seed (`ab_core::simulation::SplitMix64`), so the demo,
//! the cross-engine test and the benchmark all see the same numbers.

use ab_core::assign;
use ab_core::simulation::SplitMix64;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// Rows per generated batch. A batch's rows depend on where it starts, so whatever writes the
/// sample (Parquet files, a test's Postgres table) cuts it at these boundaries.
pub const BATCH_ROWS: u64 = 65_536;

/// The table's columns: `user_id, experiment, variant, converted, revenue, pre_revenue`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, false),
        Field::new("experiment", DataType::Int32, false),
        Field::new("variant", DataType::Utf8, false),
        Field::new("converted", DataType::Boolean, false),
        Field::new("revenue", DataType::Float64, false),
        Field::new("pre_revenue", DataType::Float64, false),
    ]))
}

/// Rows `first..first + count` of the sample: `experiments` experiments, users round-robin.
/// Values are rounded to cents, so both engines read the very same numbers.
pub fn batch(first: u64, count: usize, experiments: i32, seed: u64) -> RecordBatch {
    let mut rng = SplitMix64::new(seed ^ first.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let cents = |value: f64| (value * 100.0).round() / 100.0;
    let (mut users, mut experiment_ids, mut variants) = (Vec::with_capacity(count), Vec::with_capacity(count), Vec::with_capacity(count));
    let (mut converted, mut revenue, mut pre_revenue) = (Vec::with_capacity(count), Vec::with_capacity(count), Vec::with_capacity(count));
    for index in first..first + count as u64 {
        let user = format!("user-{index}");
        let experiment = (index % experiments as u64) as i32;
        let salt = format!("experiment-{experiment}");
        let treated = assign::hash_unit(&user, &salt) >= 0.5;
        let engaged = rng.uniform() < 0.35;
        let pre = if engaged { cents((3.0 + 0.8 * rng.normal()).exp()) } else { 0.0 };
        // 8% of new users and 30% of past buyers convert; treatment lifts that by 6%,
        // and revenue by 4%.
        let rate = (0.08 + 0.22 * f64::from(u8::from(engaged))) * if treated { 1.06 } else { 1.0 };
        let buys = rng.uniform() < rate;
        let spend = if buys { cents((1.5 * pre + (2.5 + 0.7 * rng.normal()).exp()) * if treated { 1.04 } else { 1.0 }) } else { 0.0 };
        users.push(user);
        experiment_ids.push(experiment);
        variants.push(if treated { "treatment" } else { "control" });
        converted.push(buys);
        revenue.push(spend);
        pre_revenue.push(pre);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(users)),
        Arc::new(Int32Array::from(experiment_ids)),
        Arc::new(StringArray::from(variants)),
        Arc::new(BooleanArray::from(converted)),
        Arc::new(Float64Array::from(revenue)),
        Arc::new(Float64Array::from(pre_revenue)),
    ];
    RecordBatch::try_new(schema(), columns).expect("columns match the schema")
}

/// The whole sample of `users` rows, batch by batch (`BATCH_ROWS` each).
pub fn batches(users: u64, experiments: i32, seed: u64) -> impl Iterator<Item = RecordBatch> {
    (0..users).step_by(BATCH_ROWS as usize).map(move |first| batch(first, BATCH_ROWS.min(users - first) as usize, experiments, seed))
}

/// Writes the sample as Snappy Parquet: one file at `path`, or for `files > 1` a directory
/// `path` of that many files (`part-00000.parquet`, …) splitting the rows about evenly at
/// batch boundaries, as a dataset for `ab-sql` and a cluster.
pub fn write_parquet(path: &Path, users: u64, experiments: i32, seed: u64, files: u64) -> Result<(), Box<dyn std::error::Error>> {
    let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let create = |file: &Path| -> Result<ArrowWriter<std::fs::File>, Box<dyn std::error::Error>> {
        let handle = std::fs::File::create(file).map_err(|e| format!("cannot create {}: {e}", file.display()))?;
        Ok(ArrowWriter::try_new(handle, schema(), Some(properties.clone()))?)
    };
    if files <= 1 {
        let mut writer = create(path)?;
        batches(users, experiments, seed).try_for_each(|batch| writer.write(&batch))?;
        writer.close()?;
        return Ok(());
    }
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let total_batches = users.div_ceil(BATCH_ROWS);
    let mut writers = (0..files).map(|k| create(&path.join(format!("part-{k:05}.parquet")))).collect::<Result<Vec<_>, _>>()?;
    for (index, batch) in batches(users, experiments, seed).enumerate() {
        // Consecutive batches to a file, files differing by at most one batch.
        writers[(index as u64 * files / total_batches.max(1)) as usize].write(&batch)?;
    }
    writers.into_iter().try_for_each(|writer| writer.close().map(drop))?;
    Ok(())
}
