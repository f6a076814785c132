//! The aggregates run in parallel plans (Partial Aggregate in workers, combined through the
//! serialize/deserialize/combine functions) and give the serial answer.

use postgres::Client;
use sql_integration::connect;

const SETUP: &str = "
    DROP TABLE IF EXISTS parallel_metrics;
    CREATE TABLE parallel_metrics AS
    SELECT g % 3 AS experiment,
           hashint4(g) % 2 = 0 AS is_treatment,
           1e9 + (hashint4(g * 7) % 1000) / 8.0 + (g % 2) * 0.25 AS revenue,
           (hashint4(g * 13) % 1000) / 8.0 AS covariate,
           hashint4(g * 17) % 10 = 0 AS converted,
           1 + abs(hashint4(g * 23) % 5) AS sessions,
           hashint4(g * 29) % 2 = 0 AS b_is_treatment
    FROM generate_series(1, 300000) g;
    ANALYZE parallel_metrics;";

const QUERIES: &[&str] = &[
    "SELECT experiment, (ab_ttest_agg(is_treatment, revenue)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT experiment, (ab_ztest_agg(is_treatment, converted, 0.01, 'larger')).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT experiment, (ab_cuped_agg(is_treatment, revenue, covariate)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT (ab_ttest_agg(is_treatment, revenue, 0.1)).* FROM parallel_metrics",
    "SELECT experiment, (ab_ratio_agg(is_treatment, revenue, sessions)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT experiment, (ab_ratio_cuped_agg(is_treatment, revenue, sessions, covariate, 1 + sessions % 3)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT experiment, (ab_interaction_agg(is_treatment, b_is_treatment, revenue)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT experiment, (ab_msprt_agg(is_treatment, covariate, 4.0)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
    "SELECT experiment, (ab_seq_ttest_agg(is_treatment, revenue, 0.05, 1000)).* FROM parallel_metrics GROUP BY 1 ORDER BY 1",
];

fn force_parallel(client: &mut Client, on: bool) {
    let settings = if on {
        "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
         SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;"
    } else {
        "SET max_parallel_workers_per_gather = 0;"
    };
    client.batch_execute(settings).expect("settings");
}

fn rows_as_floats(client: &mut Client, sql: &str) -> Vec<Vec<Option<f64>>> {
    client
        .query(sql, &[])
        .expect(sql)
        .iter()
        .map(|row| {
            (0..row.len())
                .map(|i| match row.columns()[i].type_().name() {
                    "float8" => row.get::<_, Option<f64>>(i),
                    "bool" => row.get::<_, Option<bool>>(i).map(f64::from),
                    "int8" => row.get::<_, Option<i64>>(i).map(|v| v as f64),
                    _ => row.get::<_, Option<i32>>(i).map(f64::from),
                })
                .collect()
        })
        .collect()
}

#[test]
fn parallel_plans_use_partial_aggregates_and_match_serial_answers() {
    let mut client = connect();
    client.batch_execute(SETUP).expect("setup");
    for sql in QUERIES {
        force_parallel(&mut client, true);
        let plan: Vec<String> = client
            .query(&format!("EXPLAIN (ANALYZE, COSTS OFF) {sql}"), &[])
            .expect("explain")
            .iter()
            .map(|row| row.get(0))
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("Partial") && plan.contains("Aggregate"), "no partial aggregate for {sql}:\n{plan}");
        assert!(plan.contains("Workers Launched: 2"), "workers did not run for {sql}:\n{plan}");
        let parallel = rows_as_floats(&mut client, sql);

        force_parallel(&mut client, false);
        let serial = rows_as_floats(&mut client, sql);
        assert_eq!(parallel.len(), serial.len());
        for (p_row, s_row) in parallel.iter().zip(&serial) {
            for (p, s) in p_row.iter().zip(s_row) {
                // Partial states merge in a different order than one pass adds rows, so the last
                // bits may differ; the answer must agree to docs/contract.md §3's accuracy.
                let agree = match (p, s) {
                    (Some(p), Some(s)) => p == s || (p - s).abs() <= 1e-9 * s.abs(),
                    (None, None) => true,
                    _ => false,
                };
                assert!(agree, "{sql}: parallel {p_row:?} vs serial {s_row:?}");
            }
        }
    }
}
