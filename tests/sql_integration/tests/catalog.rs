//! What the catalog says about the extension: every function documented with COMMENT ON,
//! pure functions IMMUTABLE STRICT PARALLEL SAFE, aggregates PARALLEL SAFE with
//! combine/serial/deserial functions.

use sql_integration::connect;
use std::collections::BTreeMap;

const EXTENSION_FUNCTIONS: &str = "
    SELECT p.oid::regprocedure::text AS signature, p.prokind, p.provolatile, p.proisstrict, p.proparallel,
           obj_description(p.oid, 'pg_proc') AS comment, p.prorettype = 'internal'::regtype AS returns_internal,
           'internal'::regtype = ANY(p.proargtypes) AS takes_internal
    FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_ab'";

#[test]
fn every_function_has_a_comment_and_the_right_markings() {
    let mut client = connect();
    let rows = client.query(EXTENSION_FUNCTIONS, &[]).expect("catalog query");
    assert!(rows.len() > 40, "only {} functions found", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let signature: String = row.get("signature");
        let kind: i8 = row.get("prokind");
        let volatility: i8 = row.get("provolatile");
        let strict: bool = row.get("proisstrict");
        let parallel: i8 = row.get("proparallel");
        let comment: Option<String> = row.get("comment");
        let support_function: bool = row.get::<_, bool>("returns_internal") || row.get::<_, bool>("takes_internal");
        if comment.is_none_or(|c| c.trim().is_empty()) {
            failures.push(format!("{signature}: no COMMENT ON"));
        }
        if parallel != b's' as i8 {
            failures.push(format!("{signature}: not PARALLEL SAFE"));
        }
        if kind == b'f' as i8 && !support_function && !(strict && volatility == b'i' as i8) {
            failures.push(format!("{signature}: not IMMUTABLE STRICT"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn aggregates_have_combine_serial_and_deserial_functions() {
    let mut client = connect();
    let rows = client
        .query(
            "SELECT a.aggfnoid::regprocedure::text, a.aggcombinefn::text, a.aggserialfn::text, a.aggdeserialfn::text
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.proname LIKE 'ab\\_%'",
            &[],
        )
        .expect("catalog query");
    assert_eq!(
        rows.len(),
        23,
        "three arities of ab_ztest_agg, ab_ttest_agg, ab_cuped_agg, ab_ratio_agg, ab_ratio_cuped_agg, ab_interaction_agg, ab_seq_ttest_agg; two of ab_msprt_agg"
    );
    for row in &rows {
        for column in 1..4 {
            assert_ne!(row.get::<_, String>(column), "-", "{} lacks a support function", row.get::<_, String>(0));
        }
    }
}

/// Every aggregate the SQL API offers (docs/contract.md §3): its required arguments, the optional trailing
/// ones (each adds an overload, since aggregates take no DEFAULT) and its result type.
const AGGREGATES: &[(&str, &[&str], &[&str], &str)] = &[
    ("ab_ttest_agg", &["boolean", "double precision"], &["double precision", "text"], "ab_ttest_result"),
    ("ab_ztest_agg", &["boolean", "boolean"], &["double precision", "text"], "ab_ztest_result"),
    ("ab_cuped_agg", &["boolean", "double precision", "double precision"], &["double precision", "text"], "ab_cuped_result"),
    ("ab_ratio_agg", &["boolean", "double precision", "double precision"], &["double precision", "text"], "ab_ratio_result"),
    (
        "ab_ratio_cuped_agg",
        &["boolean", "double precision", "double precision", "double precision", "double precision"],
        &["double precision", "text"],
        "ab_ratio_cuped_result",
    ),
    ("ab_interaction_agg", &["boolean", "boolean", "double precision"], &["double precision", "text"], "ab_interaction_result"),
    ("ab_msprt_agg", &["boolean", "double precision", "double precision"], &["double precision"], "ab_sequential_result"),
    ("ab_seq_ttest_agg", &["boolean", "double precision"], &["double precision", "double precision"], "ab_sequential_result"),
];

/// The catalog generated from the extension's table of aggregates: every overload and nothing
/// else, each with its result type, `PARALLEL SAFE`, a comment, a transition function of its
/// own arity, and final, combine, serial and deserial functions that are parallel safe and
/// commented too.
#[test]
fn every_aggregate_overload_is_declared_with_its_support_functions_and_comments() {
    let mut client = connect();
    let rows = client
        .query(
            "SELECT p.proname::text, oidvectortypes(p.proargtypes), p.prorettype::regtype::text, p.proparallel,
                    obj_description(p.oid, 'pg_proc'), a.aggtranstype::regtype::text,
                    f.oid::regprocedure::text, f.proparallel, obj_description(f.oid, 'pg_proc')
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
             CROSS JOIN LATERAL (VALUES (1, a.aggtransfn), (2, a.aggfinalfn), (3, a.aggcombinefn), (4, a.aggserialfn), (5, a.aggdeserialfn))
                 AS support(role, fn)
             LEFT JOIN pg_proc f ON f.oid = support.fn
             WHERE p.proname LIKE 'ab\\_%'
             ORDER BY 1, 2, support.role",
            &[],
        )
        .expect("catalog query");
    let mut expected = BTreeMap::new();
    for (name, required, optional, result) in AGGREGATES {
        for given in 0..=optional.len() {
            let arguments = required.iter().chain(&optional[..given]).copied().collect::<Vec<_>>().join(", ");
            expected.insert(format!("{name}({arguments})"), result.to_string());
        }
    }
    let mut found = BTreeMap::new();
    let mut failures = Vec::new();
    for overload in rows.chunks(5) {
        let (name, arguments, result): (String, String, String) = (overload[0].get(0), overload[0].get(1), overload[0].get(2));
        let signature = format!("{name}({arguments})");
        found.insert(signature.clone(), result);
        if overload[0].get::<_, i8>(3) != b's' as i8 {
            failures.push(format!("{signature}: not PARALLEL SAFE"));
        }
        if overload[0].get::<_, Option<String>>(4).is_none_or(|c| c.trim().is_empty()) {
            failures.push(format!("{signature}: no COMMENT ON AGGREGATE"));
        }
        if overload[0].get::<_, String>(5) != "internal" {
            failures.push(format!("{signature}: state is not internal"));
        }
        let transition = format!("{name}_sfunc(internal,{})", arguments.replace(", ", ","));
        if overload[0].get::<_, Option<String>>(6).as_deref() != Some(transition.as_str()) {
            failures.push(format!("{signature}: transition is not {transition}"));
        }
        for (row, role) in overload.iter().zip(["transition", "final", "combine", "serial", "deserial"]) {
            match row.get::<_, Option<String>>(6) {
                None => failures.push(format!("{signature}: no {role} function")),
                Some(function) => {
                    if row.get::<_, Option<i8>>(7) != Some(b's' as i8) {
                        failures.push(format!("{signature}: {role} function {function} is not PARALLEL SAFE"));
                    }
                    if row.get::<_, Option<String>>(8).is_none_or(|c| c.trim().is_empty()) {
                        failures.push(format!("{signature}: {role} function {function} has no comment"));
                    }
                }
            }
        }
    }
    for (signature, result) in &expected {
        match found.get(signature) {
            None => failures.push(format!("{signature}: missing")),
            Some(other) if other != result => failures.push(format!("{signature}: returns {other}, not {result}")),
            Some(_) => {}
        }
    }
    for signature in found.keys().filter(|signature| !expected.contains_key(*signature)) {
        failures.push(format!("{signature}: not in the SQL API"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Composite results are built from the function's own return type, so they work under any
/// `search_path`, including the empty one pg_restore uses while it refreshes materialized views.
#[test]
fn composite_results_do_not_depend_on_search_path() {
    let mut client = connect();
    client.batch_execute("SET search_path = ''").unwrap();
    let row = client
        .query_one(
            "SELECT (public.ab_ztest(10, 100, 20, 100)).p_value, (public.ab_srm(ARRAY[50, 50]::int8[], ARRAY[1, 1]::float8[])).df,
                    (SELECT (public.ab_ttest_agg(g, x)).df FROM (VALUES (true, 1.0::float8), (true, 2.0), (false, 1.5), (false, 3.0)) v(g, x))",
            &[],
        )
        .unwrap();
    assert!(row.get::<_, f64>(0) > 0.0 && row.get::<_, f64>(0) < 1.0);
    assert_eq!(row.get::<_, i32>(1), 1);
    assert!(row.get::<_, f64>(2) > 0.0);
}
