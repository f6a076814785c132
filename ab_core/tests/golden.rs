//! `ab_core` against the golden vectors (scipy, statsmodels and xxhash via
//! `tests/golden/generate.py`), 1e-9 relative.

use ab_core::catalog::{self, Args, Returns, Value as Output};
use ab_core::compare::{self, TestSettings};
use ab_core::records::{FieldValue, ResultRecord};
use ab_core::moments::{CoMomentMatrix, CoMoments, Moments, TwoGroups};
use ab_core::planning::{self, Design, RatePair};
use ab_core::srm::{self, Correction};
use ab_core::{assign, Alternative};
use golden_vectors::{case_name, cases, f64_of, f64s_of, i64_of, i64s_of, str_of, Actual, Checker};
use serde_json::Value;

/// A field of a result record by name, as `ab_core` names it for every engine.
fn field_of<R: ResultRecord>(record: &R, name: &str) -> Actual {
    let Some(index) = R::RECORD.fields.iter().position(|(field, _)| *field == name) else { return Actual::Missing };
    actual_of(record.values()[index])
}

fn actual_of(value: FieldValue) -> Actual {
    match value {
        FieldValue::Float(v) => Actual::Float(v),
        FieldValue::Bool(v) => Actual::Bool(v),
        FieldValue::Int(v) => Actual::Int(v.map(i64::from)),
        FieldValue::BigInt(v) => Actual::Int(v),
    }
}

fn each_case(section: &str, mut check: impl FnMut(&str, &Value, &mut Checker)) {
    let vectors = golden_vectors::load();
    let mut checker = Checker::default();
    for (index, case) in cases(&vectors, section).iter().enumerate() {
        check(&case_name(section, index, case), case, &mut checker);
    }
    checker.finish(section);
}

fn settings(case: &Value) -> TestSettings {
    TestSettings::new(f64_of(&case["alpha"]), str_of(&case["alternative"])).expect("valid settings")
}

fn design(case: &Value) -> Design {
    Design::new(f64_of(&case["alpha"]), str_of(&case["alternative"]), i64_of(&case["comparisons"]) as i32)
        .expect("valid design")
}

#[test]
fn hash_matches_xxh3_reference() {
    each_case("hash", |name, case, checker| {
        let (unit, salt) = (str_of(&case["unit"]), str_of(&case["salt"]));
        checker.exact(name, "h", assign::hash64(unit, salt), str_of(&case["h"]).parse::<u64>().expect("u64"));
        // u is exact: 53 bits scaled by a power of two.
        checker.exact(name, "u", assign::hash_unit(unit, salt), f64_of(&case["u"]));
    });
}

#[test]
fn bucket_matches_reference() {
    each_case("bucket", |name, case, checker| {
        let buckets = i64_of(&case["buckets"]) as i32;
        let actual = assign::bucket(str_of(&case["unit"]), str_of(&case["salt"]), buckets).expect("valid");
        checker.exact(name, "bucket", i64::from(actual), i64_of(&case["bucket"]));
    });
}

#[test]
fn assign_matches_reference() {
    each_case("assign", |name, case, checker| {
        let weights = f64s_of(&case["weights"]);
        let actual = assign::assign_index(str_of(&case["unit"]), str_of(&case["salt"]), &weights).expect("valid");
        checker.exact(name, "index", actual as i64, i64_of(&case["index"]));
    });
}

#[test]
fn in_sample_matches_reference() {
    each_case("in_sample", |name, case, checker| {
        let actual = assign::in_sample(str_of(&case["unit"]), str_of(&case["salt"]), f64_of(&case["fraction"]));
        checker.exact(name, "in_sample", actual.ok(), case["in_sample"].as_bool());
    });
}

#[test]
fn ztest_matches_statsmodels() {
    each_case("ztest", |name, case, checker| {
        let r = compare::ztest(
            i64_of(&case["x_c"]),
            i64_of(&case["n_c"]),
            i64_of(&case["x_t"]),
            i64_of(&case["n_t"]),
            settings(case),
        )
        .expect("valid input");
        checker.record(name, &case["expected"], |field| field_of(&r, field));
    });
}

#[test]
fn ttest_from_stats_matches_scipy() {
    each_case("ttest_stats", |name, case, checker| {
        let r = compare::ttest(
            (f64_of(&case["mean_c"]), f64_of(&case["sd_c"]), i64_of(&case["n_c"])),
            (f64_of(&case["mean_t"]), f64_of(&case["sd_t"]), i64_of(&case["n_t"])),
            settings(case),
        )
        .expect("valid input");
        checker.record(name, &case["expected"], |field| field_of(&r, field));
    });
}

