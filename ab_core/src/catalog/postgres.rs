//! The catalog as Postgres SQL, which the extension's build script embeds with pgrx's
//! `extension_sql!`: the composite types first ([`types_sql`], pgrx's `bootstrap`), and after
//! every function pgrx itself declares (the aggregates' support functions), the catalog's
//! functions, aggregates and comments ([`functions_sql`], pgrx's `finalize`). The objects a
//! release adds make its upgrade script ([`upgrade_sql`]).

use super::{aggregate_states, Aggregate, Param, Returns, AGGREGATES, FUNCTIONS, PREVIOUS_RELEASE, RELEASE};
use crate::records::{Record, RECORDS};
use std::fmt::Write;

/// `'text'` with its quotes doubled.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `("name" type DEFAULT value, …)`; aggregates take no defaults (an overload per arity instead).
fn declaration(params: &[Param], defaults: bool) -> String {
    let params: Vec<String> = params
        .iter()
        .map(|p| match &p.default {
            Some(default) if defaults => format!("\"{}\" {} DEFAULT {}", p.name, p.ty.sql(), default.sql()),
            _ => format!("\"{}\" {}", p.name, p.ty.sql()),
        })
        .collect();
    format!("({})", params.join(", "))
}

/// `(type, …)`, as `COMMENT ON` names an overload; `internal` first for a transition function.
fn types(params: &[Param], internal: bool) -> String {
    let types: Vec<&str> = internal.then_some("internal").into_iter().chain(params.iter().map(|p| p.ty.sql())).collect();
    format!("({})", types.join(", "))
}

/// `"name" type, …` of a record's fields.
fn columns(record: &Record) -> String {
    let columns: Vec<String> = record.fields.iter().map(|(name, kind)| format!("\"{name}\" {}", kind.sql_type().sql())).collect();
    columns.join(", ")
}

fn returns(returns: Returns) -> String {
    match returns {
        Returns::Scalar(ty) => ty.sql().to_owned(),
        Returns::Record(record) => record.name.to_owned(),
        Returns::Table(record) => format!("TABLE ({})", columns(record)),
    }
}

