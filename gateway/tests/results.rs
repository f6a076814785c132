//! The results views against known answers: the fixture of `tests/golden/generate_results.py`
//! (exposures, events before and after exposure, expected figures from scipy/statsmodels) is
//! loaded in two halves with a refresh in between, so the incremental rollups must give the
//! one-shot answer; then the results API and the guardrail action end to end.

mod support;

use golden_vectors::{Actual, Checker};
use serde_json::Value;
use support::{Database, Gateway};

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/results_fixture.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn load_experiment(db: &Database, config: &Value) {
    db.connect()
        .execute(
            "INSERT INTO ab.experiments (id, salt, config, status, started_at)
             SELECT c->>'id', c->>'salt', c, 'running', now() - interval '48 hours' FROM (SELECT $1::text::jsonb AS c) s",
            &[&config.to_string()],
        )
        .unwrap();
}

/// Loads exposures of the fixture's users into each of `experiments` and the events (once; they
/// belong to users, not experiments). `batch` keeps the events' dedup keys apart across calls.
fn load_rows(db: &Database, experiments: &[&str], exposures: &[Value], events: &[Value], batch: &str) {
    let mut client = db.connect();
    for experiment in experiments {
        client
            .execute(
                "INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
                 SELECT $2, x->>'user_id', x->>'variant_id', (x->>'first_exposed_at')::timestamptz
                 FROM jsonb_array_elements($1::text::jsonb) x",
                &[&Value::Array(exposures.to_vec()).to_string(), experiment],
            )
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
             SELECT (e->>'event_time')::timestamptz, e->>'user_id', e->>'event_type', 'fixture-' || $2 || '-' || n, e->'metrics'
             FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(e, n)",
            &[&Value::Array(events.to_vec()).to_string(), &batch],
        )
        .unwrap();
}

fn actual(row: &Value, field: &str) -> Actual {
    match row.get(field) {
        None => Actual::Missing,
        Some(Value::Bool(b)) => Actual::Bool(Some(*b)),
        Some(Value::Null) => Actual::Float(None),
        Some(v) => Actual::Float(float(v)),
    }
}

/// A float8 of a row read as JSON, where Postgres writes infinities as strings.
fn float(value: &Value) -> Option<f64> {
    match value.as_str() {
        Some("Infinity") => Some(f64::INFINITY),
        Some("-Infinity") => Some(f64::NEG_INFINITY),
        _ => value.as_f64(),
    }
}

/// Whether the interval `[low, high]` of a row lies wholly on one side of 0 (`None`: not shown).
fn excludes_zero(row: &Value, low: &str, high: &str) -> Option<bool> {
    Some(float(&row[low])? > 0.0 || float(&row[high])? < 0.0)
}