/// Pushes the data in two halves per arm and merges them, so the merge path is checked too.
fn moments_groups(control: &[f64], treatment: &[f64]) -> TwoGroups<Moments> {
    let half = |values: &[f64]| {
        let (left, right) = values.split_at(values.len() / 2);
        let (mut a, mut b) = (Moments::default(), Moments::default());
        left.iter().for_each(|v| a.push(*v));
        right.iter().for_each(|v| b.push(*v));
        a.merge(&b);
        a
    };
    TwoGroups { control: half(control), treatment: half(treatment) }
}

#[test]
fn ttest_of_data_matches_scipy() {
    each_case("ttest_data", |name, case, checker| {
        let groups = moments_groups(&f64s_of(&case["control"]), &f64s_of(&case["treatment"]));
        let r = compare::ttest_of_groups(&groups, settings(case)).expect("both groups have data");
        checker.record(name, &case["expected"], |field| field_of(&r, field));
    });
}

#[test]
fn cuped_matches_reference() {
    each_case("cuped_data", |name, case, checker| {
        let arm = |arm: &Value| {
            let mut state = CoMoments::default();
            for (y, x) in f64s_of(&arm["y"]).into_iter().zip(f64s_of(&arm["x"])) {
                state.push(x, y);
            }
            state
        };
        let groups = TwoGroups { control: arm(&case["control"]), treatment: arm(&case["treatment"]) };
        let r = compare::cuped_of_groups(&groups, settings(case)).expect("both groups have data");
        checker.record(name, &case["expected"], |field| field_of(&r, field));
    });
}

#[test]
fn moments_match_numpy() {
    each_case("moments", |name, case, checker| {
        let mut state = Moments::default();
        f64s_of(&case["values"]).iter().for_each(|v| state.push(*v));
        checker.exact(name, "count", state.count() as i64, i64_of(&case["count"]));
        checker.float(name, "mean", Some(state.mean()), &case["mean"]);
        checker.float(name, "var", state.variance(), &case["var"]);
    });
}

#[test]
fn sample_sizes_match_reference() {
    each_case("sample_size_prop", |name, case, checker| {
        let rates = RatePair::new(f64_of(&case["baseline"]), f64_of(&case["mde"]), case["relative"] == true).expect("valid");
        let n = planning::sample_size_prop(rates, f64_of(&case["power"]), design(case)).expect("valid");
        checker.exact(name, "n", n, i64_of(&case["expected"]));
    });
    each_case("sample_size_mean", |name, case, checker| {
        let n = planning::sample_size_mean(f64_of(&case["sd"]), f64_of(&case["mde"]), f64_of(&case["power"]), design(case))
            .expect("valid");
        checker.exact(name, "n", n, i64_of(&case["expected"]));
    });
}

#[test]
fn power_and_mde_match_reference() {
    each_case("power_prop", |name, case, checker| {
        let rates = RatePair::new(f64_of(&case["baseline"]), f64_of(&case["mde"]), case["relative"] == true).expect("valid");
        let power = planning::power_prop(rates, i64_of(&case["n"]), design(case)).expect("valid");
        checker.float(name, "power", Some(power), &case["expected"]);
    });
    each_case("power_mean", |name, case, checker| {
        let power = planning::power_mean(f64_of(&case["sd"]), f64_of(&case["mde"]), i64_of(&case["n"]), design(case));
        checker.float(name, "power", power.ok(), &case["expected"]);
    });
    each_case("mde_prop", |name, case, checker| {
        let mde = planning::mde_prop(
            f64_of(&case["baseline"]),
            i64_of(&case["n"]),
            f64_of(&case["power"]),
            case["relative"] == true,
            design(case),
        )
        .expect("valid");
        checker.float(name, "mde", mde, &case["expected"]);
    });
    each_case("mde_mean", |name, case, checker| {
        let mde = planning::mde_mean(f64_of(&case["sd"]), i64_of(&case["n"]), f64_of(&case["power"]), design(case));
        checker.float(name, "mde", mde.ok(), &case["expected"]);
    });
    each_case("duration_days", |name, case, checker| {
        let days = planning::duration_days(
            i64_of(&case["n_per_variant"]),
            i64_of(&case["variants"]) as i32,
            f64_of(&case["daily_traffic"]),
            f64_of(&case["traffic_fraction"]),
        )
        .expect("valid");
        checker.exact(name, "days", i64::from(days), i64_of(&case["expected"]));
    });
}

