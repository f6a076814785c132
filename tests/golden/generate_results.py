"""Experiments with known answers, for the results views (sql/migrations/0002 and 0004).

It writes results_fixture.json: an experiment configuration, its exposures and events (some
before exposure, inside and outside the CUPED covariate window), and what ab.variant_metrics,
ab.results, ab.srm and ab.sample_size_progress must show, computed here from the raw events by
the documented rules (one value per user; events count at or after the first exposure) with the
scipy/statsmodels references of generate.py. Nothing is computed with pg_ab.

It also writes verdict_grid.json: a grid of generated experiments (2 to 5 arms, small and large
arms, a conversion, a skewed (lognormal) per-user sum and a per-user mean), one value per user,
with each comparison's verdict (docs/statistics.md, "One verdict per comparison") two-sided as
ab.results shows it and one-sided as ab_verdicts_prop/ab_verdicts_mean give it: Wald z
(statsmodels' test_proportions_2indep and confint_proportions_2indep) or Welch t (scipy's
ttest_ind and its confidence_interval), Holm by statsmodels' multipletests, intervals at Holm's
level, and Fieller's interval of the lift found by root-finding (scipy's brentq).

Run from anywhere:  python3 tests/golden/generate_results.py
"""

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from generate import SCIPY_ALTERNATIVE, cuped_expected, num, rates, ttest_data_expected, z_alpha, ztest_expected

RNG = np.random.default_rng(20261125)
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
ALPHA = 0.05

CONFIG = {
    "id": "fixture", "salt": "fixture-salt", "name": "Results fixture",
    "variants": [
        {"id": "control", "weight": 0.4, "is_control": True},
        {"id": "b", "weight": 0.3, "config": {}},
        {"id": "c", "weight": 0.3, "config": {}},
    ],
    "metrics": [
        {"id": "purchase", "kind": "conversion", "event_type": "purchase"},
        {"id": "revenue", "kind": "continuous", "event_type": "purchase", "field": "revenue", "covariate_days": 14},
        {"id": "session_seconds", "kind": "continuous", "event_type": "session", "field": "seconds", "per_user": "mean"},
    ],
    "guardrails": [{"metric": "session_seconds", "bad_direction": "decrease", "threshold": 0.05}],
    "planning": {"baseline": 0.3, "mde": 0.2},
}
LIFT = {"control": 1.0, "b": 1.25, "c": 0.7}


def stamp(t):
    return t.isoformat().replace("+00:00", "Z")


def simulate(users=900):
    exposures, events = [], []
    variants = RNG.choice(["control", "b", "c"], size=users, p=[0.42, 0.29, 0.29])
    for i in range(users):
        user, variant = f"user-{i}", str(variants[i])
        exposed = BASE + timedelta(days=float(RNG.uniform(0, 3)))
        exposures.append({"user_id": user, "variant_id": variant, "first_exposed_at": stamp(exposed)})
        taste = RNG.lognormal(0, 0.5)
        # Purchases: some long before (outside the covariate window), some before, some after.
        for days_from_exposure, scale in [(-30, 1.0), (-10, 1.0), (-1, 1.0), (2, LIFT[variant]), (5, LIFT[variant])]:
            if RNG.random() < min(0.95, 0.25 * taste * scale):
                at = exposed + timedelta(days=days_from_exposure + float(RNG.uniform(0, 0.9)))
                events.append({"user_id": user, "event_type": "purchase", "event_time": stamp(at),
                               "metrics": {"revenue": round(float(RNG.lognormal(3, 0.7) * taste), 2)}})
        # Sessions after exposure only, some without the field.
        for _ in range(int(RNG.poisson(1.5))):
            at = exposed + timedelta(hours=float(RNG.uniform(0, 72)))
            metrics = {} if RNG.random() < 0.1 else {"seconds": round(float(RNG.gamma(2, 60) * LIFT[variant] ** 0.3), 1)}
            events.append({"user_id": user, "event_type": "session", "event_time": stamp(at), "metrics": metrics})
    # An event at the exact exposure instant counts; one a microsecond before does not.
    first = exposures[0]
    at = datetime.fromisoformat(first["first_exposed_at"].replace("Z", "+00:00"))
    events.append({"user_id": first["user_id"], "event_type": "purchase", "event_time": stamp(at), "metrics": {"revenue": 7.0}})
    events.append({"user_id": first["user_id"], "event_type": "purchase", "event_time": stamp(at - timedelta(microseconds=1)),
                   "metrics": {"revenue": 5.0}})
    # Events of users never exposed are ignored.
    events.append({"user_id": "stranger", "event_type": "purchase", "event_time": stamp(BASE + timedelta(days=2)),
                   "metrics": {"revenue": 1000.0}})
    return exposures, events