#[test]
fn views_match_the_reference_after_incremental_refreshes() {
    let fixture = fixture();
    let db = Database::fresh("results_views");
    load_experiment(&db, &fixture["config"]);
    let (exposures, events) = (fixture["exposures"].as_array().unwrap(), fixture["events"].as_array().unwrap());
    let (x_half, e_half) = (exposures.len() / 2, events.len() / 3);
    load_rows(&db, &["fixture"], &exposures[..x_half], &events[..e_half], "1");
    db.connect().batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();
    load_rows(&db, &["fixture"], &exposures[x_half..], &events[e_half..], "2");
    // Several gateways refreshing at once: the rollups take their watermark row first, so
    // the refreshes run one after the other, none fails and nothing is counted twice.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| db.connect().batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap());
        }
    });
    // A refresh with nothing new changes nothing.
    db.connect().batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();

    let expected = &fixture["expected"];
    let mut checker = Checker::default();
    let metrics = db.rows("SELECT * FROM ab.variant_metrics WHERE experiment_id = 'fixture'");
    assert_eq!(metrics.len(), 9);
    for want in expected["variant_metrics"].as_array().unwrap() {
        let case = format!("variant_metrics {} {}", want["metric_id"], want["variant_id"]);
        let got = metrics.iter().find(|r| r["metric_id"] == want["metric_id"] && r["variant_id"] == want["variant_id"]).unwrap();
        checker.record(&case, &strip(want, &["metric_id", "variant_id"]), |f| actual(got, f));
    }
    let results = db.rows("SELECT * FROM ab.results WHERE experiment_id = 'fixture'");
    assert_eq!(results.len(), 6);
    for want in expected["results"].as_array().unwrap() {
        let case = format!("results {} {}", want["metric_id"], want["treatment_id"]);
        let got = results.iter().find(|r| r["metric_id"] == want["metric_id"] && r["treatment_id"] == want["treatment_id"]).unwrap();
        checker.record(&case, &strip(want, &["metric_id", "treatment_id"]), |f| actual(got, f));
        assert_eq!(got["test"], if want["metric_id"] == "purchase" { "ab_verdicts_prop" } else { "ab_verdicts_mean" });
        assert_eq!(excludes_zero(got, "ci_low", "ci_high"), got["significant"].as_bool(), "{got}");
        if want.get("cuped_diff").is_none() {
            assert!(got["cuped_diff"].is_null(), "no covariate, no CUPED: {got}");
        }
    }
    let srm = &db.rows("SELECT * FROM ab.srm WHERE experiment_id = 'fixture'")[0];
    assert_eq!(srm["observed"], expected["srm"]["observed"]);
    checker.float("srm", "p_value", srm["p_value"].as_f64(), &expected["srm"]["p_value"]);
    checker.float("srm", "chi2", srm["chi2"].as_f64(), &expected["srm"]["chi2"]);
    checker.exact("srm", "mismatch", srm["mismatch"].as_bool(), expected["srm"]["mismatch"].as_bool());
    let progress = &db.rows("SELECT * FROM ab.sample_size_progress WHERE experiment_id = 'fixture'")[0];
    checker.exact("progress", "required_per_variant", progress["required_per_variant"].as_i64(), expected["required_per_variant"].as_i64());
    checker.exact("progress", "units_smallest_arm", progress["units_smallest_arm"].as_i64(), Some(251));
    assert!(progress["days_left"].as_i64().is_some_and(|d| d > 0), "{progress}");
    checker.finish("results views");

    let guardrail = &db.rows("SELECT * FROM ab.guardrails WHERE experiment_id = 'fixture' AND treatment_id = 'c'")[0];
    assert_eq!(guardrail["metric_id"], "session_seconds");
    assert_eq!(guardrail["significant_breach"], false, "{guardrail}");

    // Every view and column is explained.
    let undocumented = db.rows(
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
         WHERE n.nspname = 'ab' AND c.relname IN ('results', 'variant_metrics', 'srm', 'guardrails', 'sample_size_progress')
           AND obj_description(c.oid, 'pg_class') IS NULL",
    );
    assert!(undocumented.is_empty(), "views without COMMENT: {undocumented:?}");
}

