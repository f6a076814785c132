//! How one declaration per aggregate (the `aggregate_catalog!` table in aggregates.rs) becomes
//! its SQL and its pgrx functions.
//!
//! Postgres aggregates take no `DEFAULT`s, so an aggregate with optional trailing arguments is
//! one `CREATE AGGREGATE` per arity, each with a transition function of that arity. From a
//! declaration the macro makes every transition function pgrx builds (those of hot_paths.rs are
//! declared, not made), the final function, and the combine, serial and deserial functions of
//! each state; [`render`] writes, at compile time, every overload's `CREATE AGGREGATE` and the
//! comments on the aggregates and all their support functions.

use pgrx::pgrx_sql_entity_graph::section;

/// An argument as SQL declares it.
pub struct Arg {
    pub name: &'static str,
    pub sql_type: &'static str,
}

/// A trailing argument that may be left out, and what it adds to the aggregate's comment.
pub struct Optional {
    pub arg: Arg,
    pub phrase: &'static str,
}

/// The functions that let Postgres run a state in parallel workers and merge the partials.
#[derive(Clone, Copy)]
pub struct Support {
    pub combine: &'static str,
    pub serialize: &'static str,
    pub deserialize: &'static str,
    /// The aggregates that keep this state, for the comments.
    pub users: &'static str,
}

/// A state that has parallel support functions (implemented by `aggregate_catalog!`).
pub trait Parallel {
    const SUPPORT: Support;
}

pub struct Aggregate {
    pub name: &'static str,
    pub required: &'static [Arg],
    pub optional: &'static [Optional],
    pub transition: &'static str,
    /// The C symbol of the transition function of the shortest form when it is written by hand
    /// (hot_paths.rs) rather than made by pgrx; it is declared here.
    pub hot_path: Option<&'static str>,
    pub final_function: &'static str,
    pub support: Support,
    /// What it computes; the phrases of the optional arguments given and a note on NULLs follow.
    pub comment: &'static str,
}

/// The SQL spelling of an argument's Rust type.
pub trait SqlType {
    const SQL: &'static str;
}

impl SqlType for bool {
    const SQL: &'static str = "boolean";
}

impl SqlType for f64 {
    const SQL: &'static str = "float8";
}

impl SqlType for &str {
    const SQL: &'static str = "text";
}

/// SQL text built at compile time: with `N == 0` it only counts the bytes, so that a second
/// pass can write them into a buffer of exactly that size.
pub struct SqlText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> SqlText<N> {
    const fn new() -> Self {
        Self { bytes: [0; N], len: 0 }
    }

    const fn byte(&mut self, byte: u8) {
        if N > 0 {
            self.bytes[self.len] = byte;
        }
        self.len += 1;
    }

    const fn push(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i += 1;
        }
    }

    const fn push_all(&mut self, texts: &[&str]) {
        let mut i = 0;
        while i < texts.len() {
            self.push(texts[i]);
            i += 1;
        }
    }

    /// `text` as the inside of a SQL string literal.
    const fn push_quoted(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                self.byte(b'\'');
            }
            self.byte(bytes[i]);
            i += 1;
        }
    }

    pub const fn byte_count(&self) -> usize {
        self.len
    }

    pub const fn as_str(&self) -> &str {
        match core::str::from_utf8(&self.bytes) {
            Ok(text) => text,
            Err(_) => panic!("generated SQL is not UTF-8"),
        }
    }

    /// `(name type, …)` of the first `arity` arguments, or `(type, …)` when `names` is false;
    /// `internal` first for a transition function.
    const fn signature(&mut self, aggregate: &Aggregate, arity: usize, names: bool, internal: bool) {
        self.push("(");
        if internal {
            self.push("internal, ");
        }
        let mut i = 0;
        while i < arity {
            if i > 0 {
                self.push(", ");
            }
            let arg = argument(aggregate, i);
            if names {
                self.push(arg.name);
                self.push(" ");
            }
            self.push(arg.sql_type);
            i += 1;
        }
        self.push(")");
    }

    const fn comment_on_function(&mut self, function: &str, arguments: &str, role: &str, of: &str, note: &str) {
        self.push_all(&["COMMENT ON FUNCTION ", function, arguments, " IS '"]);
        self.push_quoted(role);
        self.push(" function of ");
        self.push_quoted(of);
        self.push_quoted(note);
        self.push("';\n");
    }

    const fn aggregate(&mut self, aggregate: &Aggregate) {
        let shortest = aggregate.required.len();
        if let Some(symbol) = aggregate.hot_path {
            self.push_all(&["CREATE FUNCTION ", aggregate.transition]);
            self.signature(aggregate, shortest, false, true);
            self.push_all(&[" RETURNS internal\n    IMMUTABLE PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', '", symbol, "';\n"]);
        }
        let support = &aggregate.support;
        let mut arity = shortest;
        while arity <= shortest + aggregate.optional.len() {
            self.push_all(&["CREATE AGGREGATE ", aggregate.name]);
            self.signature(aggregate, arity, true, false);
            self.push_all(&[
                " (\n    SFUNC = ", aggregate.transition, ", STYPE = internal, FINALFUNC = ", aggregate.final_function,
                ",\n    COMBINEFUNC = ", support.combine, ", SERIALFUNC = ", support.serialize,
                ", DESERIALFUNC = ", support.deserialize, ",\n    PARALLEL = SAFE\n);\nCOMMENT ON AGGREGATE ", aggregate.name,
            ]);
            self.signature(aggregate, arity, false, false);
            self.push(" IS '");
            self.push_quoted(aggregate.comment);
            let mut given = shortest;
            while given < arity {
                self.push_quoted(aggregate.optional[given - shortest].phrase);
                given += 1;
            }
            self.push_all(&["; rows with NULLs are skipped';\nCOMMENT ON FUNCTION ", aggregate.transition]);
            self.signature(aggregate, arity, false, true);
            self.push_all(&[" IS 'Transition function of ", aggregate.name, "';\n"]);
            arity += 1;
        }
        self.comment_on_function(aggregate.final_function, "(internal)", "Final", aggregate.name, "");
    }

    const fn support(&mut self, support: &Support) {
        const PARALLEL: &str = " (parallel aggregation)";
        self.comment_on_function(support.combine, "(internal, internal)", "Combine", support.users, PARALLEL);
        self.comment_on_function(support.serialize, "(internal)", "Serial", support.users, PARALLEL);
        self.comment_on_function(support.deserialize, "(bytea, internal)", "Deserial", support.users, PARALLEL);
    }
}

