//! The SQL surface of pg_ab, declared once: every function, table function and aggregate
//! with its arguments, SQL types and defaults, its result columns, its description and one
//! example, and (for the row and table functions) the `ab_core` call behind it. The
//! Postgres extension renders its `CREATE TYPE`, `CREATE FUNCTION`, `CREATE AGGREGATE` and
//! `COMMENT ON` from here ([`postgres`]) and calls [`Overload::body`] through one generic
//! adapter; `datafusion_udfs` builds its UDFs, signatures and documentation from here; the
//! reference `docs/functions.md` is generated from here ([`reference`]).
//!
//! Every function here is `IMMUTABLE STRICT PARALLEL SAFE` in Postgres: a statistic is a pure
//! function of its arguments, and a NULL argument gives NULL (docs/contract.md §4). Adding a
//! row function is one entry in [`functions`] plus the `ab_core` function it calls.

mod aggregates;
mod functions;
pub mod postgres;
pub mod reference;

pub use aggregates::AGGREGATES;
pub use functions::FUNCTIONS;

use crate::records::{FieldKind, FieldValue, Record, ResultRecord};
use crate::Result;

/// The release this catalog describes: the extension's version (pg_extension/build.rs checks
/// it), installed fresh from [`postgres::functions_sql`] or reached from [`PREVIOUS_RELEASE`] by
/// the generated `pg_extension/sql/pg_ab--0.2.0--0.3.0.sql` ([`postgres::upgrade_sql`]).
pub const RELEASE: &str = "0.3.0";
pub const PREVIOUS_RELEASE: &str = "0.2.0";

/// The SQL type of an argument or of a scalar result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Float8,
    Int4,
    Int8,
    Bool,
    Text,
    Float8Array,
    Int8Array,
    TextArray,
}

impl SqlType {
    /// The name Postgres' `format_type` gives it, so rendered SQL, `\df` and the reference agree.
    pub const fn sql(self) -> &'static str {
        match self {
            Self::Float8 => "double precision",
            Self::Int4 => "integer",
            Self::Int8 => "bigint",
            Self::Bool => "boolean",
            Self::Text => "text",
            Self::Float8Array => "double precision[]",
            Self::Int8Array => "bigint[]",
            Self::TextArray => "text[]",
        }
    }
}

impl FieldKind {
    pub const fn sql_type(self) -> SqlType {
        match self {
            Self::Float => SqlType::Float8,
            Self::Bool => SqlType::Bool,
            Self::Int => SqlType::Int4,
            Self::BigInt => SqlType::Int8,
        }
    }
}

/// The value an argument takes when a call leaves it out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Float(f64),
    Int(i64),
    Bool(bool),
    Text(&'static str),
}

impl DefaultValue {
    /// As a SQL literal. Floats keep their decimal point (`1.0`, not `1`): Postgres keeps a
    /// default as written, and `\df` shows it so.
    pub fn sql(&self) -> String {
        match self {
            Self::Float(value) => format!("{value:?}"),
            Self::Int(value) => value.to_string(),
            Self::Bool(value) => value.to_string(),
            Self::Text(value) => format!("'{}'", value.replace('\'', "''")),
        }
    }
}

/// An argument: its name, SQL type and, for a trailing optional one, its default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub ty: SqlType,
    pub default: Option<DefaultValue>,
}

pub const fn required(name: &'static str, ty: SqlType) -> Param {
    Param { name, ty, default: None }
}

pub const fn optional(name: &'static str, ty: SqlType, default: DefaultValue) -> Param {
    Param { name, ty, default: Some(default) }
}