/// The experiments of `tests/golden/verdict_grid.json` (2 to 5 arms of 9 to 1500 users, a
/// conversion, a lognormal per-user sum, a per-user mean), each user one exposure and at most a
/// purchase and a session, through the real views; one-sided verdicts through the extension's
/// functions on the same users (the views are two-sided). Every row agrees with the scipy /
/// statsmodels reference, and is significant exactly when every interval it shows excludes 0.
#[test]
fn one_verdict_per_comparison_over_a_grid_of_experiments() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/verdict_grid.json");
    let grid: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let db = Database::fresh("verdict_grid");
    let mut client = db.connect();
    for experiment in grid["experiments"].as_array().unwrap() {
        let (id, arms) = (experiment["id"].as_str().unwrap(), experiment["arms"].as_u64().unwrap());
        let variants: Vec<Value> = (0..arms)
            .map(|i| serde_json::json!({"id": format!("arm{i}"), "weight": 1.0 / arms as f64, "is_control": i == 0}))
            .collect();
        let config = serde_json::json!({"id": id, "salt": id, "name": id, "variants": variants, "metrics": [
            {"id": "purchase", "kind": "conversion", "event_type": "purchase"},
            {"id": "revenue", "kind": "continuous", "event_type": "purchase", "field": "revenue"},
            {"id": "seconds", "kind": "continuous", "event_type": "session", "field": "seconds", "per_user": "mean"}]});
        load_experiment(&db, &config);
        client
            .batch_execute(&format!(
                "CREATE TEMP TABLE grid_users AS SELECT '{id}-' || n AS user_id, u FROM jsonb_array_elements('{}'::jsonb) WITH ORDINALITY t(u, n);
                 INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
                 SELECT '{id}', user_id, 'arm' || (u->>0), '2026-11-01T00:00:00Z' FROM grid_users;
                 INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
                 SELECT timestamptz '2026-11-01T01:00:00Z', user_id, 'purchase', user_id || ':p', jsonb_build_object('revenue', u->2)
                 FROM grid_users WHERE (u->>1)::int = 1
                 UNION ALL
                 SELECT timestamptz '2026-11-01T02:00:00Z', user_id, 'session', user_id || ':s', jsonb_build_object('seconds', u->3)
                 FROM grid_users WHERE u->>3 IS NOT NULL;
                 DROP TABLE grid_users",
                experiment["users"]
            ))
            .unwrap();
    }
    client.batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();

    let fields = ["diff", "rel_lift", "statistic", "df", "p_value", "holm_p_value", "interval_level", "ci_low", "ci_high",
        "rel_ci_low", "rel_ci_high", "significant"];
    let mut checker = Checker::default();
    let (mut rows, mut significant, mut relative_shown) = (0, 0, 0);
    let mut check = |case: &str, got: &Value, want: &Value| {
        let want: serde_json::Map<String, Value> = fields.iter().map(|f| (f.to_string(), want[*f].clone())).collect();
        checker.record(case, &Value::Object(want), |f| actual(got, f));
        let star = got["significant"].as_bool().unwrap();
        assert_eq!(excludes_zero(got, "ci_low", "ci_high").unwrap_or(false), star, "{case}: {got}");
        if let Some(relative) = excludes_zero(got, "rel_ci_low", "rel_ci_high") {
            assert_eq!(relative, star, "{case}: {got}");
            relative_shown += 1;
        }
        rows += 1;
        significant += star as usize;
    };
    for experiment in grid["experiments"].as_array().unwrap() {
        let id = experiment["id"].as_str().unwrap();
        let results = db.rows(&format!("SELECT * FROM ab.results WHERE experiment_id = '{id}'"));
        for (metric, expected) in experiment["expected"]["two-sided"].as_object().unwrap() {
            for (i, want) in expected.as_array().unwrap().iter().enumerate() {
                let treatment = format!("arm{}", i + 1);
                let got = results.iter().find(|r| r["metric_id"] == metric.as_str() && r["treatment_id"] == treatment.as_str());
                check(&format!("{id} {metric} {treatment} two-sided (ab.results)"), got.unwrap_or(&Value::Null), want);
            }
            for alternative in ["larger", "smaller"] {
                let function = if metric == "purchase" {
                    "ab_verdicts_prop(c.x, c.n, t.x, t.n, 0.05, $3)"
                } else {
                    "ab_verdicts_mean(c.mean, c.sd, c.nv, t.mean, t.sd, t.nv, 0.05, $3)"
                };
                let verdicts = client
                    .query(
                        &format!(
                            "WITH arms AS (
                                 SELECT variant_id, count(*) AS n, count(*) FILTER (WHERE converted) AS x, count(value) AS nv,
                                        coalesce(avg(value), 0) AS mean, coalesce(stddev_samp(value), 0) AS sd
                                 FROM ab.user_values WHERE experiment_id = $1 AND metric_id = $2 GROUP BY variant_id
                             ), c AS (SELECT * FROM arms WHERE variant_id = 'arm0'),
                             t AS (SELECT array_agg(n ORDER BY variant_id) AS n, array_agg(x ORDER BY variant_id) AS x,
                                          array_agg(nv ORDER BY variant_id) AS nv, array_agg(mean ORDER BY variant_id) AS mean,
                                          array_agg(sd ORDER BY variant_id) AS sd
                                   FROM arms WHERE variant_id <> 'arm0')
                             SELECT to_jsonb(v) FROM c, t, {function} v ORDER BY v.treatment"
                        ),
                        &[&id, &metric.as_str(), &alternative],
                    )
                    .unwrap();
                let expected = experiment["expected"][alternative][metric].as_array().unwrap();
                assert_eq!(verdicts.len(), expected.len());
                for (i, (row, want)) in verdicts.iter().zip(expected).enumerate() {
                    check(&format!("{id} {metric} arm{} {alternative} (ab_verdicts)", i + 1), &row.get::<_, Value>(0), want);
                }
            }
        }
    }
    checker.finish("one verdict per comparison");
    eprintln!("{rows} comparisons, {significant} significant, {relative_shown} with a bounded lift interval");
    assert!(significant >= 20 && rows - significant >= 100 && relative_shown >= 150, "the grid lost its variety");
}

fn strip(object: &Value, keys: &[&str]) -> Value {
    let mut object = object.clone();
    for key in keys {
        object.as_object_mut().unwrap().remove(*key);
    }
    object
}