/// Which objects to render: all of them, or those one release added.
#[derive(Clone, Copy)]
enum Objects {
    All,
    AddedIn(&'static str),
}

impl Objects {
    fn take(self, added_in: Option<&str>) -> bool {
        match self {
            Self::All => true,
            Self::AddedIn(release) => added_in == Some(release),
        }
    }
}

/// `CREATE TYPE` and `COMMENT ON TYPE` of every composite result.
pub fn types_sql() -> String {
    composite_types(Objects::All)
}

fn composite_types(objects: Objects) -> String {
    let mut sql = String::new();
    for record in RECORDS.iter().filter(|r| objects.take(r.added_in)) {
        let _ = writeln!(sql, "CREATE TYPE {} AS ({});", record.name, columns(record));
    }
    for record in RECORDS.iter().filter(|r| objects.take(r.added_in)) {
        let _ = writeln!(sql, "COMMENT ON TYPE {} IS {};", record.name, literal(record.comment));
    }
    sql
}

/// Every function and aggregate of the catalog with its comments, and the comments on the
/// support functions pgrx declares.
pub fn functions_sql() -> String {
    functions(Objects::All)
}

/// `pg_extension/sql/pg_ab--PREVIOUS_RELEASE--RELEASE.sql`: the types, functions and aggregates
/// that [`RELEASE`] adds. A release that changes an existing object, or adds an aggregate (whose
/// support functions pgrx declares), writes those statements in a script of its own; the
/// gateway's extension_upgrade test finds any an upgraded database lacks.
pub fn upgrade_sql() -> String {
    let release = Objects::AddedIn(RELEASE);
    format!(
        "-- pg_ab {PREVIOUS_RELEASE} -> {RELEASE}, generated from the catalog (ab_core/src/catalog/) by\n\
         -- `cargo run -p ab_core --example catalog_files`; do not edit by hand.\n{}{}",
        composite_types(release),
        functions(release)
    )
}

fn functions(objects: Objects) -> String {
    let mut sql = String::new();
    for function in FUNCTIONS.iter().filter(|f| objects.take(f.added_in)) {
        for overload in function.overloads {
            let _ = writeln!(
                sql,
                "CREATE FUNCTION {}{} RETURNS {}\n    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', '{}';",
                function.name,
                declaration(overload.params, true),
                returns(overload.returns),
                overload.symbol.name(),
            );
            let _ = writeln!(sql, "COMMENT ON FUNCTION {}{} IS {};", function.name, types(overload.params, false), literal(overload.comment));
        }
    }
    for aggregate in AGGREGATES.iter().filter(|a| objects.take(a.added_in)) {
        aggregate_sql(&mut sql, aggregate);
    }
    if matches!(objects, Objects::AddedIn(_)) {
        return sql;
    }
    const PARALLEL: &str = " (parallel aggregation)";
    for state in aggregate_states() {
        for (function, arguments, role) in [
            (state.combine, "(internal, internal)", "Combine"),
            (state.serialize, "(internal)", "Serial"),
            (state.deserialize, "(bytea, internal)", "Deserial"),
        ] {
            let comment = format!("{role} function of {}{PARALLEL}", state.users);
            let _ = writeln!(sql, "COMMENT ON FUNCTION {function}{arguments} IS {};", literal(&comment));
        }
    }
    sql
}

/// One `CREATE AGGREGATE` per arity, shortest first, with the comments on it and on its
/// transition and final functions. A hand-written transition function is declared here too.
fn aggregate_sql(sql: &mut String, aggregate: &Aggregate) {
    let shortest = aggregate.required.len();
    if let Some(symbol) = aggregate.hand_written_transition {
        let _ = writeln!(
            sql,
            "CREATE FUNCTION {}{} RETURNS internal\n    IMMUTABLE PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', '{symbol}';",
            aggregate.transition,
            types(&aggregate.params(shortest), true),
        );
    }
    let state = aggregate.state;
    for arity in aggregate.arities() {
        let params = aggregate.params(arity);
        let _ = writeln!(
            sql,
            "CREATE AGGREGATE {}{} (\n    SFUNC = {}, STYPE = internal, FINALFUNC = {},\n    COMBINEFUNC = {}, SERIALFUNC = {}, DESERIALFUNC = {},\n    PARALLEL = SAFE\n);",
            aggregate.name,
            declaration(&params, false),
            aggregate.transition,
            aggregate.final_function,
            state.combine,
            state.serialize,
            state.deserialize,
        );
        let _ = writeln!(sql, "COMMENT ON AGGREGATE {}{} IS {};", aggregate.name, types(&params, false), literal(&aggregate.comment_at(arity)));
        let comment = format!("Transition function of {}", aggregate.name);
        let _ = writeln!(sql, "COMMENT ON FUNCTION {}{} IS {};", aggregate.transition, types(&params, true), literal(&comment));
    }
    let comment = format!("Final function of {}", aggregate.name);
    let _ = writeln!(sql, "COMMENT ON FUNCTION {}(internal) IS {};", aggregate.final_function, literal(&comment));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_declared_with_its_defaults_and_commented_by_its_types() {
        let sql = functions_sql();
        assert!(sql.contains(
            "CREATE FUNCTION ab_ztest(\"x_c\" bigint, \"n_c\" bigint, \"x_t\" bigint, \"n_t\" bigint, \"alpha\" double precision DEFAULT 0.05, \"alternative\" text DEFAULT 'two-sided') RETURNS ab_ztest_result"
        ));
        assert!(sql.contains("COMMENT ON FUNCTION ab_ztest(bigint, bigint, bigint, bigint, double precision, text) IS"));
        assert!(sql.contains("RETURNS TABLE (\"treatment\" integer,"));
    }

    #[test]
    fn an_aggregate_has_one_overload_per_arity() {
        let sql = functions_sql();
        assert_eq!(sql.matches("CREATE AGGREGATE ab_ttest_agg(").count(), 3);
        assert!(sql.contains("COMMENT ON AGGREGATE ab_ttest_agg(boolean, double precision, double precision, text) IS 'Welch t-test of value, treatment vs control at level alpha against the alternative; rows with NULLs are skipped';"));
        assert_eq!(sql.matches("CREATE AGGREGATE ").count(), 23);
    }
}