/// What a function returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Returns {
    Scalar(SqlType),
    /// One value of a composite type.
    Record(&'static Record),
    /// Zero or more rows (`RETURNS TABLE`).
    Table(&'static Record),
}

/// The arguments of one call, as the engine holds them; `i` is the argument's position. The
/// engines call a body only when no argument is NULL (STRICT).
pub trait Args {
    fn float(&self, i: usize) -> f64;
    fn int(&self, i: usize) -> i64;
    fn int32(&self, i: usize) -> i32;
    fn bool(&self, i: usize) -> bool;
    fn text(&self, i: usize) -> &str;
    /// An array argument's elements; a NULL element is bad input, named by its argument.
    fn floats(&self, i: usize) -> Result<Vec<f64>>;
    fn ints(&self, i: usize) -> Result<Vec<i64>>;
    fn texts(&self, i: usize) -> Result<Vec<String>>;
}

/// The elements of an array argument; a NULL element is bad input, not a crash.
pub fn without_nulls<T>(argument: &'static str, values: impl IntoIterator<Item = Option<T>>) -> Result<Vec<T>> {
    values.into_iter().map(|v| v.ok_or_else(|| crate::InvalidArgument::new(argument, "must not contain NULL"))).collect()
}

/// What a call returns, of the overload's [`Returns`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Float(f64),
    Int32(i32),
    Int64(i64),
    Bool(bool),
    Text(String),
    Floats(Vec<f64>),
    /// A composite value's fields, in the record's order.
    Record(Vec<FieldValue>),
    /// A table function's rows.
    Rows(Vec<Vec<FieldValue>>),
}

impl Value {
    pub fn record<R: ResultRecord>(record: &R) -> Self {
        Self::Record(record.values())
    }

    /// NULL for `None`.
    pub fn maybe_record<R: ResultRecord>(record: Option<R>) -> Self {
        record.map_or(Self::Null, |r| Self::record(&r))
    }

    pub fn maybe_float(value: Option<f64>) -> Self {
        value.map_or(Self::Null, Self::Float)
    }
}

pub type Body = fn(&dyn Args) -> Result<Value>;

/// Where Postgres finds an overload's C function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// The extension's generic adapter, exported under this name. New functions take
    /// `<name>_wrapper`, the name pgrx gave 0.2.0's, which older upgrade scripts look up.
    Adapter(&'static str),
    /// Written by hand in the extension for speed (pg_extension/src/hot_paths.rs).
    HandWritten(&'static str),
}

impl Symbol {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Adapter(name) | Self::HandWritten(name) => name,
        }
    }
}

/// One signature of a function (`ab_assign` has two).
#[derive(Debug)]
pub struct Overload {
    pub params: &'static [Param],
    pub returns: Returns,
    /// The SQL comment: what it computes, in one sentence.
    pub comment: &'static str,
    pub symbol: Symbol,
    pub body: Body,
}

impl Overload {
    /// How many leading arguments a call must give.
    pub fn required(&self) -> usize {
        self.params.iter().take_while(|p| p.default.is_none()).count()
    }
}

/// A row or table function.
#[derive(Debug)]
pub struct Function {
    pub name: &'static str,
    pub added_in: Option<&'static str>,
    pub overloads: &'static [Overload],
    /// A call with constant arguments, for the reference and the engines' parity test.
    pub example: &'static str,
}

impl Function {
    /// The overload a call of `count` arguments means: overloads differ in how many they take
    /// (`ab_assign`), and trailing ones with defaults may be left out.
    pub fn overload_taking(&self, count: usize) -> Option<&'static Overload> {
        self.overloads.iter().find(|o| (o.required()..=o.params.len()).contains(&count))
    }

    /// The description of the whole function: its overloads' comments.
    pub fn description(&self) -> String {
        self.overloads.iter().map(|o| o.comment).collect::<Vec<_>>().join("; or ")
    }
}

/// The parallel support functions of an aggregate state, shared by the aggregates that keep it.
#[derive(Debug, PartialEq)]
pub struct AggregateState {
    pub combine: &'static str,
    pub serialize: &'static str,
    pub deserialize: &'static str,
    /// The aggregates that keep this state, for the comments.
    pub users: &'static str,
}

/// A trailing argument of an aggregate that may be left out, and what it adds to the comment.
/// Postgres aggregates take no `DEFAULT`s, so each arity is an overload of its own.
#[derive(Debug, PartialEq)]
pub struct OptionalArg {
    pub param: Param,
    pub phrase: &'static str,
}