/// The fixture experiment and a sequential copy of it (`fixture_seq`: the same users and events,
/// `"analysis": "sequential"`), fed one cohort at a time (the users first exposed on one of the
/// fixture's three days, with all their events) with a refresh after each, as the gateway's
/// ticks would over three days. Every comparison then has a point per day of data, the
/// fixture's three days, each over the cohorts up to that day (0010).
fn seeded_gateway(name: &str) -> (Database, Gateway) {
    let fixture = fixture();
    let db = Database::fresh(name);
    let mut sequential = fixture["config"].clone();
    for (field, value) in [("id", "fixture_seq"), ("salt", "fixture-seq-salt"), ("name", "Results fixture, sequential"), ("analysis", "sequential")] {
        sequential[field] = value.into();
    }
    load_experiment(&db, &fixture["config"]);
    load_experiment(&db, &sequential);
    let (exposures, events) = (fixture["exposures"].as_array().unwrap(), fixture["events"].as_array().unwrap());
    let day = |at: &Value| at.as_str().unwrap()[..10].to_owned();
    let days: Vec<String> = exposures.iter().map(|x| day(&x["first_exposed_at"])).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    assert_eq!(days.len(), 3, "the fixture's exposures span three days");
    let cohort: std::collections::HashMap<&str, usize> = exposures
        .iter()
        .map(|x| (x["user_id"].as_str().unwrap(), days.iter().position(|d| *d == day(&x["first_exposed_at"])).unwrap()))
        .collect();
    let part_of_event = |e: &Value| cohort.get(e["user_id"].as_str().unwrap()).copied().unwrap_or(days.len() - 1);
    let mut client = db.connect();
    for (i, today) in days.iter().enumerate() {
        let exposed: Vec<Value> = exposures.iter().filter(|x| day(&x["first_exposed_at"]) == *today).cloned().collect();
        let happened: Vec<Value> = events.iter().filter(|e| part_of_event(e) == i).cloned().collect();
        load_rows(&db, &["fixture", "fixture_seq"], &exposed, &happened, today);
        client.batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();
    }
    let gw = Gateway::start(&db, &[]);
    (db, gw)
}

