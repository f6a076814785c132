//! What the catalog says about the extension: every function documented with COMMENT ON,
//! pure functions IMMUTABLE STRICT PARALLEL SAFE, aggregates PARALLEL SAFE with
//! combine/serial/deserial functions.

use sql_integration::connect;

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
