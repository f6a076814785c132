//! `docs/functions.md`, the reference of every SQL function, generated from the catalog. The
//! test `generated_files.rs` fails when the committed file differs; write
//! it again with `cargo run -p ab_core --example catalog_files`.

use super::{Param, Returns, AGGREGATES, FUNCTIONS};
use crate::records::Record;
use std::fmt::Write;

/// `name(arg type = default, …)`; from `optional_from` on, each in brackets (an aggregate's
/// arguments that may be left out).
pub fn call_syntax(name: &str, params: &[Param], optional_from: Option<usize>) -> String {
    let params: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, p)| match (&p.default, optional_from) {
            (Some(default), None) => format!("{} {} = {}", p.name, p.ty.sql(), default.sql()),
            (Some(default), Some(first)) if i >= first => format!("[{} {} = {}]", p.name, p.ty.sql(), default.sql()),
            _ => format!("{} {}", p.name, p.ty.sql()),
        })
        .collect();
    format!("{name}({})", params.join(", "))
}

fn columns(record: &Record) -> String {
    record.fields.iter().map(|(name, kind)| format!("`{name}` {}", kind.sql_type().sql())).collect::<Vec<_>>().join(", ")
}

fn result(returns: Returns) -> String {
    match returns {
        Returns::Scalar(ty) => format!("`{}`", ty.sql()),
        Returns::Record(record) => format!("`{}`: {}", record.name, columns(record)),
        Returns::Table(record) => format!("a table, one row per {}: {}", record.name, columns(record)),
    }
}

/// The whole reference, as committed in `docs/functions.md`.
pub fn markdown() -> String {
    let mut doc = String::from(
        "# pg_ab SQL reference\n\n\
         Generated from the catalog (`ab_core/src/catalog/`) by \
         `cargo run -p ab_core --example catalog_files`; do not edit by hand.\n\
         Every function below exists with these names, arguments, defaults and result columns in Postgres \
         (`CREATE EXTENSION pg_ab`) and in DataFusion (`ab-sql`, `ab_datafusion::register_all`). \
         Functions are `IMMUTABLE STRICT PARALLEL SAFE`; aggregates are `PARALLEL SAFE` and skip rows with NULLs. \
         Bad input raises SQLSTATE 22023 naming the argument (docs/contract.md §4). \
         A composite result is a struct in DataFusion (`SELECT ab_ztest(120, 1000, 150, 1000)['p_value']`); \
         a table function's arguments must be constants there.\n\n## Functions\n",
    );
    for function in FUNCTIONS {
        let _ = writeln!(doc, "\n### {}\n", function.name);
        if let Some(release) = function.added_in {
            let _ = writeln!(doc, "Added in {release}.\n");
        }
        for overload in function.overloads {
            let _ = writeln!(doc, "`{}`  ", call_syntax(function.name, overload.params, None));
            let _ = writeln!(doc, "returns {}  ", result(overload.returns));
            let _ = writeln!(doc, "{}.\n", overload.comment);
        }
        let select = match function.overloads[0].returns {
            Returns::Scalar(_) => format!("SELECT {};", function.example),
            Returns::Record(_) | Returns::Table(_) => format!("SELECT * FROM {};", function.example),
        };
        let _ = writeln!(doc, "```sql\n{select}\n```");
    }
    doc.push_str(
        "\n## Aggregates\n\nArguments in brackets may be left out from the right; DataFusion applies the default shown, \
         Postgres has one aggregate per arity with the same default. The examples read a table of one row per user:\n\n\
         ```sql\nCREATE TABLE users (is_treatment boolean, in_second boolean, converted boolean, revenue float8,\n\
         \x20                   revenue_before float8, sessions float8, sessions_before float8);\n```\n\n\
         `in_second` is the arm of a second, concurrent experiment. In DataFusion the result is a struct: \
         `SELECT ab_ttest_agg(is_treatment, revenue)['p_value'] FROM users`.\n",
    );
    for aggregate in AGGREGATES {
        let all = aggregate.params(aggregate.required.len() + aggregate.optional.len());
        let _ = writeln!(doc, "\n### {}\n", aggregate.name);
        if let Some(release) = aggregate.added_in {
            let _ = writeln!(doc, "Added in {release}.\n");
        }
        let _ = writeln!(doc, "`{}`  ", call_syntax(aggregate.name, &all, Some(aggregate.required.len())));
        let _ = writeln!(doc, "returns {}  ", result(Returns::Record(aggregate.returns)));
        let _ = writeln!(doc, "{}; rows with NULLs are skipped.\n", aggregate.comment);
        let _ = writeln!(doc, "```sql\nSELECT ({}).* FROM users;\n```", aggregate.example);
    }
    doc
}