#[test]
fn the_results_api_returns_the_views_and_a_recommendation() {
    let (db, gw) = seeded_gateway("results_api");
    let (status, body) = gw.get("/api/v1/experiments/fixture/results", Some(&gw.admin));
    assert_eq!(status, 200, "{body}");
    // The maintenance task refreshed the snapshot at start-up: the figures are the same, the time is not.
    let without_time = |rows: &Value| -> Vec<Value> {
        rows.as_array().unwrap().iter().map(|r| strip(r, &["computed_at"])).collect()
    };
    let expected = Value::Array(db.rows("SELECT * FROM ab.results WHERE experiment_id = 'fixture' ORDER BY metric_id, treatment_id"));
    assert_eq!(without_time(&body["comparisons"]), without_time(&expected));
    assert_eq!(body["variant_metrics"].as_array().unwrap().len(), 9);
    assert_eq!(body["srm"]["observed"], serde_json::json!([384, 251, 265]));
    assert_eq!(body["guardrails"].as_array().unwrap().len(), 2);
    assert!(body["sample_size"]["required_per_variant"].is_i64());
    assert!(body["computed_at"].is_string());
    for comparison in body["comparisons"].as_array().unwrap() {
        assert_eq!(comparison["analysis"], "fixed");
        assert!(comparison["chance_to_win"].as_f64().is_some_and(|p| p > 0.0 && p < 1.0), "{comparison}");
    }
    // Each comparison over time, as ab.results_daily has it, oldest day first; its last day
    // counts every user, so it is the comparison now (to the last bits of the sums, which
    // another cut adds in another order). The fixture's days are over: settled.
    let daily = body["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 6);
    for (series, comparison) in daily.iter().zip(body["comparisons"].as_array().unwrap()) {
        let (metric, treatment) = (series["metric_id"].as_str().unwrap(), series["treatment_id"].as_str().unwrap());
        assert_eq!((metric, treatment), (comparison["metric_id"].as_str().unwrap(), comparison["treatment_id"].as_str().unwrap()));
        let days = db.rows(&format!(
            "SELECT * FROM ab.results_daily WHERE experiment_id = 'fixture' AND metric_id = '{metric}' AND treatment_id = '{treatment}' ORDER BY day"
        ));
        assert_eq!(days.len(), 3);
        let expected: Vec<Value> = days.iter().map(|d| strip(d, &["experiment_id", "metric_id", "treatment_id"])).collect();
        assert_eq!(series["points"], Value::Array(expected));
        let last = series["points"].as_array().unwrap().last().unwrap();
        for field in ["units_treatment", "significant"] {
            assert_eq!(last[field], comparison[field], "{metric} {treatment} {field}");
        }
        for field in ["rel_lift", "rel_ci_low", "rel_ci_high", "p_value", "chance_to_win"] {
            let (a, b) = (last[field].as_f64().unwrap(), comparison[field].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{metric} {treatment} {field}: {a} {b}");
        }
        assert!(series["points"].as_array().unwrap().iter().all(|p| p["settled"] == true), "{series}");
    }
    // Users first exposed per variant and day, in configuration order; they add up to the SRM counts.
    let exposures = body["exposures_daily"].as_array().unwrap();
    let variants: Vec<&Value> = exposures.iter().map(|v| &v["variant_id"]).collect();
    assert_eq!(variants, ["control", "b", "c"]);
    for (variant, observed) in exposures.iter().zip(body["srm"]["observed"].as_array().unwrap()) {
        let days = variant["days"].as_array().unwrap();
        assert_eq!(days.len(), 3, "{variant}");
        assert_eq!(days.iter().map(|d| d["units"].as_i64().unwrap()).sum::<i64>(), observed.as_i64().unwrap());
        assert!(days.windows(2).all(|w| w[0]["day"].as_str() < w[1]["day"].as_str()), "{variant}");
    }
    // The sequential copy: always-valid verdicts, one verdict per row, today and every day before.
    let (status, sequential) = gw.get("/api/v1/experiments/fixture_seq/results", Some(&gw.admin));
    assert_eq!(status, 200, "{sequential}");
    assert_eq!(sequential["experiment"]["analysis"], "sequential");
    for comparison in sequential["comparisons"].as_array().unwrap() {
        assert_eq!(comparison["analysis"], "sequential");
        assert!(comparison["test"].as_str().unwrap().starts_with("ab_seq_verdicts_"), "{comparison}");
        assert_eq!(excludes_zero(comparison, "ci_low", "ci_high"), comparison["significant"].as_bool(), "{comparison}");
    }
    for point in sequential["daily"].as_array().unwrap().iter().flat_map(|s| s["points"].as_array().unwrap()) {
        assert_eq!(point["analysis"], "sequential");
        assert_eq!(excludes_zero(point, "ci_low", "ci_high"), point["significant"].as_bool(), "{point}");
    }
    // purchase: c is significantly worse after Holm, b is not significant: no winner yet.
    let recommendation = &body["recommendation"];
    assert_eq!(recommendation["decision"], "no_winner_yet", "{recommendation}");
    assert_eq!(recommendation["primary_metric"], "purchase");
    assert!(recommendation["warnings"].as_array().unwrap().contains(&Value::from("underpowered")));

    let (status, body) = gw.get("/api/v1/experiments/fixture/results", Some(&gw.sdk));
    assert_eq!((status, support::error_code(&body)), (403, "forbidden"));
    let (status, _) = gw.get("/api/v1/experiments/fixture/results", None);
    assert_eq!(status, 401);
    let (status, body) = gw.get("/api/v1/experiments/nope/results", Some(&gw.admin));
    assert_eq!((status, support::error_code(&body)), (404, "not_found"));
}

/// The value of attribute `name` in the first element of `html` that has `marker`.
fn attribute(html: &str, marker: &str, name: &str) -> Option<String> {
    let start = html.find(marker)?;
    let element = &html[html[..start].rfind('<')?..start + html[start..].find('>')?];
    let key = format!("{name}=\"");
    let from = element.find(&key)? + key.len();
    Some(element[from..from + element[from..].find('"')?].to_owned())
}

fn chromium(args: &[&str]) -> String {
    let output = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage"])
        .args(args)
        .output()
        .expect("chromium is installed by `make test` (scripts/setup.sh)");
    assert!(output.status.success(), "chromium {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The opening tag of the element of `html` that starts at `at`.
fn tag_at(html: &str, at: usize) -> &str {
    &html[at..=at + html[at..].find('>').unwrap()]
}

/// The text of `html` from `marker` to the next `close`.
fn section<'a>(html: &'a str, marker: &str, close: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("{marker} not on the page"));
    &html[start..start + html[start..].find(close).unwrap()]
}

/// Checks the results page of `experiment`, as Chromium rendered it (`dom`), against the tables
/// it is drawn from: every figure of ab.results, a ★ (and the colour of the lift-over-time
/// points) exactly where the drawn interval excludes 0, chance to win, CUPED's variance
/// reduction, one point per day of ab.results_daily in each comparison's time series (hollow
/// where the day is not settled), a bar
/// per variant and day of ab.exposures_daily, and when it was computed, for people.
fn check_page(db: &Database, dom: &str, experiment: &str) {
    assert!(dom.contains("id=\"recommendation\""), "not the results page:\n{dom}");
    let results = db.rows(&format!("SELECT * FROM ab.results WHERE experiment_id = '{experiment}'"));
    assert_eq!(results.len(), 6);
    for row in &results {
        let (metric, treatment) = (row["metric_id"].as_str().unwrap(), row["treatment_id"].as_str().unwrap());
        let marker = format!("data-metric=\"{metric}\" data-treatment=\"{treatment}\" data-diff=");
        for (attr, field) in [("data-diff", "diff"), ("data-p-value", "p_value"), ("data-holm-p-value", "holm_p_value"), ("data-chance-to-win", "chance_to_win")] {
            let shown: f64 = attribute(dom, &marker, attr).unwrap_or_else(|| panic!("{marker} {attr} missing")).parse().unwrap();
            assert_eq!(shown, row[field].as_f64().unwrap(), "{marker} {field}");
        }
        assert_eq!(attribute(dom, &marker, "data-significant").unwrap(), row["significant"].to_string());
        assert_eq!(attribute(dom, &marker, "data-analysis").unwrap(), row["analysis"].as_str().unwrap());
        let table_row = section(dom, &marker, "</tr>");
        let chance = format!("<td class=\"chance\" data-label=\"chance to win\">{:.1}%</td>", row["chance_to_win"].as_f64().unwrap() * 100.0);
        assert!(table_row.contains(&chance), "{marker}: chance to win not shown as {chance}: {table_row}");
        if let Some(reduction) = row["cuped_variance_reduction"].as_f64() {
            let card = section(dom, &format!("<div class=\"card\" data-metric=\"{metric}\""), "<h2>");
            let marker = format!("data-treatment=\"{treatment}\" data-variance-reduction=");
            let cuped = section(card, &marker, "</span>");
            assert_eq!(attribute(card, &marker, "data-variance-reduction").unwrap().parse::<f64>().unwrap(), reduction);
            assert!(cuped.contains(&format!("variance reduced by {:.1}%", reduction * 100.0)), "{cuped}");
        }
        // One verdict: the row is starred exactly where the intervals it shows exclude 0.
        let starred = section(dom, &marker, "</td>").contains('★');
        assert_eq!(starred, row["significant"].as_bool().unwrap(), "{marker}");
        for (low, high) in [("data-ci-low", "data-ci-high"), ("data-rel-ci-low", "data-rel-ci-high")] {
            let shown = |name| attribute(dom, &marker, name).filter(|v| !v.is_empty()).map(|v| v.parse::<f64>().unwrap());
            if let (Some(low), Some(high)) = (shown(low), shown(high)) {
                assert_eq!(low > 0.0 || high < 0.0, starred, "{marker}: {low} … {high}");
            }
        }

        // The lift over time: one point per day of ab.results_daily, coloured exactly where
        // that day's drawn interval excludes 0.
        let days = db.rows(&format!(
            "SELECT * FROM ab.results_daily WHERE experiment_id = '{experiment}' AND metric_id = '{metric}' AND treatment_id = '{treatment}' ORDER BY day"
        ));
        assert_eq!(days.len(), 3);
        let svg = section(dom, &format!("aria-label=\"Relative lift of {treatment} on {metric} per day"), "</svg>");
        let points: Vec<&str> = svg.match_indices("<circle class=\"point").map(|(at, _)| tag_at(svg, at)).collect();
        assert_eq!(points.len(), days.len(), "{metric} {treatment}: one point per day: {svg}");
        for (point, day) in points.iter().zip(&days) {
            let value = |name: &str| attribute(point, "class=", name).unwrap();
            assert_eq!(value("data-day"), day["day"].as_str().unwrap());
            assert_eq!(value("data-rel-lift").parse::<f64>().unwrap(), day["rel_lift"].as_f64().unwrap());
            let significant = day["significant"].as_bool().unwrap();
            assert_eq!(value("data-significant"), significant.to_string());
            assert_eq!(value("class").contains("significant"), significant, "{metric} {treatment} {point}");
            let settled = day["settled"].as_bool().unwrap();
            assert_eq!(value("data-settled"), settled.to_string());
            assert_eq!(value("class").contains("unsettled"), !settled, "{metric} {treatment} {point}");
            if let (Ok(low), Ok(high)) = (value("data-rel-ci-low").parse::<f64>(), value("data-rel-ci-high").parse::<f64>()) {
                assert_eq!((low, high), (day["rel_ci_low"].as_f64().unwrap(), day["rel_ci_high"].as_f64().unwrap()));
                assert_eq!(low > 0.0 || high < 0.0, significant, "{metric} {treatment} {point}");
            }
        }
        assert!(svg.contains("<polygon class=\"band\""), "{metric} {treatment}: no interval band");
        assert!(svg.contains("<polyline class=\"lift\""), "{metric} {treatment}: no lift line");
    }
    // One forest plot per metric, one interval per treatment.
    for metric in ["purchase", "revenue", "session_seconds"] {
        let svg = section(dom, &format!("data-metric=\"{metric}\"><line class=\"zero\""), "</svg>");
        assert_eq!(svg.matches("<g class=\"interval").count(), 2, "{metric}: {svg}");
        for row in results.iter().filter(|r| r["metric_id"] == metric) {
            let marker = format!("data-treatment=\"{}\" data-rel-lift=", row["treatment_id"].as_str().unwrap());
            let lift: f64 = attribute(svg, &marker, "data-rel-lift").unwrap().parse().unwrap();
            assert_eq!(lift, row["rel_lift"].as_f64().unwrap());
            let significant = attribute(svg, &marker, "class").unwrap().contains("significant");
            assert_eq!(significant, row["significant"].as_bool().unwrap(), "{metric} {marker}");
            // The drawn interval is the row's lift interval and excludes 0 exactly where a star is drawn.
            let group = section(svg, &marker, "</g>");
            let (low, high) = (attribute(svg, &marker, "data-rel-ci-low").unwrap(), attribute(svg, &marker, "data-rel-ci-high").unwrap());
            assert_eq!((low.parse::<f64>().ok(), high.parse::<f64>().ok()), (row["rel_ci_low"].as_f64(), row["rel_ci_high"].as_f64()));
            if let (Ok(low), Ok(high)) = (low.parse::<f64>(), high.parse::<f64>()) {
                assert!(group.contains("<line class=\"ci\""), "{metric} {marker}: no interval drawn");
                assert_eq!(group.contains('★'), low > 0.0 || high < 0.0, "{metric} {marker}: {low} … {high}");
                assert_eq!(group.contains('★'), significant);
            }
        }
    }
    // Users first exposed per day: a bar per variant and day, adding up to the exposures.
    let exposures = db.rows(&format!("SELECT * FROM ab.exposures_daily WHERE experiment_id = '{experiment}'"));
    let chart = section(dom, "id=\"exposures-daily\"", "</svg>");
    let bars: Vec<&str> = chart.match_indices("<rect class=\"exposure\"").map(|(at, _)| tag_at(chart, at)).collect();
    assert_eq!(bars.len(), exposures.len());
    let drawn: i64 = bars.iter().map(|b| attribute(b, "class=", "data-units").unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(drawn, exposures.iter().map(|d| d["units"].as_i64().unwrap()).sum::<i64>());
    assert_eq!(drawn, 900);

    // Times for people, the exact UTC time on hover.
    let computed = section(dom, "id=\"computed-at\"", "</span>");
    assert!(computed.contains("computed <time") && (computed.contains("just now") || computed.contains(" min ago")), "{computed}");
    assert!(attribute(computed, "datetime=", "title").is_some_and(|t| t.ends_with(" UTC")), "{computed}");
    assert!(dom.contains(">2 days ago</time>"), "started two days ago");
    assert!(!dom.contains("id=\"srm-banner\""), "no SRM here");
    assert!(!dom.contains("id=\"guardrail-banner\""), "no breach here");
    assert!(section(dom, "id=\"sample-size\"", "</p>").contains(" users in the smallest arm"));
    assert!(dom.contains("http-equiv=\"refresh\""), "the page refreshes itself");
}

/// Screenshots of `page` in Chromium at each `(file name, window size)`, in the tests' scratch
/// directory, and also in `$PG_AB_SCREENSHOTS` when set (`scripts/screenshots.sh` sets it to `docs/`).
fn screenshots(page: &str, shots: &[(&str, &str)]) {
    let scratch = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&scratch).unwrap();
    for (name, size) in shots {
        let path = scratch.join(name);
        let _ = std::fs::remove_file(&path);
        chromium(&[&format!("--screenshot={}", path.display()), &format!("--window-size={size}"), page]);
        let png = std::fs::read(&path).unwrap();
        assert!(png.len() > 10_000 && png.starts_with(b"\x89PNG"), "{name} is not a screenshot");
        if let Some(keep) = std::env::var_os("PG_AB_SCREENSHOTS") {
            std::fs::copy(&path, std::path::Path::new(&keep).join(name)).unwrap();
        }
    }
    eprintln!("screenshots in {}", scratch.display());
}

/// The page of `experiment` on a [`seeded_gateway`] in Chromium (its URL and DOM), checked by
/// [`check_page`], with its analysis badge saying `analysis`.
fn checked_page(name: &str, experiment: &str, analysis: &str) -> (Gateway, String, String) {
    let (db, gw) = seeded_gateway(name);
    let page = gw.url(&format!("/experiments/{experiment}?token={}", gw.admin));
    let dom = chromium(&["--dump-dom", &page]);
    check_page(&db, &dom, experiment);
    assert_eq!(attribute(&dom, "id=\"analysis\"", "data-analysis").as_deref(), Some(analysis));
    (gw, page, dom)
}

#[test]
fn the_results_page_shows_the_figures_of_ab_results_in_a_real_browser() {
    let (gw, page, dom) = checked_page("results_page", "fixture", "fixed");
    assert!(!dom.contains("always-valid") && !dom.contains("safe to peek"), "a fixed-horizon experiment claims always-valid figures");

    // Without the token the page asks for one.
    let denied = chromium(&["--dump-dom", &gw.url("/experiments/fixture")]);
    assert!(denied.contains("need an admin token"), "{denied}");
    let index = chromium(&["--dump-dom", &gw.url(&format!("/?token={}", gw.admin))]);
    assert!(index.contains("data-experiment=\"fixture\""), "{index}");

    screenshots(&page, &[("results-page.png", "1400,3250"), ("results-page-phone.png", "390,7000")]);
}

#[test]
fn a_sequential_experiment_shows_always_valid_figures_labelled_safe_to_peek_in_a_real_browser() {
    let (_gw, page, dom) = checked_page("results_page_sequential", "fixture_seq", "sequential");
    assert!(section(&dom, "id=\"analysis\"", "</span>").contains("safe to peek"));
    // Each metric says its intervals are always-valid, and so does each p-value column.
    for metric in ["purchase", "revenue", "session_seconds"] {
        let heading = section(&dom, &format!("<h2>{metric} "), "</h2>");
        assert!(heading.contains("always-valid intervals (confidence sequences), safe to peek"), "{heading}");
        let table = section(&dom, &format!("<div class=\"card\" data-metric=\"{metric}\""), "</tr>");
        assert!(table.contains("<th>always-valid p</th>") && table.contains("<th>Holm always-valid p</th>"), "{table}");
    }
    screenshots(&page, &[("results-page-sequential.png", "1366,3400")]);
}

#[test]
fn a_significant_guardrail_breach_alerts_and_pauses_the_experiment() {
    let db = Database::fresh("guardrail_pause");
    let gw = Gateway::start(&db, &["--results-refresh-secs", "1"]);
    gw.running_experiment(&serde_json::json!({
        "id": "risky", "auto_pause": true,
        "variants": [{"id": "control", "weight": 0.5, "is_control": true}, {"id": "cheap", "weight": 0.5}],
        "metrics": [{"id": "revenue", "kind": "continuous", "event_type": "purchase", "field": "revenue"}],
        "guardrails": [{"metric": "revenue", "bad_direction": "decrease", "threshold": 0.05}]
    }));
    let mut events = Vec::new();
    for i in 0..400 {
        let user = format!("u{i}");
        let (_, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &serde_json::json!({"user_id": user}));
        let cheap = answer["assignments"][0]["variant_id"] == "cheap";
        let revenue = if cheap { 50.0 } else { 100.0 } + (i % 7) as f64;
        events.push(serde_json::json!({"user_id": user, "event_type": "purchase",
            "timestamp": chrono::Utc::now().to_rfc3339(), "metrics": {"revenue": revenue}}));
    }
    let (status, body) = gw.post("/api/v1/events", Some(&gw.sdk), &Value::Array(events));
    assert_eq!(status, 202, "{body}");
    gw.wait_until(std::time::Duration::from_secs(60), |g| {
        g.get("/api/v1/experiments/risky", Some(&g.admin)).1["status"] == "paused"
    });
    let breach = &db.rows("SELECT * FROM ab.guardrails WHERE experiment_id = 'risky'")[0];
    assert_eq!(breach["significant_breach"], true, "{breach}");
    assert!(gw.metrics().lines().any(|l| l.starts_with("ab_guardrail_alerts_total ") && !l.ends_with(" 0")));
    assert!(gw.log().contains("ALERT: guardrail breached significantly"));
    // The page says so at the top.
    let page = gw.http.get(gw.url("/experiments/risky")).bearer_auth(&gw.admin).send().unwrap().text().unwrap();
    let banner = section(&page, "id=\"guardrail-banner\"", "</div>");
    assert!(banner.contains("cheap moves revenue by -") && banner.contains("paused automatically"), "{banner}");
}