const fn argument(aggregate: &Aggregate, i: usize) -> &Arg {
    if i < aggregate.required.len() {
        &aggregate.required[i]
    } else {
        &aggregate.optional[i - aggregate.required.len()].arg
    }
}

/// `before`, the SQL of the aggregates and of the support functions of their states, `after`.
/// Call it with `N == 0` for the length, then with that length.
pub const fn render<const N: usize>(before: &str, aggregates: &[Aggregate], states: &[Support], after: &str) -> SqlText<N> {
    let mut sql = SqlText::new();
    sql.push(before);
    let mut i = 0;
    while i < aggregates.len() {
        sql.aggregate(&aggregates[i]);
        i += 1;
    }
    let mut i = 0;
    while i < states.len() {
        sql.support(&states[i]);
        i += 1;
    }
    sql.push(after);
    sql
}

/// Where an entry was declared, as pgrx records it: module path, `file:line`, file, line.
pub struct Location {
    pub module_path: &'static str,
    pub file_line: &'static str,
    pub file: &'static str,
    pub line: u32,
}

const fn payload_len(sql: &str, name: &str, at: &Location) -> usize {
    section::u8_len()
        + section::str_len(sql)
        + section::str_len(at.module_path)
        + section::str_len(at.file_line)
        + section::str_len(at.file)
        + section::u32_len()
        + section::str_len(name)
        + section::bool_len()
        + section::bool_len()
        + section::list_len(&[])
        + section::list_len(&[])
}

pub const fn entry_len(sql: &str, name: &str, at: &Location) -> usize {
    section::u32_len() + payload_len(sql, name, at)
}

/// The bytes `extension_sql!(sql, name = name, finalize)` puts in the schema section.
pub const fn finalize_entry<const LEN: usize>(sql: &str, name: &str, at: &Location) -> [u8; LEN] {
    section::EntryWriter::<LEN>::new()
        .u32(payload_len(sql, name, at) as u32)
        .u8(section::ENTITY_CUSTOM_SQL)
        .str(sql)
        .str(at.module_path)
        .str(at.file_line)
        .str(at.file)
        .u32(at.line)
        .str(name)
        .bool(false)
        .bool(true)
        .u32(0)
        .u32(0)
        .finish()
}

/// `extension_sql!(sql, name = name, finalize)` for SQL that is a constant expression rather
/// than a literal, which is all `extension_sql!` accepts. It writes the entry as pgrx 0.18's
/// `ExtensionSql::to_entity_graph_tokens` does (pgrx is pinned to that version).
macro_rules! extension_sql_finalize {
    ($entry:ident, name = $name:literal, $sql:expr) => {
        const FINALIZE_AT: $crate::aggregate_catalog::Location = $crate::aggregate_catalog::Location {
            module_path: module_path!(),
            file_line: concat!(file!(), ':', line!()),
            file: file!(),
            line: line!(),
        };
        const FINALIZE_LEN: usize = $crate::aggregate_catalog::entry_len($sql, $name, &FINALIZE_AT);
        ::pgrx::pgrx_sql_entity_graph::__pgrx_schema_entry!(
            $entry,
            FINALIZE_LEN,
            $crate::aggregate_catalog::finalize_entry::<FINALIZE_LEN>($sql, $name, &FINALIZE_AT)
        );
    };
}

pub(crate) use extension_sql_finalize;

