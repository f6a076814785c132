//! How the table in aggregates.rs becomes the pgrx functions behind each aggregate the
//! catalog declares (`ab_core::catalog`, which renders their `CREATE AGGREGATE` and comments).
//!
//! Postgres aggregates take no `DEFAULT`s, so an aggregate with optional trailing arguments is
//! one `CREATE AGGREGATE` per arity, each with a transition function of that arity. From a row
//! of the table the macro makes every transition function pgrx builds (those of hot_paths.rs are
//! declared by the catalog's SQL), the final function, and the combine, serial and deserial
//! functions of each state.

/// The table of aggregates: for each state, its combine, serial and deserial functions; for
/// each aggregate, one entry that gives every overload. See aggregates.rs for the layout.
macro_rules! aggregate_catalog {
    (
        $(state $state:ty => $combine:ident, $serialize:ident, $deserialize:ident;)*
        $(
            aggregate $name:ident($($arg:ident: $arg_type:ty),+ $(; $($optional:ident: $optional_type:ty = $default:expr),+)?)
                returns $result:tt from $final:ident($test:expr),
                keeps $agg_state:ty, adds rows with $push:ident in $transition:tt: $($transitions:tt),+;
        )*
    ) => {
        $(
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
                state_ref::<$agg_state>(&state).and_then($test).map(|r| record(fcinfo, &r))
            }
        )*
    };

    // The transition function of each overload, shortest first: the arguments given, the
    // defaults of those left out. `hot`: written by hand (hot_paths.rs), declared by the catalog's SQL.
    (@transitions $state:ty, $transition:tt, $push:ident, $given:tt, $rest:tt, [hot $($more:tt)*]) => {
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
