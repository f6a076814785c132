//! Same answers, distributed: a scheduler and two executors (separate processes) run every
//! pg_ab aggregate and scalar function over a split Parquet dataset, and each figure equals
//! single-node `ab-sql` and Postgres with the extension to 1e-12 relative. Values offset by 1e9
//! make a naive merge of partial states (raw sums of squares) fail. The scheduler's job and
//! stage information, and the executors' shuffle files, show the partial states crossing a
//! shuffle between the two executors.

mod support;

use ab_core::catalog::Returns;
use serde_json::Value;
use sql_integration::{connect, load_example};
use std::collections::BTreeSet;
use support::{ab_sql, differences, numbers_in, worst_distance, write_dataset, Cluster, EXPERIMENTS, SEED, TOLERANCE, USERS};

/// A query as ab-sql runs it (table `users`), and as Postgres does where the SQL differs.
struct Query<'a> {
    name: &'a str,
    datafusion: &'a str,
    postgres: Option<&'a str>,
}

/// Every row function of the catalog at its example (constant arguments), so that a function
/// added to the catalog runs on the cluster without a line here.
fn catalog_examples() -> String {
    let columns: Vec<String> = ab_core::catalog::FUNCTIONS
        .iter()
        .filter(|f| f.overloads.iter().all(|o| !matches!(o.returns, Returns::Table(_))))
        .map(|f| format!("{} AS {}", f.example, f.name))
        .collect();
    format!("SELECT {}", columns.join(", "))
}

/// One scan: every aggregate, on values offset by 1e9. The ratio metrics offset their
/// denominators: an offset numerator over a small denominator makes the treatment-control
/// difference of two ~1e8 ratios cancel (the data's conditioning, not the merge's). The
/// interaction's second factor is `converted`, so its contrast is not a near-zero difference.
const AGGREGATES: &str = "SELECT experiment,
    ab_ttest_agg(variant = 'treatment', revenue + 1e9) AS ttest,
    ab_ztest_agg(variant = 'treatment', converted) AS ztest,
    ab_cuped_agg(variant = 'treatment', revenue + 1e9, pre_revenue + 1e9) AS cuped,
    ab_ratio_agg(variant = 'treatment', revenue, pre_revenue + 1e9) AS ratio,
    ab_ratio_cuped_agg(variant = 'treatment', revenue, pre_revenue + 1e9, pre_revenue, revenue + 1e9) AS ratio_cuped,
    ab_interaction_agg(variant = 'treatment', converted, revenue + 1e9) AS interaction,
    ab_msprt_agg(variant = 'treatment', revenue + 1e9, 100.0) AS msprt,
    ab_seq_ttest_agg(variant = 'treatment', revenue + 1e9) AS seq_ttest
  FROM users GROUP BY experiment ORDER BY experiment";