#[test]
fn srm_matches_scipy_chisquare() {
    each_case("srm", |name, case, checker| {
        let r = srm::srm(&i64s_of(&case["observed"]), &f64s_of(&case["weights"])).expect("valid");
        checker.record(name, &case["expected"], |field| field_of(&r, field));
    });
}

#[test]
fn adjusted_pvalues_match_statsmodels() {
    each_case("adjust", |name, case, checker| {
        let correction = Correction::parse(str_of(&case["method"])).expect("known method");
        let adjusted = srm::adjust_pvalues(&f64s_of(&case["p"]), correction).expect("valid");
        let expected = case["expected"].as_array().expect("array");
        checker.exact(name, "len", adjusted.len(), expected.len());
        for (i, (a, e)) in adjusted.iter().zip(expected).enumerate() {
            checker.float(name, &format!("p[{i}]"), Some(*a), e);
        }
    });
}

#[test]
fn alternative_spellings() {
    assert_eq!(Alternative::parse("greater"), Ok(Alternative::Larger));
    assert_eq!(Alternative::parse("less"), Ok(Alternative::Smaller));
    assert_eq!(Alternative::parse("two-sided"), Ok(Alternative::TwoSided));
    let error = Alternative::parse("bigger").unwrap_err();
    assert_eq!(error.argument, "alternative");
}

#[test]
fn beta_distribution_matches_scipy() {
    each_case("beta", |name, case, checker| {
        let (a, b, x) = (f64_of(&case["a"]), f64_of(&case["b"]), f64_of(&case["x"]));
        checker.float(name, "cdf", ab_core::dist::beta_cdf(a, b, x).ok(), &case["cdf"]);
        checker.float(name, "pdf", Some(ab_core::dist::beta_pdf(a, b, x)), &case["pdf"]);
    });
}