def per_user_values(exposures, events, metric):
    """The value and covariate of each exposed user, by the rules of docs and views."""
    by_user = {}
    for e in events:
        by_user.setdefault(e["user_id"], []).append(e)
    rows = []
    for x in exposures:
        exposed = datetime.fromisoformat(x["first_exposed_at"].replace("Z", "+00:00"))
        mine = [e for e in by_user.get(x["user_id"], []) if e["event_type"] == metric["event_type"]]
        times = [datetime.fromisoformat(e["event_time"].replace("Z", "+00:00")) for e in mine]
        after = [e for e, t in zip(mine, times) if t >= exposed]
        window = metric.get("covariate_days")
        before = [e for e, t in zip(mine, times) if window and exposed - timedelta(days=window) <= t < exposed]

        def value(selected):
            if metric["kind"] == "conversion":
                return 1.0 if selected else 0.0
            values = [e["metrics"][metric["field"]] for e in selected if metric["field"] in e["metrics"]]
            if metric.get("per_user", "sum") == "mean":
                return sum(values) / len(values) if values else None
            return float(sum(values))

        rows.append({"variant": x["variant_id"], "converted": bool(after), "value": value(after),
                     "covariate": value(before) if window else None})
    return rows


def fieller(m_c, m_t, a, b, critical, alternative):
    """Fieller's interval of m_t/m_c: the ratios r where (m_t − r·m_c)/√(a + r²b) stays within
    the critical value, by root-finding outwards from m_t/m_c; None when unbounded."""
    if not m_c * m_c > critical * critical * b:
        return None, None
    excess = lambda r: (m_t - r * m_c) ** 2 / (a + r * r * b) - critical * critical
    center = m_t / m_c

    def root(direction):
        step = max(abs(center), 1.0)
        while excess(center + direction * step) < 0:
            step *= 2
        far = center + direction * step
        return optimize.brentq(excess, min(center, far), max(center, far), xtol=1e-300, rtol=4 * np.finfo(float).eps)

    low, high = root(-1), root(1)
    rising = m_c < 0  # the statistic rises with r: −c at the low root, +c at the high one
    if alternative == "two-sided":
        return low, high
    if (alternative == "larger") != rising:
        return low, math.inf
    return -math.inf, high


def verdicts_expected(kind, control, treatments, alpha, alternative):
    """The verdict of each treatment against control: for conversions, arms are (x, n); for
    continuous metrics, arrays of per-user values."""
    tests = []
    for treatment in treatments:
        if kind == "conversion":
            (x_c, n_c), (x_t, n_t) = control, treatment
            m_c, m_t = x_c / n_c, x_t / n_t
            a, b = m_t * (1 - m_t) / n_t, m_c * (1 - m_c) / n_c
            result = None
            if a + b > 0:
                result = test_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alternative=alternative)
            statistic, p, df = (float(result.statistic), float(result.pvalue), None) if result else (None, None, None)
        else:
            c, t = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
            m_c, m_t = float(np.mean(c)), float(np.mean(t))
            a = float(np.var(t, ddof=1)) / len(t) if len(t) > 1 else math.nan
            b = float(np.var(c, ddof=1)) / len(c) if len(c) > 1 else math.nan
            result = None
            if a + b > 0:
                result = stats.ttest_ind(t, c, equal_var=False, alternative=SCIPY_ALTERNATIVE[alternative])
            statistic, p, df = (float(result.statistic), float(result.pvalue), float(result.df)) if result else (None, None, None)
        tests.append({"m_c": m_c, "m_t": m_t, "a": a, "b": b, "result": result, "statistic": statistic, "p": p, "df": df,
                      "treatment": treatment})
    holm = multipletests([1.0 if t["p"] is None else t["p"] for t in tests], method="holm")[1]
    verdicts = []
    for test, holm_p in zip(tests, holm):
        holm_p = float(holm_p)
        verdict = {"diff": test["m_t"] - test["m_c"], "rel_lift": (test["m_t"] - test["m_c"]) / test["m_c"] if test["m_c"] else None,
                   "statistic": test["statistic"], "df": test["df"], "p_value": test["p"], "holm_p_value": holm_p,
                   "significant": bool(holm_p < alpha), "interval_level": None, "ci_low": None, "ci_high": None,
                   "rel_ci_low": None, "rel_ci_high": None}
        if test["p"] is not None:
            # Holm's level for this comparison; at p = 0, Bonferroni's (Holm's smallest).
            level_alpha = alpha * test["p"] / holm_p if holm_p > 0 else alpha / len(tests)
            tail = level_alpha / 2 if alternative == "two-sided" else level_alpha
            if kind == "conversion":
                (x_c, n_c), (x_t, n_t) = control, test["treatment"]
                low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=2 * tail)
                low, high = float(low), float(high)
                critical = stats.norm.isf(tail)
            else:
                interval = test["result"].confidence_interval(1 - level_alpha)
                low, high = float(interval.low), float(interval.high)
                critical = stats.t.isf(tail, test["df"])
            low, high = {"two-sided": (low, high), "larger": (low, math.inf), "smaller": (-math.inf, high)}[alternative]
            rel_low, rel_high = fieller(test["m_c"], test["m_t"], test["a"], test["b"], critical, alternative)
            verdict.update({"interval_level": 1 - level_alpha, "ci_low": low, "ci_high": high,
                            "rel_ci_low": None if rel_low is None else rel_low - 1,
                            "rel_ci_high": None if rel_high is None else rel_high - 1})
        verdicts.append(verdict)
    return verdicts