const QUERIES: &[Query<'static>] = &[
    Query { name: "aggregates", datafusion: AGGREGATES, postgres: None },
    Query {
        name: "per-row functions",
        datafusion: "SELECT experiment,
            sum(ab_hash(user_id, 'h')) AS hash,
            sum(ab_bucket(user_id, 'b')) AS bucket,
            sum(CASE WHEN ab_in_sample(user_id, 's', 0.3) THEN 1 ELSE 0 END) AS in_sample,
            sum(CASE WHEN ab_in_layer(user_id, 'layer', 0.2, 0.5) THEN 1 ELSE 0 END) AS in_layer,
            sum(ab_assign(user_id, 'a', ARRAY[0.2, 0.3, 0.5])) AS assign_index,
            sum(CASE WHEN ab_assign(user_id, 'a', ARRAY['x', 'y', 'z'], ARRAY[0.2, 0.3, 0.5]) = 'z' THEN 1 ELSE 0 END) AS assign_z,
            sum(ab_hash_growthbook(user_id, 'seed', 2)) AS growthbook,
            sum(ab_bucket_unleash(user_id, 'group')) AS unleash,
            sum(ab_bucket_statsig(user_id, 'salt')) AS statsig,
            sum(ab_bucket_optimizely(user_id, '1886780721')) AS optimizely,
            sum(ab_shard_eppo(user_id, 'salt')) AS eppo,
            sum(ab_winsorize(revenue, 1.0, 50.0)) AS winsorized
          FROM users GROUP BY experiment ORDER BY experiment",
        postgres: None,
    },
    Query {
        name: "functions of per-experiment summaries",
        datafusion: "WITH s AS (
            SELECT experiment,
              count(*) FILTER (WHERE variant = 'control') AS n_c,
              count(*) FILTER (WHERE variant = 'treatment') AS n_t,
              count(*) FILTER (WHERE variant = 'control' AND converted) AS x_c,
              count(*) FILTER (WHERE variant = 'treatment' AND converted) AS x_t,
              avg(revenue) FILTER (WHERE variant = 'control') AS mean_c,
              avg(revenue) FILTER (WHERE variant = 'treatment') AS mean_t,
              stddev_samp(revenue) FILTER (WHERE variant = 'control') AS sd_c,
              stddev_samp(revenue) FILTER (WHERE variant = 'treatment') AS sd_t
            FROM users GROUP BY experiment)
          SELECT experiment,
            ab_ztest(x_c, n_c, x_t, n_t) AS ztest,
            ab_ttest(mean_c, sd_c, n_c, mean_t, sd_t, n_t) AS ttest,
            ab_bayes_prop(x_c, n_c, x_t, n_t) AS bayes_prop,
            ab_bayes_mean(mean_c, sd_c, n_c, mean_t, sd_t, n_t) AS bayes_mean,
            ab_msprt(mean_t - mean_c, sd_c * sd_c / n_c + sd_t * sd_t / n_t, 1.0) AS msprt,
            ab_sample_size_prop(CAST(x_c AS DOUBLE PRECISION) / n_c, 0.05) AS sample_size_prop,
            ab_sample_size_mean(sd_c, 1.0) AS sample_size_mean,
            ab_power_prop(CAST(x_c AS DOUBLE PRECISION) / n_c, 0.05, n_c) AS power_prop,
            ab_power_mean(sd_c, 1.0, n_c) AS power_mean,
            ab_mde_prop(CAST(x_c AS DOUBLE PRECISION) / n_c, n_c) AS mde_prop,
            ab_mde_mean(sd_c, n_c) AS mde_mean,
            ab_duration_days(n_c, 2, 10000.0) AS duration_days,
            ab_srm(ARRAY[n_c, n_t], ARRAY[0.5, 0.5]) AS srm,
            ab_thompson_weights(ARRAY[x_c, x_t], ARRAY[n_c, n_t]) AS thompson,
            ab_noninferiority_ztest(x_c, n_c, x_t, n_t, 0.01) AS noninferiority_z,
            ab_noninferiority_ttest(mean_c, sd_c, n_c, mean_t, sd_t, n_t, 1.0, 0.05, false) AS noninferiority_t
          FROM s ORDER BY experiment",
        postgres: None,
    },
    Query {
        name: "functions of arrays",
        datafusion: "SELECT experiment,
            ab_quantile_test(array_agg(revenue) FILTER (WHERE variant = 'control'),
                             array_agg(revenue) FILTER (WHERE variant = 'treatment'), 0.9) AS quantile,
            ab_contamination(array_agg(substr(user_id, 1, 9)), array_agg(variant)) AS contamination
          FROM users GROUP BY experiment ORDER BY experiment",
        postgres: None,
    },
    Query {
        name: "p-values adjusted across experiments",
        datafusion: "SELECT ab_adjust_pvalues(array_agg(p ORDER BY experiment), 'holm') AS holm FROM
            (SELECT experiment, ab_ttest_agg(variant = 'treatment', revenue + 1e9)['p_value'] AS p FROM users GROUP BY experiment) t",
        postgres: Some(
            "SELECT ab_adjust_pvalues(array_agg(p ORDER BY experiment), 'holm') AS holm FROM
            (SELECT experiment, (ab_ttest_agg(variant = 'treatment', revenue + 1e9)).p_value AS p FROM users GROUP BY experiment) t",
        ),
    },
];

const BAD_QUERIES: &[&str] = &[
    // A misspelling one letter from exactly one function: DataFusion's "Did you mean" picks
    // among equally near names in hash order, which differs between processes (a name 10
    // edits from both ab_contamination and ab_gst_inflation got either).
    "SELECT ab_winsorise(1.0, 0.0, 2.0)",
    "SELECT experiment, ab_msprt_agg(variant = 'treatment', revenue, 0.0) AS r FROM users GROUP BY experiment",
    "SELECT experiment, sum(ab_bucket(user_id, 's', 0)) AS b FROM users GROUP BY experiment",
];

fn parse(name: &str, output: &str) -> Value {
    serde_json::from_str(output).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {output}"))
}