#[test]
fn bayes_prop_matches_quadrature_reference() {
    each_case("bayes_prop", |name, case, checker| {
        let actual = ab_core::bayes::bayes_prop(
            i64_of(&case["x_c"]), i64_of(&case["n_c"]), i64_of(&case["x_t"]), i64_of(&case["n_t"]),
            f64_of(&case["prior_a"]), f64_of(&case["prior_b"]),
        )
        .expect("valid");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

#[test]
fn bayes_mean_matches_scipy_normal() {
    each_case("bayes_mean", |name, case, checker| {
        let arm = |m: &str, s: &str, n: &str| (f64_of(&case[m]), f64_of(&case[s]), i64_of(&case[n]));
        let actual = ab_core::bayes::bayes_mean(arm("mean_c", "sd_c", "n_c"), arm("mean_t", "sd_t", "n_t")).expect("valid");
        match actual {
            Some(result) => checker.record(name, &case["expected"], |field| field_of(&result, field)),
            None => checker.exact(name, "undefined", case["expected"].is_null(), true),
        }
    });
}

#[test]
fn thompson_weights_match_quadrature_reference() {
    each_case("thompson", |name, case, checker| {
        let actual = ab_core::bayes::thompson_weights(&i64s_of(&case["successes"]), &i64s_of(&case["trials"]), f64_of(&case["floor"]))
            .expect("valid");
        for (index, (weight, expected)) in actual.iter().zip(case["expected"].as_array().expect("array")).enumerate() {
            checker.float(name, &format!("weight[{index}]"), Some(*weight), expected);
        }
    });
}

#[test]
fn msprt_matches_reference() {
    each_case("msprt", |name, case, checker| {
        let actual = ab_core::sequential::msprt(
            f64_of(&case["diff"]), f64_of(&case["variance"]), f64_of(&case["tau2"]), f64_of(&case["alpha"]),
        )
        .expect("valid");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

#[test]
fn winsorize_matches_numpy_clip() {
    each_case("winsorize", |name, case, checker| {
        let actual = ab_core::outliers::winsorize(f64_of(&case["value"]), f64_of(&case["lo"]), f64_of(&case["hi"])).expect("valid");
        checker.float(name, "value", Some(actual), &case["expected"]);
    });
}

fn ratio_groups(case: &Value) -> TwoGroups<CoMoments> {
    let mut groups = TwoGroups::<CoMoments>::default();
    for (arm, is_treatment) in [("control", false), ("treatment", true)] {
        let (numerators, denominators) = (f64s_of(&case[arm]["numerator"]), f64s_of(&case[arm]["denominator"]));
        for (numerator, denominator) in numerators.iter().zip(&denominators) {
            groups.group_mut(is_treatment).push(*denominator, *numerator);
        }
    }
    groups
}

#[test]
fn ratio_matches_delta_method_reference() {
    each_case("ratio", |name, case, checker| {
        let actual = compare::ratio_of_groups(&ratio_groups(case), settings(case)).expect("defined");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

#[test]
fn ratio_cuped_matches_matrix_reference() {
    each_case("ratio_cuped", |name, case, checker| {
        let mut groups = TwoGroups::<CoMomentMatrix<4>>::default();
        for (arm, is_treatment) in [("control", false), ("treatment", true)] {
            let columns: Vec<Vec<f64>> = ["numerator", "denominator", "pre_numerator", "pre_denominator"]
                .iter()
                .map(|variable| f64s_of(&case[arm][*variable]))
                .collect();
            let arm = groups.group_mut(is_treatment);
            (0..columns[0].len()).for_each(|row| arm.push(std::array::from_fn(|k| columns[k][row])));
        }
        let actual = compare::ratio_cuped_of_groups(&groups, settings(case)).expect("defined");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

#[test]
fn interaction_matches_welch_satterthwaite_reference() {
    each_case("interaction", |name, case, checker| {
        let mut groups = TwoGroups::<TwoGroups<Moments>>::default();
        for (key, a, b) in [("00", false, false), ("01", false, true), ("10", true, false), ("11", true, true)] {
            for value in f64s_of(&case["cells"][key]) {
                groups.group_mut(a).group_mut(b).push(value);
            }
        }
        let actual = compare::interaction_of_groups(&groups, settings(case)).expect("defined");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

#[test]
fn sequential_aggregates_match_reference_from_raw_data() {
    each_case("sequential_data", |name, case, checker| {
        let groups = moments_groups(&f64s_of(&case["control"]), &f64s_of(&case["treatment"]));
        let alpha = f64_of(&case["alpha"]);
        let msprt = ab_core::sequential::msprt_of_groups(&groups, f64_of(&case["tau2"]), alpha).expect("valid").expect("defined");
        checker.record(&format!("{name} msprt"), &case["msprt"], |field| field_of(&msprt, field));
        let sequence = ab_core::sequential::seq_ttest_of_groups(&groups, alpha, f64_of(&case["tuning_n"])).expect("valid").expect("defined");
        checker.record(&format!("{name} seq_ttest"), &case["seq_ttest"], |field| field_of(&sequence, field));
    });
}

#[test]
fn quantile_test_matches_reference() {
    each_case("quantile", |name, case, checker| {
        let actual = ab_core::quantile::quantile_test(
            &f64s_of(&case["control"]), &f64s_of(&case["treatment"]), f64_of(&case["q"]), f64_of(&case["alpha"]),
        )
        .expect("valid");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

#[test]
fn contamination_matches_set_counting() {
    each_case("contamination", |name, case, checker| {
        let strings = |key: &str| case[key].as_array().expect("array").iter().map(|v| str_of(v).to_owned()).collect::<Vec<_>>();
        let actual = ab_core::contamination::contamination(&strings("units"), &strings("variants")).expect("valid").expect("rows");
        checker.record(name, &case["expected"], |field| field_of(&actual, field));
    });
}

/// A case's arguments, read as the catalog's parameters declare them.
struct JsonArgs<'a>(&'a [Value]);

impl Args for JsonArgs<'_> {
    fn float(&self, i: usize) -> f64 {
        f64_of(&self.0[i])
    }
    fn int(&self, i: usize) -> i64 {
        i64_of(&self.0[i])
    }
    fn int32(&self, i: usize) -> i32 {
        i32::try_from(i64_of(&self.0[i])).expect("an int4 argument")
    }
    fn bool(&self, i: usize) -> bool {
        self.0[i].as_bool().expect("a boolean argument")
    }
    fn text(&self, i: usize) -> &str {
        str_of(&self.0[i])
    }
    fn floats(&self, i: usize) -> ab_core::Result<Vec<f64>> {
        Ok(f64s_of(&self.0[i]))
    }
    fn ints(&self, i: usize) -> ab_core::Result<Vec<i64>> {
        Ok(i64s_of(&self.0[i]))
    }
    fn texts(&self, i: usize) -> ab_core::Result<Vec<String>> {
        Ok(self.0[i].as_array().expect("an array argument").iter().map(|v| str_of(v).to_owned()).collect())
    }
}

/// The "catalog_calls" section: each case calls a catalog function by name with all its
/// arguments, through the body every engine runs.
#[test]
fn catalog_calls_match_their_references() {
    each_case("catalog_calls", |name, case, checker| {
        let (record, values) = call_returning_record(name, case);
        checker.record(name, &case["expected"], |field| record_field(record, &values, field));
    });
}

/// Calls a catalog function by name with all of a case's arguments.
fn call_by_name(name: &str, case: &Value) -> (&'static catalog::Overload, Output) {
    let function = catalog::function(str_of(&case["function"])).unwrap_or_else(|| panic!("{name}: not in the catalog"));
    let args = case["args"].as_array().expect("args");
    let overload = function.overloads.iter().find(|o| o.params.len() == args.len()).expect("an overload taking every argument");
    (overload, (overload.body)(&JsonArgs(args)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// A call of a function whose result is a record: the record and its values.
fn call_returning_record(name: &str, case: &Value) -> (&'static ab_core::records::Record, Vec<FieldValue>) {
    let (overload, output) = call_by_name(name, case);
    let Returns::Record(record) = overload.returns else { panic!("{name}: not a call with a record result") };
    let Output::Record(values) = output else { panic!("{name}: no record") };
    (record, values)
}

/// A field of a record's values by name.
fn record_field(record: &ab_core::records::Record, values: &[FieldValue], field: &str) -> Actual {
    match record.fields.iter().position(|(f, _)| *f == field) {
        Some(index) => actual_of(values[index]),
        None => Actual::Missing,
    }
}

/// Largest difference of a z boundary from spotify-confidence's (1.3e-4 measured): its grid's trapezoids of 0.05 sd
/// and a bisection stopping within 1e-7 of the probability to spend (tests/golden/
/// generate_group_sequential.py).
const SPOTIFY_Z_TOLERANCE: f64 = 5e-4;

/// The documented accuracy of the group sequential figures (docs/statistics.md): Simpson's rule
/// on Jennison and Turnbull's grid, measured 4.5e-8 at worst against the quadrature reference.
const GRID_TOLERANCE: f64 = 1e-7;

/// Group sequential boundaries and inflation factors (tests/golden/group_sequential.json):
/// the quadrature reference at the grid's accuracy, spotify-confidence's at its own.
#[test]
fn group_sequential_designs_match_their_references() {
    let vectors = golden_vectors::load_file("group_sequential.json");
    let mut exact = Checker::with_tolerance(GRID_TOLERANCE);
    let (mut spotify_checked, mut spotify_worst, mut spotify_failures) = (0, 0.0_f64, Vec::new());
    for (index, case) in cases(&vectors, "boundaries").iter().enumerate() {
        let name = case_name("boundaries", index, case);
        let (record, values) = call_returning_record(&name, case);
        let field = |wanted: &str| record_field(record, &values, wanted);
        if str_of(&case["reference"]) == "exact" {
            exact.record(&name, &case["expected"], field);
        } else {
            spotify_checked += 1;
            let expected = f64_of(&case["expected"]["z_bound"]);
            let Actual::Float(Some(z)) = field("z_bound") else { panic!("{name}: no z_bound") };
            spotify_worst = spotify_worst.max((z - expected).abs());
            if (z - expected).abs() > SPOTIFY_Z_TOLERANCE {
                spotify_failures.push(format!("{name}: z_bound = {z}, spotify-confidence {expected}"));
            }
        }
    }
    for (index, case) in cases(&vectors, "inflation").iter().enumerate() {
        let name = case_name("inflation", index, case);
        let (_, Output::Float(inflation)) = call_by_name(&name, case) else { panic!("{name}: no float") };
        exact.float(&name, "inflation", Some(inflation), &case["expected"]);
    }
    exact.finish("group sequential (quadrature)");
    assert!(spotify_checked > 0 && spotify_failures.is_empty(), "{spotify_checked} checked:\n{}", spotify_failures.join("\n"));
    eprintln!("spotify-confidence: {spotify_checked} boundaries within {spotify_worst:.1e} on z");
}