def expected_results(exposures, events):
    variant_metrics, results = [], []
    for metric in CONFIG["metrics"]:
        rows = per_user_values(exposures, events, metric)
        for variant in ["control", "b", "c"]:
            mine = [r for r in rows if r["variant"] == variant]
            values = np.array([r["value"] for r in mine if r["value"] is not None])
            variant_metrics.append({
                "metric_id": metric["id"], "variant_id": variant, "units": len(mine),
                "mean": float(values.mean()), "sd": float(values.std(ddof=1)),
                "conversion_rate": sum(r["converted"] for r in mine) / len(mine),
                "median": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            })
        control = [r for r in rows if r["variant"] == "control"]
        arms = {v: [r for r in rows if r["variant"] == v] for v in ["b", "c"]}
        if metric["kind"] == "conversion":
            verdicts = verdicts_expected("conversion", (sum(r["converted"] for r in control), len(control)),
                                         [(sum(r["converted"] for r in arms[v]), len(arms[v])) for v in arms], ALPHA, "two-sided")
        else:
            present = lambda rs: [r["value"] for r in rs if r["value"] is not None]
            verdicts = verdicts_expected("continuous", present(control), [present(arms[v]) for v in arms], ALPHA, "two-sided")
        comparisons = []
        for treatment, verdict in zip(arms, verdicts):
            treated = arms[treatment]
            if metric["kind"] == "conversion":
                test = ztest_expected(sum(r["converted"] for r in control), len(control),
                                      sum(r["converted"] for r in treated), len(treated), ALPHA, "two-sided")
                control_value, treatment_value = test["rate_c"], test["rate_t"]
            else:
                c = [r["value"] for r in control if r["value"] is not None]
                t = [r["value"] for r in treated if r["value"] is not None]
                test = ttest_data_expected(c, t, ALPHA, "two-sided")
                control_value, treatment_value = float(np.mean(c)), float(np.mean(t))
                # The verdict of a mean is Welch's test itself: the same p-value as before.
                assert abs(verdict["p_value"] - test["p_value"]) <= 1e-12 * test["p_value"], (verdict, test)
            expected = {"metric_id": metric["id"], "treatment_id": treatment,
                        "control_value": control_value, "treatment_value": treatment_value,
                        **{k: test[k] for k in ["diff", "rel_lift"]},
                        # Conversions: the Wald p-value (was the pooled z-test's); means: unchanged.
                        "p_value": verdict["p_value"] if metric["kind"] == "conversion" else test["p_value"],
                        **{k: verdict[k] for k in ["ci_low", "ci_high", "rel_ci_low", "rel_ci_high", "interval_level",
                                                   "statistic", "df", "holm_p_value", "significant"]}}
            if verdict["interval_level"] == 1 - ALPHA:
                # Unadjusted level: the interval of diff is the one this fixture always had.
                assert abs(verdict["ci_low"] - test["ci_low"]) <= 1e-12 * abs(test["ci_low"]), (verdict, test)
                expected.update(ci_low=test["ci_low"], ci_high=test["ci_high"])
            if metric.get("covariate_days"):
                cuped = cuped_expected({"y": [r["value"] for r in control], "x": [r["covariate"] for r in control]},
                                       {"y": [r["value"] for r in treated], "x": [r["covariate"] for r in treated]},
                                       ALPHA, "two-sided")
                expected.update({"cuped_diff": cuped["diff"], "cuped_p_value": cuped["p_value"],
                                 "cuped_ci_low": cuped["ci_low"], "cuped_ci_high": cuped["ci_high"],
                                 "cuped_variance_reduction": cuped["variance_reduction"]})
            comparisons.append(expected)
        results.extend(comparisons)
    return variant_metrics, results


