//! The sequential tests' validity, simulated through the installed extension: 300 A/A
//! experiments, each looked at 20 times (100 more users per arm at each look). The share of
//! experiments ever significant at α = 0.05 stays within 0.05 plus sampling error for
//! `ab_msprt_agg` and `ab_seq_ttest_agg`; the fixed-horizon `ab_ttest_agg` peeked at the same
//! looks shows the inflation that sequential tests exist to avoid. Also: the coverage of
//! `ab_quantile_test`'s intervals, and a bandit driven by `ab_thompson_weights`.

use ab_core::simulation::SplitMix64;
use sql_integration::connect;

#[test]
fn peeking_at_sequential_aggregates_keeps_the_error_rate() {
    let mut client = connect();
    client.batch_execute("SET max_parallel_workers_per_gather = 0; SELECT setseed(0.20261125)").unwrap();
    let row = client
        .query_one(
            "WITH units AS (
                 SELECT e, i, i % 2 = 0 AS is_treatment,
                        sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS value
                 FROM generate_series(1, 300) e, generate_series(1, 4000) i
             ), looks AS (
                 SELECT e, look,
                        (ab_msprt_agg(is_treatment, value, 0.01)).p_value AS msprt,
                        (ab_seq_ttest_agg(is_treatment, value)).p_value AS sequence,
                        (ab_ttest_agg(is_treatment, value)).p_value AS fixed
                 FROM units JOIN generate_series(1, 20) look ON i <= look * 200
                 GROUP BY e, look
             )
             SELECT avg(msprt::int)::float8, avg(sequence::int)::float8, avg(fixed::int)::float8
             FROM (SELECT e, bool_or(msprt <= 0.05) AS msprt, bool_or(sequence <= 0.05) AS sequence,
                          bool_or(fixed <= 0.05) AS fixed
                   FROM looks GROUP BY e) ever",
            &[],
        )
        .unwrap();
    let (msprt, sequence, fixed): (f64, f64, f64) = (row.get(0), row.get(1), row.get(2));
    let bound = 0.05 + 3.0 * (0.05f64 * 0.95 / 300.0).sqrt();
    eprintln!("ever significant over 20 looks: ab_msprt_agg {msprt}, ab_seq_ttest_agg {sequence}, peeking ab_ttest_agg {fixed}");
    assert!(msprt <= bound, "ab_msprt_agg ever significant in {msprt}");
    assert!(sequence <= bound, "ab_seq_ttest_agg ever significant in {sequence}");
    assert!(fixed > 0.12, "peeking at a fixed-horizon test should inflate: {fixed}");
}

/// `ab_quantile_test` through SQL: 400 experiments of 500 exponential units per arm with no
/// true difference; the 95% interval of the median and of the p95 difference covers 0 in
/// 95% of them, give or take three standard errors.
#[test]
fn quantile_intervals_cover_the_true_difference() {
    let mut client = connect();
    client.batch_execute("SET max_parallel_workers_per_gather = 0; SELECT setseed(0.5)").unwrap();
    let row = client
        .query_one(
            "WITH units AS (
                 SELECT e, i % 2 = 0 AS is_treatment, -ln(1 - random()) AS value
                 FROM generate_series(1, 400) e, generate_series(1, 1000) i
             ), tests AS (
                 SELECT e, ab_quantile_test(array_agg(value) FILTER (WHERE NOT is_treatment),
                                            array_agg(value) FILTER (WHERE is_treatment), 0.5) AS median,
                           ab_quantile_test(array_agg(value) FILTER (WHERE NOT is_treatment),
                                            array_agg(value) FILTER (WHERE is_treatment), 0.95) AS p95
                 FROM units GROUP BY e
             )
             SELECT avg(((median).ci_low <= 0 AND 0 <= (median).ci_high)::int)::float8,
                    avg(((p95).ci_low <= 0 AND 0 <= (p95).ci_high)::int)::float8
             FROM tests",
            &[],
        )
        .unwrap();
    let (median, p95): (f64, f64) = (row.get(0), row.get(1));
    let slack = 3.0 * (0.95f64 * 0.05 / 400.0).sqrt();
    eprintln!("coverage of the 95% intervals through SQL: median {median}, p95 {p95}");
    assert!((median - 0.95).abs() <= slack && (p95 - 0.95).abs() <= slack, "coverage: median {median}, p95 {p95}");
}

/// A bandit run on the installed `ab_thompson_weights`: three arms converting at 8%, 12% and
/// 9%, 40 rounds of 500 users allocated by the weights the database returns for the counts
/// so far (floor 0.02). The traffic moves to the 12% arm.
#[test]
fn thompson_weights_move_traffic_to_the_best_arm() {
    let mut client = connect();
    let rates = [0.08, 0.12, 0.09];
    let mut stream = SplitMix64::new(4012);
    let (mut successes, mut trials) = (vec![0i64; 3], vec![0i64; 3]);
    let mut weights_of = |successes: &Vec<i64>, trials: &Vec<i64>| -> Vec<f64> {
        client.query_one("SELECT ab_thompson_weights($1, $2, 0.02)", &[successes, trials]).unwrap().get(0)
    };
    let first = weights_of(&successes, &trials);
    for _round in 0..40 {
        let weights = weights_of(&successes, &trials);
        for _user in 0..500 {
            let draw = stream.uniform();
            let arm = if draw < weights[0] { 0 } else if draw < weights[0] + weights[1] { 1 } else { 2 };
            trials[arm] += 1;
            successes[arm] += i64::from(stream.uniform() < rates[arm]);
        }
    }
    let last = weights_of(&successes, &trials);
    eprintln!("Thompson weights after 40 rounds: {last:?}, trials {trials:?}");
    assert!(first.iter().all(|w| (w - 1.0 / 3.0).abs() < 1e-12), "no data, equal weights: {first:?}");
    assert!(last[1] > 0.8, "the 12% arm should dominate: {last:?} after {trials:?}");
    assert!(last.iter().all(|w| *w >= 0.02 - 1e-15), "the floor holds: {last:?}");
    assert!(trials[1] > trials[0] + trials[2], "{trials:?}");
}
