//! `ab_datafusion`: pg_ab's SQL functions and aggregates for DataFusion, with the names,
//! arguments, defaults and answers of the Postgres extension. Every statistic comes from
//! `ab_core`; this crate only adapts Arrow columns to it.
//!
//! ```text
//! let ctx = SessionContext::new();
//! ab_datafusion::register_all(&ctx);
//! ctx.sql("SELECT ab_ttest_agg(is_treatment, revenue) FROM events").await?;
//! ```

mod aggregates;
mod args;
pub mod cli;
pub mod example;
mod results;
mod scalars;
mod tables;

use aggregates::{
    CupedAgg, InteractionAgg, MsprtAgg, RatioAgg, RatioCupedAgg, SeqTTestAgg, TTestAgg, TwoArmAggregate, ZTestAgg,
};
use datafusion::logical_expr::{AggregateUDF, DocSection, ScalarUDF};
use datafusion::prelude::SessionContext;

/// Every scalar function of pg_ab.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    scalars::all()
}

/// Every aggregate of pg_ab.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![
        TwoArmAggregate::<TTestAgg>::udaf(),
        TwoArmAggregate::<ZTestAgg>::udaf(),
        TwoArmAggregate::<CupedAgg>::udaf(),
        TwoArmAggregate::<RatioAgg>::udaf(),
        TwoArmAggregate::<RatioCupedAgg>::udaf(),
        TwoArmAggregate::<InteractionAgg>::udaf(),
        TwoArmAggregate::<MsprtAgg>::udaf(),
        TwoArmAggregate::<SeqTTestAgg>::udaf(),
    ]
}

/// Registers every pg_ab function with the context's function registry, where planners
/// (and, later, distributed executors) resolve them by name.
pub fn register_all(ctx: &SessionContext) {
    scalar_functions().into_iter().for_each(|udf| ctx.register_udf(udf));
    aggregate_functions().into_iter().for_each(|udaf| ctx.register_udaf(udaf));
    tables::register(ctx);
}

pub(crate) fn doc_section() -> DocSection {
    DocSection { include: true, label: "pg_ab", description: Some("A/B-test statistics and assignment") }
}