/// An aggregate over rows of (arm, metric…), with one overload per number of optional
/// arguments given. Its state's Rust code is in each engine (pg_extension/src/aggregates.rs,
/// datafusion_udfs/src/aggregates.rs); its SQL is rendered from here.
#[derive(Debug)]
pub struct Aggregate {
    pub name: &'static str,
    pub added_in: Option<&'static str>,
    pub required: &'static [Param],
    pub optional: &'static [OptionalArg],
    pub returns: &'static Record,
    /// What it computes; the phrases of the optional arguments given and a note on NULLs follow.
    pub comment: &'static str,
    /// A call over the columns of the reference's example table `users` (docs/functions.md).
    pub example: &'static str,
    /// The SQL name of the transition function (one overload per arity).
    pub transition: &'static str,
    /// The C symbol of the shortest form's transition function when it is written by hand.
    pub hand_written_transition: Option<&'static str>,
    pub final_function: &'static str,
    pub state: &'static AggregateState,
}

impl Aggregate {
    /// The first `arity` arguments.
    pub fn params(&self, arity: usize) -> Vec<Param> {
        self.required.iter().copied().chain(self.optional.iter().map(|o| o.param)).take(arity).collect()
    }

    /// Every arity, shortest first.
    pub fn arities(&self) -> std::ops::RangeInclusive<usize> {
        self.required.len()..=self.required.len() + self.optional.len()
    }

    /// The comment of the overload of this arity.
    pub fn comment_at(&self, arity: usize) -> String {
        let phrases: String = self.optional.iter().take(arity - self.required.len()).map(|o| o.phrase).collect();
        format!("{}{phrases}; rows with NULLs are skipped", self.comment)
    }
}

/// The row or table function of that name.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The aggregate of that name.
pub fn aggregate(name: &str) -> Option<&'static Aggregate> {
    AGGREGATES.iter().find(|a| a.name == name)
}

/// The aggregates' states, each once, in the order of first use.
pub fn aggregate_states() -> Vec<&'static AggregateState> {
    let mut states: Vec<&'static AggregateState> = Vec::new();
    for aggregate in AGGREGATES {
        if !states.iter().any(|s| std::ptr::eq(*s, aggregate.state)) {
            states.push(aggregate.state);
        }
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_overloads_differ_in_their_types() {
        let mut names = HashSet::new();
        for name in FUNCTIONS.iter().map(|f| f.name).chain(AGGREGATES.iter().map(|a| a.name)) {
            assert!(names.insert(name), "{name} is declared twice");
        }
        let mut symbols = HashSet::new();
        for function in FUNCTIONS {
            let signatures: HashSet<Vec<SqlType>> =
                function.overloads.iter().map(|o| o.params.iter().map(|p| p.ty).collect()).collect();
            assert_eq!(signatures.len(), function.overloads.len(), "{}: two overloads take the same types", function.name);
            for overload in function.overloads {
                assert!(symbols.insert(overload.symbol.name()), "{}: its C symbol is used twice", function.name);
            }
        }
    }

    #[test]
    fn defaults_trail_and_every_record_field_is_named_once() {
        for function in FUNCTIONS {
            for overload in function.overloads {
                let required = overload.required();
                assert!(overload.params[required..].iter().all(|p| p.default.is_some()), "{}: a default before a required argument", function.name);
            }
        }
        for record in crate::records::RECORDS {
            let names: HashSet<_> = record.fields.iter().map(|(name, _)| name).collect();
            assert_eq!(names.len(), record.fields.len(), "{}: a field is named twice", record.name);
        }
    }

    #[test]
    fn float_defaults_keep_their_decimal_point_and_text_is_quoted() {
        assert_eq!(DefaultValue::Float(1.0).sql(), "1.0");
        assert_eq!(DefaultValue::Float(0.05).sql(), "0.05");
        assert_eq!(DefaultValue::Text("it's").sql(), "'it''s'");
    }
}