def expected_srm(exposures):
    observed = [sum(x["variant_id"] == v["id"] for x in exposures) for v in CONFIG["variants"]]
    weights = [v["weight"] for v in CONFIG["variants"]]
    result = stats.chisquare(observed, [sum(observed) * w for w in weights])
    return {"observed": observed, "chi2": float(result.statistic), "p_value": float(result.pvalue),
            "mismatch": bool(result.pvalue < 0.001)}


def expected_required_n():
    planning = CONFIG["planning"]
    p1, p2 = rates(planning["baseline"], planning["mde"], True)
    z = z_alpha(0.05, "two-sided", len(CONFIG["variants"]) - 1) + stats.norm.ppf(0.8)
    return math.ceil(z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2)


GRID_ARMS = {2: [0.6], 3: [0.0, 0.5], 4: [0.1, -0.4, 0.8], 5: [0.0, 0.15, 0.7, -0.5]}


def grid_users(arms, n, rng):
    """One row per user: [arm, converted, revenue (per-user sum), seconds (per-user mean or None)]."""
    users = []
    for arm in range(arms):
        lift = 0.0 if arm == 0 else GRID_ARMS[arms][arm - 1]
        for _ in range(n + int(rng.integers(0, 3))):
            converted = bool(rng.random() < 0.12 * (1 + lift))
            revenue = round(float(rng.lognormal(3, 1.3)) * (1 + lift), 2) if converted else 0.0
            seconds = round(float(rng.gamma(2, 60)) * (1 + lift / 3), 1) if rng.random() < 0.8 else None
            users.append([arm, int(converted), revenue, seconds])
    return users


def grid_expected(users, arms, alternative):
    by_arm = [[u for u in users if u[0] == arm] for arm in range(arms)]
    counts = [(sum(u[1] for u in rows), len(rows)) for rows in by_arm]
    revenue = [[u[2] for u in rows] for rows in by_arm]
    seconds = [[u[3] for u in rows if u[3] is not None] for rows in by_arm]
    expected = {}
    for metric, kind, arm_data in [("purchase", "conversion", counts), ("revenue", "continuous", revenue),
                                   ("seconds", "continuous", seconds)]:
        verdicts = verdicts_expected(kind, arm_data[0], arm_data[1:], ALPHA, alternative)
        expected[metric] = [{k: num(v) if isinstance(v, float) else v for k, v in verdict.items()} for verdict in verdicts]
    return expected


def verdict_grid():
    """Experiments for the property test of one verdict per comparison."""
    rng = np.random.default_rng(20261214)
    experiments = []
    for arms in [2, 3, 4, 5]:
        for n in [9, 40, 1500]:
            users = grid_users(arms, n, rng)
            experiments.append({
                "id": f"grid-{arms}-{n}", "arms": arms, "users": users,
                "expected": {alternative: grid_expected(users, arms, alternative) for alternative in ["two-sided", "larger", "smaller"]},
            })
    return experiments


def main():
    exposures, events = simulate()
    variant_metrics, results = expected_results(exposures, events)
    fixture = {
        "config": CONFIG, "exposures": exposures, "events": events,
        "expected": {"variant_metrics": variant_metrics, "results": results, "srm": expected_srm(exposures),
                     "required_per_variant": expected_required_n()},
    }
    for row in fixture["expected"]["results"]:
        for key, value in row.items():
            row[key] = num(value) if isinstance(value, float) else value
    path = Path(__file__).with_name("results_fixture.json")
    with path.open("w") as out:
        json.dump(fixture, out, indent=1, sort_keys=True, allow_nan=False)
        out.write("\n")
    print(f"wrote {path}: {len(exposures)} exposures, {len(events)} events, {len(results)} comparisons")
    grid = verdict_grid()
    path = Path(__file__).with_name("verdict_grid.json")
    with path.open("w") as out:
        json.dump({"alpha": ALPHA, "experiments": grid}, out, sort_keys=True, allow_nan=False, separators=(",", ":"))
        out.write("\n")
    print(f"wrote {path}: {len(grid)} experiments, {sum(len(e['users']) for e in grid)} users")


if __name__ == "__main__":
    main()
