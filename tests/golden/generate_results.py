"""A small experiment with known answers, for the results views (sql/migrations/0002).

It writes results_fixture.json: an experiment configuration, its exposures and events (some
before exposure, inside and outside the CUPED covariate window), and what ab.variant_metrics,
ab.results, ab.srm and ab.sample_size_progress must show, computed here from the raw events by
the documented rules (one value per user; events count at or after the first exposure) with the
scipy/statsmodels references of generate.py. Nothing is computed with pg_ab.

Run from anywhere:  python3 tests/golden/generate_results.py
"""

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from generate import cuped_expected, num, rates, ttest_data_expected, z_alpha, ztest_expected

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
        comparisons = []
        for treatment in ["b", "c"]:
            control = [r for r in rows if r["variant"] == "control"]
            treated = [r for r in rows if r["variant"] == treatment]
            if metric["kind"] == "conversion":
                test = ztest_expected(sum(r["converted"] for r in control), len(control),
                                      sum(r["converted"] for r in treated), len(treated), ALPHA, "two-sided")
                control_value, treatment_value = test["rate_c"], test["rate_t"]
            else:
                c = [r["value"] for r in control if r["value"] is not None]
                t = [r["value"] for r in treated if r["value"] is not None]
                test = ttest_data_expected(c, t, ALPHA, "two-sided")
                control_value, treatment_value = float(np.mean(c)), float(np.mean(t))
            expected = {"metric_id": metric["id"], "treatment_id": treatment,
                        "control_value": control_value, "treatment_value": treatment_value,
                        **{k: test[k] for k in ["diff", "rel_lift", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high", "p_value"]}}
            if metric.get("covariate_days"):
                cuped = cuped_expected({"y": [r["value"] for r in control], "x": [r["covariate"] for r in control]},
                                       {"y": [r["value"] for r in treated], "x": [r["covariate"] for r in treated]},
                                       ALPHA, "two-sided")
                expected.update({"cuped_diff": cuped["diff"], "cuped_p_value": cuped["p_value"],
                                 "cuped_ci_low": cuped["ci_low"], "cuped_ci_high": cuped["ci_high"],
                                 "cuped_variance_reduction": cuped["variance_reduction"]})
            comparisons.append(expected)
        holm = multipletests([c["p_value"] for c in comparisons], method="holm")[1]
        for comparison, adjusted in zip(comparisons, holm):
            comparison["holm_p_value"] = float(adjusted)
            comparison["significant"] = bool(adjusted < ALPHA)
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


if __name__ == "__main__":
    main()