/// The table of aggregates: for each state, its combine, serial and deserial functions; for
/// each aggregate, one entry that gives every overload. See aggregates.rs for the layout.
macro_rules! aggregate_catalog {
    (
        $(state $state:ty => $combine:ident, $serialize:ident, $deserialize:ident, for $users:literal;)*
        $(
            #[doc = $comment:literal]
            $name:ident($($arg:ident: $arg_type:ty),+ $(; $($optional:ident: $optional_type:ty = $default:expr $(=> $phrase:literal)?),+)?)
                returns $result:tt from $final:ident($test:expr),
                keeps $agg_state:ty, adds rows with $push:ident in $transition:tt: $($transitions:tt),+;
        )*
    ) => {
        $(
            impl $crate::aggregate_catalog::Parallel for $state {
                const SUPPORT: $crate::aggregate_catalog::Support = $crate::aggregate_catalog::Support {
                    combine: stringify!($combine),
                    serialize: stringify!($serialize),
                    deserialize: stringify!($deserialize),
                    users: $users,
                };
            }

            #[pg_extern(immutable, parallel_safe)]
            fn $combine(left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
                combine::<$state>(left, right, fcinfo)
            }

            #[pg_extern(immutable, strict, parallel_safe)]
            fn $serialize(state: Internal) -> Vec<u8> {
                serialize::<$state>(state)
            }

            #[pg_extern(immutable, strict, parallel_safe)]
            fn $deserialize(bytes: &[u8], _unused: Internal) -> Internal {
                deserialize::<$state>(bytes)
            }
        )*

        $(
            aggregate_catalog!(@transitions $agg_state, $transition, $push, [$($arg: $arg_type),+],
                [$($([$optional: $optional_type = $default])+)?], [$($transitions)+]);

            #[pg_extern(immutable, parallel_safe)]
            fn $final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, $result)> {
                state_ref::<$agg_state>(&state).and_then($test).map(|r| record($result, fcinfo, &r))
            }
        )*

        /// Every aggregate of the extension, in the order of the SQL.
        pub(crate) const AGGREGATES: &[$crate::aggregate_catalog::Aggregate] = &[$(
            $crate::aggregate_catalog::Aggregate {
                name: stringify!($name),
                required: &[$($crate::aggregate_catalog::Arg {
                    name: stringify!($arg),
                    sql_type: <$arg_type as $crate::aggregate_catalog::SqlType>::SQL,
                }),+],
                optional: &[$($($crate::aggregate_catalog::Optional {
                    arg: $crate::aggregate_catalog::Arg {
                        name: stringify!($optional),
                        sql_type: <$optional_type as $crate::aggregate_catalog::SqlType>::SQL,
                    },
                    phrase: concat!("" $(, $phrase)?),
                }),+)?],
                transition: $transition,
                hot_path: aggregate_catalog!(@hot_path $($transitions)+),
                final_function: stringify!($final),
                support: <$agg_state as $crate::aggregate_catalog::Parallel>::SUPPORT,
                comment: $comment.trim_ascii_start(),
            }
        ),*];

        /// The states whose support functions are declared above.
        pub(crate) const STATES: &[$crate::aggregate_catalog::Support] =
            &[$(<$state as $crate::aggregate_catalog::Parallel>::SUPPORT),*];
    };

    (@hot_path (hot $symbol:literal) $($more:tt)*) => { Some($symbol) };
    (@hot_path $function:ident $($more:tt)*) => { None };

    // The transition function of each overload, shortest first: the arguments given, the
    // defaults of those left out. One written by hand (hot_paths.rs) is only declared.
    (@transitions $state:ty, $transition:tt, $push:ident, $given:tt, $rest:tt, [(hot $symbol:literal) $($more:tt)*]) => {
        aggregate_catalog!(@next $state, $transition, $push, $given, $rest, [$($more)*]);
    };
    (@transitions $state:ty, $transition:tt, $push:ident, [$($given:ident: $given_type:ty),+],
        [$([$rest:ident: $rest_type:ty = $default:expr])*], [$function:ident $($more:tt)*]) => {
        #[pg_extern(immutable, parallel_safe, name = $transition)]
        #[allow(clippy::too_many_arguments)]
        fn $function(mut state: Internal, $($given: Option<$given_type>,)+ fcinfo: FunctionCallInfo) -> Internal {
            if let ($(Some($given),)+) = ($($given,)+) {
                $push(state_mut::<$state>(&mut state, fcinfo), $($given,)+ $($default,)*);
            }
            state
        }
        aggregate_catalog!(@next $state, $transition, $push, [$($given: $given_type),+],
            [$([$rest: $rest_type = $default])*], [$($more)*]);
    };

    (@next $state:ty, $transition:tt, $push:ident, $given:tt, [], []) => {};
    (@next $state:ty, $transition:tt, $push:ident, [$($given:ident: $given_type:ty),+],
        [[$next:ident: $next_type:ty = $default:expr] $($rest:tt)*], $functions:tt) => {
        aggregate_catalog!(@transitions $state, $transition, $push,
            [$($given: $given_type,)+ $next: $next_type], [$($rest)*], $functions);
    };
}

pub(crate) use aggregate_catalog;