fn postgres_json(client: &mut postgres::Client, sql: &str) -> Value {
    let rows = client.query(&format!("SELECT row_to_json(q)::text FROM ({sql}) q"), &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    Value::Array(rows.iter().map(|row| serde_json::from_str(row.get::<_, &str>(0)).expect("row json")).collect())
}

#[test]
fn cluster_answers_equal_single_node_and_postgres() {
    let cluster = Cluster::start("distributed", 2);
    let dataset = write_dataset(&cluster.dir);
    let mut client = connect();
    load_example(&mut client, "ballista_users", ab_datafusion::example::batches(USERS, EXPERIMENTS, SEED));

    // Every function of the crate is exercised: on the data, and at the catalog's examples.
    let examples = catalog_examples();
    let all_sql: String = QUERIES.iter().map(|q| q.datafusion).chain([examples.as_str()]).collect();
    let names: BTreeSet<String> = ab_datafusion::scalar_functions()
        .iter()
        .map(|f| f.name().to_owned())
        .chain(ab_datafusion::aggregate_functions().iter().map(|f| f.name().to_owned()))
        .collect();
    let missing: Vec<&String> = names.iter().filter(|name| !all_sql.contains(&format!("{name}("))).collect();
    assert!(missing.is_empty(), "functions the distributed test does not run: {missing:?}");

    let mut failures = Vec::new();
    let examples = Query { name: "the catalog's examples", datafusion: &examples, postgres: None };
    for query in QUERIES.iter().chain([&examples]) {
        let local = parse(query.name, &ab_sql(None, &dataset, query.datafusion).unwrap_or_else(|e| panic!("{}: {e}", query.name)));
        let distributed = ab_sql(Some(&cluster.url()), &dataset, query.datafusion)
            .unwrap_or_else(|e| panic!("{} on the cluster: {e}\n{}", query.name, cluster.logs()));
        let distributed = parse(query.name, &distributed);
        let postgres_sql = query.postgres.unwrap_or(query.datafusion).replace("FROM users", "FROM ballista_users");
        let postgres = postgres_json(&mut client, &postgres_sql);
        assert!(numbers_in(&local) >= 5, "{}: too little to compare: {local}", query.name);
        failures.extend(differences(&format!("{} cluster vs local", query.name), &local, &distributed, TOLERANCE));
        failures.extend(differences(&format!("{} cluster vs postgres", query.name), &postgres, &distributed, TOLERANCE));
        eprintln!(
            "{}: {} figures; worst distance cluster-local {:.1e}, cluster-postgres {:.1e}",
            query.name,
            numbers_in(&local),
            worst_distance(&local, &distributed),
            worst_distance(&postgres, &distributed)
        );
    }
    assert!(failures.is_empty(), "{} figures differ:\n{}", failures.len(), failures.join("\n"));

    // Errors: planning errors arise in the client either way; bad input is found on the
    // executors, and ab-sql prints the same line for it.
    for sql in BAD_QUERIES {
        let local = ab_sql(None, &dataset, sql).expect_err(sql);
        let distributed = ab_sql(Some(&cluster.url()), &dataset, sql).expect_err(sql);
        assert_eq!(distributed, local, "{sql}");
    }

    // The aggregates ran as two stages: partial states on both executors, written as shuffle
    // files, merged by the next stage reading that shuffle.
    ab_sql(Some(&cluster.url()), &dataset, AGGREGATES).expect("aggregates on the cluster");
    let job = cluster.last_job();
    let job_id = job["job_id"].as_str().expect("job id");
    assert_eq!(job["status"], "Completed", "{job}");
    let stages = cluster.api(&format!("job/{job_id}/stages"));
    let stages = stages["stages"].as_array().expect("stages");
    assert!(stages.len() >= 2, "one stage only: {stages:?}");
    let plan_of = |stage: &Value| stage["stage_plan"].as_str().unwrap_or_default().to_owned();
    let partial = stages
        .iter()
        .find(|stage| plan_of(stage).contains("mode=Partial") && plan_of(stage).contains("ab_ttest_agg"))
        .unwrap_or_else(|| panic!("no stage computes partial states: {stages:#?}"));
    let partial_id = partial["stage_id"].as_str().expect("stage id");
    assert!(
        stages.iter().any(|stage| plan_of(stage).contains("ShuffleReaderExec") && plan_of(stage).contains("mode=FinalPartitioned")),
        "no stage merges shuffled partial states: {stages:#?}"
    );
    for executor in 0..2 {
        let shuffle = cluster.executor_dir(executor).join(job_id).join(partial_id);
        let files = walk_files(&shuffle);
        assert!(!files.is_empty(), "executor {executor} wrote no partial states in {}", shuffle.display());
    }
    client.batch_execute("DROP TABLE ballista_users").expect("drop table");
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .flat_map(|entry| if entry.path().is_dir() { walk_files(&entry.path()) } else { vec![entry.path()] })
        .collect()
}
