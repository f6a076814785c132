"""Golden vectors for pg_ab, computed by the reference implementations.

Every expected figure here comes from scipy, statsmodels, mpmath or xxhash (pinned in
requirements.txt), following docs/statistics.md; where the doc defines a
statistic by a formula only (delta-method relative intervals, sample size,
power, MDE), the formula is written out below with scipy's normal and t
quantiles. Nothing is computed with pg_ab itself.

Run from anywhere:  python3 tests/golden/generate.py
It writes vectors.json next to this file. Encoding: floats as JSON numbers,
+-infinity as "inf"/"-inf", undefined statistics (NaN) as null, 64-bit
hashes as decimal strings.
"""

import json
import math
from pathlib import Path

import mpmath
import numpy as np
import xxhash
from scipy import optimize, special, stats
from scipy.stats import mstats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest, test_proportions_2indep

RNG = np.random.default_rng(20261124)
ALTERNATIVES = ["two-sided", "larger", "smaller"]
SCIPY_ALTERNATIVE = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}
OFFSET = 1e9


def num(x):
    """A float for JSON: None for NaN/None, "inf"/"-inf" for infinities."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def significant(p, alpha):
    return None if p is None or math.isnan(p) else bool(p < alpha)


# ---------------------------------------------------------------- assignment


def draw(unit, salt):
    h = xxhash.xxh3_64_intdigest(f"{salt}:{unit}".encode())
    return h, (h >> 11) * 2.0**-53


UNITS = ["user-1", "user-42", "", "usér-ü", "日本", "x" * 300, "a:b", "12345", "user-999999"]
SALTS = ["checkout", "exp:2026:blue", "", "layer-home"]


def hash_cases():
    cases = []
    for unit in UNITS:
        for salt in SALTS:
            h, u = draw(unit, salt)
            cases.append({"name": f"{salt!r}:{unit[:12]!r}", "unit": unit, "salt": salt, "h": str(h), "u": u})
    return cases


def bucket_cases():
    cases = []
    for unit in UNITS:
        for buckets in [1, 2, 100, 10000, 2147483647]:
            _, u = draw(unit, "checkout")
            cases.append({"unit": unit, "salt": "checkout", "buckets": buckets, "bucket": math.floor(u * buckets)})
    return cases


def assign_cases():
    cases = []
    weight_sets = [[0.5, 0.5], [1, 1, 1], [0.1, 0.0, 0.9], [3, 1], [0, 1], [0.2, 0.3, 0.5], [1, 0]]
    for i in range(60):
        unit = f"user-{i}"
        weights = weight_sets[i % len(weight_sets)]
        _, u = draw(unit, "checkout")
        total = float(sum(weights))
        cumulative = 0.0
        index = None
        for j, w in enumerate(weights):
            cumulative += w
            if u < cumulative / total:
                index = j + 1
                break
        cases.append({"unit": unit, "salt": "checkout", "weights": [float(w) for w in weights], "index": index})
    return cases


def in_sample_cases():
    cases = []
    for i in range(20):
        for fraction in [0.0, 0.1, 0.5, 1.0]:
            unit = f"user-{i}"
            _, u = draw(unit, "checkout:traffic")
            cases.append({"unit": unit, "salt": "checkout", "fraction": fraction, "in_sample": bool(u < fraction)})
    return cases


# ---------------------------------------------------------------- intervals


def critical(alternative, alpha, dist):
    """The quantile at 1 - alpha/2 (two-sided) or 1 - alpha, from the upper tail."""
    return dist.isf(alpha / 2 if alternative == "two-sided" else alpha)


def interval(estimate, q, se, alternative):
    if alternative == "two-sided":
        return estimate - q * se, estimate + q * se
    if alternative == "larger":
        return estimate - q * se, math.inf
    return -math.inf, estimate + q * se


def relative_interval(mean_c, var_c, n_c, mean_t, var_t, n_t, diff, q, alternative):
    """Delta method: Var(rel) = v_t/(n_t mu_c^2) + v_c mu_t^2/(n_c mu_c^4)."""
    if mean_c == 0:
        return None, None, None
    rel = diff / mean_c
    var = var_t / (n_t * mean_c**2) + var_c * mean_t**2 / (n_c * mean_c**4)
    if not math.isfinite(var) or q is None:
        return rel, None, None
    low, high = interval(rel, q, math.sqrt(var), alternative)
    return rel, low, high


# ---------------------------------------------------------------- z-test


def ztest_expected(x_c, n_c, x_t, n_t, alpha, alternative):
    rate_c, rate_t = x_c / n_c, x_t / n_t
    diff = rate_t - rate_c
    pooled = (x_c + x_t) / (n_c + n_t)
    if 0 < pooled < 1:
        z, p = proportions_ztest([x_t, x_c], [n_t, n_c], alternative=alternative)
        z, p = float(z), float(p)
    else:
        z, p = None, None
    q = critical(alternative, alpha, stats.norm)
    var_c, var_t = rate_c * (1 - rate_c), rate_t * (1 - rate_t)
    ci_low, ci_high = interval(diff, q, math.sqrt(var_t / n_t + var_c / n_c), alternative)
    rel, rel_low, rel_high = relative_interval(rate_c, var_c, n_c, rate_t, var_t, n_t, diff, q, alternative)
    return {
        "rate_c": num(rate_c), "rate_t": num(rate_t), "diff": num(diff), "rel_lift": num(rel),
        "z": num(z), "p_value": num(p), "ci_low": num(ci_low), "ci_high": num(ci_high),
        "rel_ci_low": num(rel_low), "rel_ci_high": num(rel_high), "significant": significant(p, alpha),
    }


def ztest_cases():
    counts = [
        ("typical", 100, 1000, 120, 1000),
        ("one user each", 0, 1, 1, 1),
        ("rate 0 in control", 0, 500, 12, 500),
        ("rate 1 in treatment", 480, 500, 500, 500),
        ("both 0", 0, 100, 0, 100),
        ("both 1", 100, 100, 100, 100),
        ("n = 1e12", 10**11, 10**12, 10**11 + 10**6, 10**12),
        ("p near 1e-33", 100_000, 1_000_000, 105_100, 1_000_000),
        ("p near 1e-170", 100_000, 1_000_000, 112_000, 1_000_000),
        ("unequal arms", 50, 2000, 40, 1000),
        ("no difference", 300, 3000, 300, 3000),
        ("negative lift", 260, 2000, 200, 2000),
    ]
    cases = []
    for name, x_c, n_c, x_t, n_t in counts:
        for alternative in ALTERNATIVES:
            for alpha in [0.05] if name != "typical" else [0.01, 0.05, 0.1]:
                cases.append({
                    "name": f"{name} {alternative} alpha={alpha}",
                    "x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t, "alpha": alpha, "alternative": alternative,
                    "expected": ztest_expected(x_c, n_c, x_t, n_t, alpha, alternative),
                })
    return cases


# ---------------------------------------------------------------- t-tests


def welch_expected(mean_c, var_c, n_c, mean_t, var_t, n_t, diff, t, p, alpha, alternative):
    """The fields scipy gives (t, p) plus the doc's intervals; undefined values become null."""
    vn_c, vn_t = var_c / n_c, var_t / n_t
    with np.errstate(divide="ignore", invalid="ignore"):
        se2 = vn_t + vn_c
        df = np.float64(se2) ** 2 / (np.float64(vn_t) ** 2 / (n_t - 1) + np.float64(vn_c) ** 2 / (n_c - 1))
    defined = n_c >= 2 and n_t >= 2 and se2 > 0 and math.isfinite(df)
    if defined:
        q = critical(alternative, alpha, stats.t(df))
        ci_low, ci_high = interval(diff, q, math.sqrt(se2), alternative)
    else:
        q, t, p, df, ci_low, ci_high = None, None, None, None, None, None
    rel, rel_low, rel_high = relative_interval(mean_c, var_c, n_c, mean_t, var_t, n_t, diff, q, alternative)
    return {
        "mean_c": num(mean_c), "mean_t": num(mean_t), "diff": num(diff), "rel_lift": num(rel),
        "t": num(t), "df": num(df), "p_value": num(p), "ci_low": num(ci_low), "ci_high": num(ci_high),
        "rel_ci_low": num(rel_low), "rel_ci_high": num(rel_high), "significant": significant(p, alpha),
    }


def ttest_stats_cases():
    summaries = [
        ("typical", 25.0, 40.0, 5000, 26.8, 42.0, 5000),
        ("unequal variances", 10.0, 1.0, 50, 11.0, 5.0, 30),
        ("one unit in control", 10.0, 0.0, 1, 11.0, 2.0, 30),
        ("no variance anywhere", 10.0, 0.0, 100, 11.0, 0.0, 100),
        ("variance in one arm", 10.0, 0.0, 100, 11.0, 3.0, 100),
        ("n = 1e12", 100.0, 30.0, 10**12, 100.00001, 30.0, 10**12),
        ("offset 1e9", 1e9 + 0.25, 3.0, 1000, 1e9 + 0.75, 3.5, 1200),
        ("tiny p", 10.0, 2.0, 100000, 10.3, 2.0, 100000),
        ("control mean 0", 0.0, 1.0, 500, 0.2, 1.0, 500),
        ("small samples", 3.1, 0.8, 4, 4.0, 1.1, 5),
        ("large df, moderate t", 50.0, 20.0, 2_000_000, 50.05, 20.0, 2_000_000),
    ]
    cases = []
    for name, mean_c, sd_c, n_c, mean_t, sd_t, n_t in summaries:
        for alternative in ALTERNATIVES:
            alpha = 0.05
            with np.errstate(divide="ignore", invalid="ignore"):
                t, p = stats.ttest_ind_from_stats(
                    mean_t, sd_t, n_t, mean_c, sd_c, n_c, equal_var=False, alternative=SCIPY_ALTERNATIVE[alternative])
            expected = welch_expected(
                mean_c, sd_c**2, n_c, mean_t, sd_t**2, n_t, mean_t - mean_c, float(t), float(p), alpha, alternative)
            cases.append({
                "name": f"{name} {alternative}",
                "mean_c": mean_c, "sd_c": sd_c, "n_c": n_c, "mean_t": mean_t, "sd_t": sd_t, "n_t": n_t,
                "alpha": alpha, "alternative": alternative, "expected": expected,
            })
    return cases


def exact_offset_noise(n, sd):
    """Noise on a 1/8 grid, so that 1e9 + noise is exact in float64 and so is its de-offset."""
    return np.round(RNG.normal(0, sd, n) * 8) / 8


def ttest_data_expected(control, treatment, alpha, alternative, offset=0.0):
    """scipy on the data; for offset data, scipy on the exactly de-offset data with the offset
    added back to the means (scipy on raw 1e9-offset values loses digits of the difference)."""
    c, t = np.asarray(control) - offset, np.asarray(treatment) - offset
    with np.errstate(divide="ignore", invalid="ignore"):
        result = stats.ttest_ind(t, c, equal_var=False, alternative=SCIPY_ALTERNATIVE[alternative])
    mean_c, mean_t = float(np.mean(c)), float(np.mean(t))
    diff = mean_t - mean_c
    var_c = float(np.var(c, ddof=1)) if len(c) > 1 else math.nan
    var_t = float(np.var(t, ddof=1)) if len(t) > 1 else math.nan
    expected = welch_expected(mean_c + offset, var_c, len(c), mean_t + offset, var_t, len(t), diff,
                              float(result.statistic), float(result.pvalue), alpha, alternative)
    if expected["t"] is not None:
        # The interval scipy itself reports must be the doc's; check it here, at generation time.
        ci = result.confidence_interval(1 - alpha)
        for ours, theirs in [(expected["ci_low"], ci.low), (expected["ci_high"], ci.high)]:
            ours = {"inf": math.inf, "-inf": -math.inf}.get(ours, ours)
            assert ours == theirs or abs(ours - theirs) <= 1e-12 * abs(theirs), (ours, theirs)
    return expected


def ttest_data_cases():
    datasets = [
        ("small", [3.0, 4.5, 2.5, 5.0, 4.0], [5.5, 6.0, 4.5, 7.0, 5.0, 6.5, 6.0], 0.0),
        ("normal n=500", list(RNG.normal(10, 3, 500)), list(RNG.normal(10.4, 3, 500)), 0.0),
        ("revenue with zeros n=2000",
         list(np.where(RNG.random(2000) < 0.8, 0.0, RNG.lognormal(3, 1, 2000))),
         list(np.where(RNG.random(2000) < 0.78, 0.0, RNG.lognormal(3, 1, 2000))), 0.0),
        ("one unit in treatment", list(RNG.normal(10, 3, 20)), [11.0], 0.0),
        ("constant values", [5.0] * 10, [5.0] * 12, 0.0),
        ("offset 1e9", list(OFFSET + exact_offset_noise(1000, 3)), list(OFFSET + 0.5 + exact_offset_noise(1000, 3)), OFFSET),
    ]
    cases = []
    for name, control, treatment, offset in datasets:
        for alternative in ALTERNATIVES:
            alpha = 0.05
            cases.append({
                "name": f"{name} {alternative}",
                "control": [float(v) for v in control], "treatment": [float(v) for v in treatment],
                "alpha": alpha, "alternative": alternative,
                "expected": ttest_data_expected(control, treatment, alpha, alternative, offset),
            })
    return cases


# ---------------------------------------------------------------- CUPED


def cuped_expected(control, treatment, alpha, alternative, offset=0.0):
    yc, xc = np.asarray(control["y"]) - offset, np.asarray(control["x"]) - offset
    yt, xt = np.asarray(treatment["y"]) - offset, np.asarray(treatment["x"]) - offset
    x_all, y_all = np.concatenate([xc, xt]), np.concatenate([yc, yt])
    var_x = np.var(x_all, ddof=1)
    if var_x > 0:
        theta = float(np.cov(y_all, x_all, ddof=1)[0, 1] / var_x)
    else:
        theta = None
    slope = theta or 0.0
    mean_x = np.mean(x_all)
    adj_c, adj_t = yc - slope * (xc - mean_x), yt - slope * (xt - mean_x)
    result = stats.ttest_ind(adj_t, adj_c, equal_var=False, alternative=SCIPY_ALTERNATIVE[alternative])
    ci = result.confidence_interval(1 - alpha)
    diff = float(np.mean(adj_t) - np.mean(adj_c))
    # X - mean(X) does not move with the offset, so Y' moves with Y.
    mean_adj_c = float(np.mean(adj_c)) + offset
    se2_adj = np.var(adj_t, ddof=1) / len(adj_t) + np.var(adj_c, ddof=1) / len(adj_c)
    se2_raw = np.var(yt, ddof=1) / len(yt) + np.var(yc, ddof=1) / len(yc)
    p = float(result.pvalue)
    return {
        "theta": num(theta), "diff": num(diff), "rel_lift": num(diff / mean_adj_c if mean_adj_c != 0 else None),
        "t": num(result.statistic), "df": num(result.df), "p_value": num(p),
        "ci_low": num(ci.low), "ci_high": num(ci.high),
        "variance_reduction": num(1 - se2_adj / se2_raw), "significant": significant(p, alpha),
    }


def cuped_arm(n, rho, lift, offset=0.0, constant_x=False):
    x = RNG.lognormal(3, 0.6, n)
    noise = RNG.normal(0, 1, n) * np.std(x)
    y = rho * x + math.sqrt(1 - rho**2) * noise + lift
    if constant_x:
        x = np.full(n, 7.0)
    if offset:
        x = np.round(x * 8) / 8 + offset
        y = np.round(y * 8) / 8 + offset
    return {"y": [float(v) for v in y], "x": [float(v) for v in x]}


def cuped_cases():
    designs = [
        ("pre-period revenue rho 0.7", 0.7, 1.0, 0.0, False, ALTERNATIVES),
        ("weak covariate rho 0.1", 0.1, 1.0, 0.0, False, ["two-sided"]),
        ("constant covariate", 0.7, 1.0, 0.0, True, ["two-sided"]),
        ("offset 1e9", 0.7, 1.0, OFFSET, False, ["two-sided", "larger"]),
    ]
    cases = []
    for name, rho, lift, offset, constant_x, alternatives in designs:
        control, treatment = cuped_arm(1500, rho, 0.0, offset, constant_x), cuped_arm(1500, rho, lift, offset, constant_x)
        for alternative in alternatives:
            cases.append({
                "name": f"{name} {alternative}", "control": control, "treatment": treatment,
                "alpha": 0.05, "alternative": alternative,
                "expected": cuped_expected(control, treatment, 0.05, alternative, offset),
            })
    return cases


# ---------------------------------------------------------------- planning


def z_alpha(alpha, alternative, comparisons):
    a = alpha / comparisons
    return stats.norm.isf(a / 2 if alternative == "two-sided" else a)


def rates(baseline, mde, relative):
    return baseline, baseline * (1 + mde) if relative else baseline + mde


def sample_size_prop_cases():
    grid = [
        (0.10, 0.05, 0.05, 0.8, True, "two-sided", 1), (0.10, 0.01, 0.05, 0.8, False, "two-sided", 3),
        (0.10, 0.02, 0.05, 0.8, True, "two-sided", 1), (0.10, 0.10, 0.05, 0.9, True, "two-sided", 1),
        (0.001, 0.2, 0.05, 0.8, True, "two-sided", 1), (0.5, -0.1, 0.05, 0.8, True, "two-sided", 1),
        (0.3, 0.05, 0.01, 0.8, True, "larger", 1), (0.3, -0.02, 0.05, 0.8, False, "smaller", 1),
        (0.05, 0.1, 0.1, 0.8, True, "two-sided", 4), (0.9, 0.05, 0.05, 0.95, True, "two-sided", 1),
        (0.2, 0.001, 0.05, 0.8, False, "two-sided", 1), (0.6, 0.3, 0.05, 0.8, True, "larger", 2),
    ]
    cases = []
    for baseline, mde, alpha, power, relative, alternative, comparisons in grid:
        p1, p2 = rates(baseline, mde, relative)
        z = z_alpha(alpha, alternative, comparisons) + stats.norm.ppf(power)
        n = math.ceil(z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2)
        cases.append({"baseline": baseline, "mde": mde, "alpha": alpha, "power": power, "relative": relative,
                      "alternative": alternative, "comparisons": comparisons, "expected": n})
    return cases


def power_prop_cases():
    grid = [(0.10, 0.05, 50000, True, "two-sided", 1), (0.10, 0.05, 5000, True, "two-sided", 1),
            (0.2, 0.02, 3000, False, "larger", 1), (0.2, -0.02, 3000, False, "smaller", 1),
            (0.05, 0.1, 200000, True, "two-sided", 3), (0.5, 0.01, 100, True, "two-sided", 1)]
    cases = []
    for baseline, mde, n, relative, alternative, comparisons in grid:
        p1, p2 = rates(baseline, mde, relative)
        power = stats.norm.sf(z_alpha(0.05, alternative, comparisons)
                              - abs(p2 - p1) * math.sqrt(n) / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
        cases.append({"baseline": baseline, "mde": mde, "n": n, "alpha": 0.05, "relative": relative,
                      "alternative": alternative, "comparisons": comparisons, "expected": float(power)})
    return cases


def mde_prop_cases():
    grid = [(0.10, 50000, 0.8, True, "two-sided", 1), (0.10, 50000, 0.8, False, "two-sided", 1),
            (0.01, 1000000, 0.9, True, "larger", 1), (0.3, 2000, 0.8, True, "two-sided", 5),
            (0.5, 100, 0.8, False, "two-sided", 1), (0.95, 10, 0.8, True, "two-sided", 1)]
    cases = []
    for baseline, n, power, relative, alternative, comparisons in grid:
        z2 = (z_alpha(0.05, alternative, comparisons) + stats.norm.ppf(power)) ** 2
        base_var = baseline * (1 - baseline)

        def shortfall(p2):
            return z2 * (base_var + p2 * (1 - p2)) - n * (p2 - baseline) ** 2

        if shortfall(1.0) > 0:
            expected = None
        else:
            p2 = optimize.brentq(shortfall, baseline, 1.0, xtol=1e-15, rtol=8.9e-16)
            expected = (p2 - baseline) / baseline if relative else p2 - baseline
        cases.append({"baseline": baseline, "n": n, "alpha": 0.05, "power": power, "relative": relative,
                      "alternative": alternative, "comparisons": comparisons, "expected": num(expected)})
    return cases


def mean_planning_cases():
    sample_size, power_cases, mde_cases = [], [], []
    grid = [(40.0, 1.0, 0.05, 0.8, "two-sided", 1), (1.0, 0.01, 0.05, 0.9, "two-sided", 1),
            (15.0, -2.0, 0.01, 0.8, "smaller", 1), (100.0, 5.0, 0.05, 0.8, "larger", 3)]
    for sd, mde, alpha, power, alternative, comparisons in grid:
        z = z_alpha(alpha, alternative, comparisons) + stats.norm.ppf(power)
        sample_size.append({"sd": sd, "mde": mde, "alpha": alpha, "power": power, "alternative": alternative,
                            "comparisons": comparisons, "expected": math.ceil(2 * z**2 * sd**2 / mde**2)})
        for n in [100, 25117]:
            power_cases.append({"sd": sd, "mde": mde, "n": n, "alpha": alpha, "alternative": alternative,
                                "comparisons": comparisons,
                                "expected": float(stats.norm.sf(z_alpha(alpha, alternative, comparisons)
                                                                - abs(mde) * math.sqrt(n / 2) / sd))})
            mde_cases.append({"sd": sd, "n": n, "alpha": alpha, "power": power, "alternative": alternative,
                              "comparisons": comparisons, "expected": float(z * sd * math.sqrt(2 / n))})
    return sample_size, power_cases, mde_cases


def duration_cases():
    grid = [(57760, 2, 20000.0, 0.5), (1000, 3, 100.0, 1.0), (1, 2, 1e6, 1.0), (12345, 4, 777.0, 0.25)]
    return [{"n_per_variant": n, "variants": v, "daily_traffic": d, "traffic_fraction": f,
             "expected": math.ceil(n * v / (d * f))} for n, v, d, f in grid]


# ---------------------------------------------------------------- checks


def srm_cases():
    designs = [
        ("balanced", [50000, 50500], [0.5, 0.5]),
        ("clear mismatch", [50000, 52000], [0.5, 0.5]),
        ("huge mismatch", [500000, 540000], [1, 1]),
        ("three arms", [20100, 9800, 10300], [0.5, 0.25, 0.25]),
        ("large counts", [1_000_000_000, 1_000_050_000], [1, 1]),
        ("unnormalised weights", [300, 120], [70, 30]),
    ]
    cases = []
    for name, observed, weights in designs:
        total = sum(observed)
        expected_counts = [total * w / sum(weights) for w in weights]
        result = stats.chisquare(observed, expected_counts)
        cases.append({"name": name, "observed": observed, "weights": [float(w) for w in weights],
                      "expected": {"chi2": float(result.statistic), "df": len(observed) - 1,
                                   "p_value": float(result.pvalue)}})
    return cases


def adjust_cases():
    p_sets = [[0.01], [0.01, 0.04, 0.03, 0.005, 0.5], [0.02, 0.02, 0.02], [0.0, 1.0, 0.5],
              list(RNG.uniform(0, 0.2, 10)), [0.5, 0.001, 0.04, 0.2]]
    cases = []
    for p in p_sets:
        for method in ["bonferroni", "holm", "fdr_bh"]:
            cases.append({"p": [float(v) for v in p], "method": method,
                          "expected": [float(v) for v in multipletests(p, method=method)[1]]})
    return cases


def moments_cases():
    sets = [
        ("plain", list(RNG.normal(5, 2, 100)), 0.0),
        ("offset 1e9", list(OFFSET + exact_offset_noise(2000, 2)), OFFSET),
        ("offset 1e12, tiny noise", list(1e12 + np.round(RNG.normal(0, 1, 500) * 64) / 64), 1e12),
        ("single value", [42.0], 0.0),
        ("n=2000", list(RNG.exponential(3, 2000)), 0.0),
    ]
    cases = []
    for name, values, offset in sets:
        centred = np.asarray(values) - offset
        cases.append({"name": name, "values": [float(v) for v in values], "count": len(values),
                      "mean": float(np.mean(centred)) + offset,
                      "var": num(np.var(centred, ddof=1)) if len(values) > 1 else None})
    return cases


# ---------------------------------------------------------------- Bayesian, bandits, sequential

mpmath.mp.dps = 40
CREDIBLE_Z = stats.norm.isf(0.025)


def beta_marks(a, b):
    """Breakpoints for mpmath.quad: the posterior's mass sits within a few sd of its mean."""
    mean, sd = a / (a + b), math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return [mean + k * sd for k in (-40, -20, -10, -5, -2, 0, 2, 5, 10, 20, 40) if 0 < mean + k * sd < 1]


def quad(f, marks):
    """QUADPACK (scipy.integrate.quad) over [0, 1], split at the marks."""
    from scipy import integrate
    edges = sorted(set([0.0, 1.0] + marks))
    return math.fsum(integrate.quad(f, a, b, epsabs=1e-16, epsrel=1e-13, limit=500)[0] for a, b in zip(edges, edges[1:]))


def bayes_prop_expected(x_c, n_c, x_t, n_t, prior_a, prior_b):
    """P(T > C) with Beta posteriors: Evan Miller's exact sum (in mpmath) when the
    treatment's first parameter is an integer, else quadrature; losses by quadrature of
    E[(C - T)+] = E_C[x F_T(x) - mean_T I_x(a_T + 1, b_T)] with scipy's Beta functions."""
    ac, bc = prior_a + x_c, prior_b + n_c - x_c
    at, bt = prior_a + x_t, prior_b + n_t - x_t
    marks = beta_marks(ac, bc) + beta_marks(at, bt)
    control, treatment, shifted = stats.beta(ac, bc), stats.beta(at, bt), stats.beta(at + 1, bt)
    if float(at).is_integer() and at <= 20000:
        prob = float(mpmath.fsum(
            mpmath.exp(mpmath.log(mpmath.beta(ac + i, bc + bt)) - mpmath.log(bt + i) - mpmath.log(mpmath.beta(1 + i, bt))
                       - mpmath.log(mpmath.beta(ac, bc)))
            for i in range(int(at))))
    else:
        prob = quad(lambda x: treatment.pdf(x) * control.cdf(x), marks)
    mean_c, mean_t = ac / (ac + bc), at / (at + bt)
    loss_t = quad(lambda x: control.pdf(x) * (x * treatment.cdf(x) - mean_t * shifted.cdf(x)), marks)
    loss_c = loss_t + mean_t - mean_c
    var = control.var() + treatment.var()
    diff = mean_t - mean_c
    return {"prob_t_better": prob, "expected_loss_t": loss_t, "expected_loss_c": loss_c,
            "ci_low": diff - CREDIBLE_Z * math.sqrt(var), "ci_high": diff + CREDIBLE_Z * math.sqrt(var)}


def beta_cases():
    """The Beta distribution's cdf (scipy's betainc, Boost's ibeta) and density, from small
    shapes to posteriors of ten million users, at the mean and out to 6 sd either side."""
    cases = []
    shapes = [0.5, 1.0, 3.0, 12.5, 1000.0, 5e5, 1e7]
    for a in shapes:
        for b in shapes:
            dist = stats.beta(a, b)
            for k in (-6.0, -2.0, -0.3, 0.0, 0.3, 2.0, 6.0):
                x = dist.mean() + k * dist.std()
                if not 0.0 < x < 1.0:
                    continue
                cdf, pdf = float(special.betainc(a, b, x)), float(dist.pdf(x))
                if cdf < 1e-300 or pdf < 1e-300:
                    continue
                cases.append({"a": a, "b": b, "x": x, "cdf": cdf, "pdf": pdf})
    return cases


def bayes_prop_cases():
    grid = [
        (100, 1000, 120, 1000, 1.0, 1.0), (0, 10, 0, 10, 1.0, 1.0), (10, 10, 0, 10, 1.0, 1.0),
        (3, 20, 7, 20, 1.0, 1.0), (50, 100000, 70, 100000, 1.0, 1.0), (4000, 50000, 4150, 50000, 1.0, 1.0),
        (12, 80, 9, 75, 0.5, 0.5), (30, 300, 40, 310, 2.5, 7.5), (1, 1, 0, 1, 1.0, 1.0),
        (100000, 1000000, 100900, 1000000, 1.0, 1.0), (500000, 1000000, 499000, 1000000, 1.0, 1.0),
        (3, 2000000, 9, 2000000, 1.0, 1.0),
    ]
    return [{"x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t, "prior_a": a, "prior_b": b,
             "expected": bayes_prop_expected(x_c, n_c, x_t, n_t, a, b)} for x_c, n_c, x_t, n_t, a, b in grid]


def bayes_mean_cases():
    grid = [(10.0, 3.0, 500, 10.4, 3.0, 520), (5.0, 2.0, 40, 4.0, 2.5, 45), (100.0, 50.0, 10**6, 100.01, 50.0, 10**6),
            (1.0, 0.0, 10, 1.0, 0.0, 10), (0.0, 1.0, 1, 3.0, 1.0, 1)]
    cases = []
    for mean_c, sd_c, n_c, mean_t, sd_t, n_t in grid:
        se = math.sqrt(sd_t**2 / n_t + sd_c**2 / n_c)
        diff = mean_t - mean_c
        if se == 0:
            expected = None
        else:
            z = diff / se
            d = stats.norm(diff, se)
            expected = {"prob_t_better": float(d.sf(0)),
                        "expected_loss_t": float(se * stats.norm.pdf(z) - diff * stats.norm.sf(z)),
                        "expected_loss_c": float(se * stats.norm.pdf(z) + diff * stats.norm.cdf(z)),
                        "ci_low": float(d.ppf(0.025)), "ci_high": float(d.isf(0.025))}
        cases.append({"mean_c": mean_c, "sd_c": sd_c, "n_c": n_c, "mean_t": mean_t, "sd_t": sd_t, "n_t": n_t,
                      "expected": expected})
    return cases


def thompson_expected(successes, trials, floor):
    arms = [stats.beta(1 + s, 1 + n - s) for s, n in zip(successes, trials)]
    marks = [m for s, n in zip(successes, trials) for m in beta_marks(1 + s, 1 + n - s)]
    best = [quad(lambda x, i=i: arms[i].pdf(x) * math.prod(arm.cdf(x) for j, arm in enumerate(arms) if j != i), marks)
            for i in range(len(arms))]
    k = len(arms)
    return [floor + (1 - k * floor) * p / math.fsum(best) for p in best]


def thompson_cases():
    grid = [([5, 5], [50, 50], 0.0), ([80, 120, 90], [1000, 1000, 1000], 0.0), ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
            ([3, 10], [40, 40], 0.1), ([400, 410, 395, 402, 399], [5000, 5000, 5000, 5000, 5000], 0.02),
            ([1, 0], [1, 10], 0.0)]
    return [{"successes": s, "trials": n, "floor": floor, "expected": thompson_expected(s, n, floor)} for s, n, floor in grid]


def msprt_cases():
    """Johari et al. (2017), normal mixture N(0, tau2): the likelihood ratio and its level set."""
    grid = [(0.5, 0.04, 1.0, 0.05), (0.01, 0.0004, 0.01, 0.05), (0.0, 1.0, 1.0, 0.05), (-2.0, 0.1, 0.5, 0.01),
            (3.0, 1e-4, 2.0, 0.1), (1e-3, 1e-6, 1e-4, 0.05)]
    cases = []
    for diff, v, tau2, alpha in grid:
        ratio = mpmath.sqrt(v / (v + tau2)) * mpmath.exp(tau2 * diff**2 / (2 * v * (v + tau2)))
        half = mpmath.sqrt(v * (v + tau2) / tau2 * (-2 * mpmath.log(alpha) + mpmath.log((v + tau2) / v)))
        cases.append({"diff": diff, "variance": v, "tau2": tau2, "alpha": alpha,
                      "expected": {"p_value": float(min(1, 1 / ratio)), "cs_low": float(diff - half), "cs_high": float(diff + half)}})
    return cases


def winsorize_cases():
    grid = [(5.0, 0.0, 3.0), (-1.0, 0.0, 3.0), (2.5, 0.0, 3.0), (1e12, -1e9, 1e9), (3.0, 3.0, 3.0)]
    return [{"value": v, "lo": lo, "hi": hi, "expected": float(np.clip(v, lo, hi))} for v, lo, hi in grid]



def ratio_expected(control, treatment, alpha, alternative):
    """Deng et al. (2018): the ratio of means per arm and its delta-method variance, from raw
    (numerator, denominator) pairs with numpy; a z-test on the difference."""
    def arm(pairs):
        num, den = np.asarray(pairs["numerator"], float), np.asarray(pairs["denominator"], float)
        n, mu_n, mu_d = len(num), num.mean(), den.mean()
        if n < 2:
            return mu_n / mu_d, math.nan, n
        s_nn, s_dd = np.var(num, ddof=1), np.var(den, ddof=1)
        s_nd = np.cov(num, den, ddof=1)[0, 1]
        return mu_n / mu_d, (s_nn / mu_d**2 - 2 * mu_n * s_nd / mu_d**3 + mu_n**2 * s_dd / mu_d**4) / n, n
    (r_c, v_c, n_c), (r_t, v_t, n_t) = arm(control), arm(treatment)
    diff = r_t - r_c
    se = math.sqrt(v_c + v_t) if not math.isnan(v_c + v_t) else math.nan
    defined = se == se and se > 0
    z = diff / se if defined else None
    p = {"two-sided": 2 * stats.norm.sf(abs(z)), "larger": stats.norm.sf(z), "smaller": stats.norm.cdf(z)}[alternative] if defined else None
    q = critical(alternative, alpha, stats.norm)
    ci_low, ci_high = interval(diff, q, se, alternative) if defined else (None, None)
    rel = diff / r_c
    if defined:
        rel_se = math.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
        rel_low, rel_high = interval(rel, q, rel_se, alternative)
    else:
        rel_low, rel_high = None, None
    return {"ratio_c": r_c, "ratio_t": r_t, "diff": diff, "rel_lift": num(rel), "z": num(z), "p_value": num(p),
            "ci_low": num(ci_low), "ci_high": num(ci_high), "rel_ci_low": num(rel_low), "rel_ci_high": num(rel_high),
            "significant": significant(p, alpha)}


def ratio_arm_data(n, per_session, sessions_mean):
    sessions = 1 + RNG.poisson(sessions_mean - 1, n)
    revenue = np.array([RNG.gamma(2.0, per_session / 2.0, s).sum() for s in sessions])
    return {"numerator": [round(float(v), 4) for v in revenue], "denominator": [float(s) for s in sessions]}


def ratio_cases():
    datasets = [
        ("revenue per session n=2000", ratio_arm_data(2000, 3.0, 4.0), ratio_arm_data(2000, 3.15, 4.0)),
        ("clicks per pageview n=300", ratio_arm_data(300, 0.2, 8.0), ratio_arm_data(300, 0.2, 8.0)),
        ("small", {"numerator": [3.0, 0.0, 5.5], "denominator": [2.0, 1.0, 4.0]},
                  {"numerator": [4.0, 2.0, 1.0, 6.0], "denominator": [3.0, 1.0, 1.0, 5.0]}),
        ("one unit in treatment", {"numerator": [3.0, 0.0, 5.5], "denominator": [2.0, 1.0, 4.0]},
                                  {"numerator": [4.0], "denominator": [3.0]}),
    ]
    cases = []
    for name, control, treatment in datasets:
        for alternative in ALTERNATIVES:
            cases.append({"name": f"{name} {alternative}", "control": control, "treatment": treatment, "alpha": 0.05,
                          "alternative": alternative, "expected": ratio_expected(control, treatment, 0.05, alternative)})
    return cases



RATIO_CUPED_VARIABLES = ("numerator", "denominator", "pre_numerator", "pre_denominator")


def ratio_cuped_expected(control, treatment, alpha, alternative):
    """CUPED for ratio metrics with numpy matrix algebra: per arm the 4x4 sample covariance S of
    (numerator, denominator, pre_numerator, pre_denominator) and the delta-method gradients g_R,
    g_C of the two ratios; Var R = g_R' S g_R / n etc.; theta = sum Cov(R, C) / sum Var C; a
    z-test on (R_t - R_c) - theta (C_t - C_c)."""
    def arm(data):
        a = np.array([data[v] for v in RATIO_CUPED_VARIABLES], float)
        n, mu = a.shape[1], a.mean(axis=1)
        s = np.cov(a, ddof=1) if n >= 2 else np.full((4, 4), np.nan)
        g_r = np.array([1 / mu[1], -mu[0] / mu[1] ** 2, 0, 0])
        g_c = np.array([0, 0, 1 / mu[3], -mu[2] / mu[3] ** 2]) if mu[3] != 0 else np.full(4, np.nan)
        return {"n": n, "r": mu[0] / mu[1], "c": mu[2] / mu[3] if mu[3] != 0 else math.nan, "pre": (mu[2], mu[3]),
                "v_r": g_r @ s @ g_r / n, "v_c": g_c @ s @ g_c / n, "cov": g_r @ s @ g_c / n}
    c, t = arm(control), arm(treatment)
    v_c = c["v_c"] + t["v_c"]
    theta = (c["cov"] + t["cov"]) / v_c if np.isfinite(v_c) and v_c > 0 else None
    slope = theta or 0.0
    diff = (t["r"] - c["r"]) - (slope * (t["c"] - c["c"]) if theta is not None else 0.0)
    # Without a usable covariate the test is the plain delta-method one.
    var = sum(a["v_r"] - 2 * slope * a["cov"] + slope**2 * a["v_c"] if theta is not None else a["v_r"] for a in (c, t))
    raw = c["v_r"] + t["v_r"]
    se = math.sqrt(var) if var == var and var >= 0 else math.nan
    defined = se == se and se > 0
    z = diff / se if defined else None
    p = {"two-sided": 2 * stats.norm.sf(abs(z)), "larger": stats.norm.sf(z), "smaller": stats.norm.cdf(z)}[alternative] if defined else None
    ci_low, ci_high = interval(diff, critical(alternative, alpha, stats.norm), se, alternative) if defined else (None, None)
    pooled = (c["n"] * c["pre"][0] + t["n"] * t["pre"][0]) / (c["n"] * c["pre"][1] + t["n"] * t["pre"][1])
    adjusted_control = c["r"] - slope * (c["c"] - pooled) if theta is not None else c["r"]
    return {"ratio_c": c["r"], "ratio_t": t["r"], "theta": num(theta), "diff": diff,
            "rel_lift": num(diff / adjusted_control), "z": num(z), "p_value": num(p), "ci_low": num(ci_low),
            "ci_high": num(ci_high), "variance_reduction": num(1 - var / raw) if defined and raw > 0 else None,
            "significant": significant(p, alpha)}


def ratio_cuped_arm_data(rng, n, per_session):
    """Users whose habits carry over: pre-period sessions and spend predict the experiment's."""
    habit = rng.gamma(4.0, 1.0, n)
    pre_sessions = rng.poisson(habit) + 1
    sessions = rng.poisson(habit) + 1
    pre_revenue = np.array([rng.gamma(2.0, 1.5 * h / 4.0, k).sum() for h, k in zip(habit, pre_sessions)])
    revenue = np.array([rng.gamma(2.0, per_session * h / 8.0, k).sum() for h, k in zip(habit, sessions)])
    return {"numerator": [round(float(v), 4) for v in revenue], "denominator": [float(v) for v in sessions],
            "pre_numerator": [round(float(v), 4) for v in pre_revenue], "pre_denominator": [float(v) for v in pre_sessions]}


def ratio_cuped_cases():
    rng = np.random.default_rng(4)
    small_c = {"numerator": [3.0, 0.0, 5.5], "denominator": [2.0, 1.0, 4.0],
               "pre_numerator": [2.0, 1.0, 4.0], "pre_denominator": [1.0, 2.0, 3.0]}
    small_t = {"numerator": [4.0, 2.0, 1.0, 6.0], "denominator": [3.0, 1.0, 1.0, 5.0],
               "pre_numerator": [3.0, 1.0, 0.0, 5.0], "pre_denominator": [2.0, 1.0, 1.0, 4.0]}
    offset_c, offset_t = ratio_cuped_arm_data(rng, 500, 3.0), ratio_cuped_arm_data(rng, 500, 3.1)
    for data in (offset_c, offset_t):
        data["numerator"] = [1e9 + v for v in data["numerator"]]
    datasets = [
        ("revenue per session n=2000", ratio_cuped_arm_data(rng, 2000, 3.0), ratio_cuped_arm_data(rng, 2000, 3.15)),
        ("numerators offset by 1e9", offset_c, offset_t),
        ("small", small_c, small_t),
        ("constant pre-period", dict(small_c, pre_numerator=[1.0] * 3, pre_denominator=[1.0] * 3),
                                dict(small_t, pre_numerator=[1.0] * 4, pre_denominator=[1.0] * 4)),
        ("no pre-period sessions in control", dict(small_c, pre_numerator=[0.0] * 3, pre_denominator=[0.0] * 3), small_t),
        ("one unit in treatment", small_c, {k: v[:1] for k, v in small_t.items()}),
    ]
    cases = []
    for name, control, treatment in datasets:
        for alternative in ALTERNATIVES:
            cases.append({"name": f"{name} {alternative}", "control": control, "treatment": treatment, "alpha": 0.05,
                          "alternative": alternative,
                          "expected": ratio_cuped_expected(control, treatment, 0.05, alternative)})
    return cases


def interaction_expected(cells, alpha, alternative):
    """The 2x2 contrast (m11 - m10) - (m01 - m00) with Welch-Satterthwaite df, from raw data."""
    arrays = {k: np.asarray(v, float) for k, v in cells.items()}
    means = {k: float(np.mean(v)) for k, v in arrays.items()}
    contrast = (means["11"] - means["10"]) - (means["01"] - means["00"])
    v = {k: float(np.var(a, ddof=1)) / len(a) for k, a in arrays.items()}
    total = math.fsum(v.values())
    df = total**2 / math.fsum(v[k] ** 2 / (len(arrays[k]) - 1) for k in v)
    se = math.sqrt(total)
    t = contrast / se
    p = float({"two-sided": 2 * stats.t.sf(abs(t), df), "larger": stats.t.sf(t, df), "smaller": stats.t.cdf(t, df)}[alternative])
    ci_low, ci_high = interval(contrast, critical(alternative, alpha, stats.t(df)), se, alternative)
    return {"contrast": contrast, "se": se, "t": t, "df": df, "p_value": p, "ci_low": num(ci_low),
            "ci_high": num(ci_high), "significant": significant(p, alpha)}


def interaction_cases():
    def cells(n, effect_a, effect_b, interaction, sd=2.0):
        return {f"{a}{b}": [float(x) for x in RNG.normal(10 + effect_a * a + effect_b * b + interaction * a * b, sd, n)]
                for a in (0, 1) for b in (0, 1)}
    datasets = [("no interaction n=400", cells(400, 0.5, 0.3, 0.0)), ("interaction n=1000", cells(1000, 0.5, 0.3, 0.6)),
                ("small", {"00": [1.0, 2.0, 3.0], "01": [2.0, 2.5], "10": [3.0, 1.0, 4.0, 2.0], "11": [6.0, 5.0, 7.5]})]
    return [{"name": f"{name} {alternative}", "cells": c, "alpha": 0.05, "alternative": alternative,
             "expected": interaction_expected(c, 0.05, alternative)} for name, c in datasets for alternative in ALTERNATIVES]



def msprt_formula(diff, v, tau2, alpha):
    ratio = mpmath.sqrt(v / (v + tau2)) * mpmath.exp(tau2 * diff**2 / (2 * v * (v + tau2)))
    half = mpmath.sqrt(v * (v + tau2) / tau2 * (-2 * mpmath.log(alpha) + mpmath.log((v + tau2) / v)))
    return {"p_value": float(min(1, 1 / ratio)), "cs_low": float(diff - half), "cs_high": float(diff + half)}


def sequential_data_cases():
    """Both sequential aggregates from raw data: the mSPRT with V = s_t^2/n_t + s_c^2/n_c, and
    the asymptotic confidence sequence (Waudby-Smith et al. eq. 9, GrowthBook's rho and p-value),
    written out here with numpy."""
    datasets = [("null n=300", list(RNG.normal(10, 3, 300)), list(RNG.normal(10, 3, 320))),
                ("lift n=2000", list(RNG.normal(10, 3, 2000)), list(RNG.normal(10.5, 3, 2000))),
                ("small", [3.0, 4.5, 2.5, 5.0], [5.5, 6.0, 4.5, 7.0, 5.0])]
    cases = []
    for name, control, treatment in datasets:
        c, t = np.asarray(control), np.asarray(treatment)
        diff = float(t.mean() - c.mean())
        se2 = float(np.var(t, ddof=1) / len(t) + np.var(c, ddof=1) / len(c))
        n = len(c) + len(t)
        for alpha, tau2, tuning_n in [(0.05, 0.25, 5000.0), (0.01, 1.0, 500.0)]:
            rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning_n
            spread = n * rho2 + 1
            half = math.sqrt(se2 * n) * math.sqrt(2 * spread * math.log(math.sqrt(spread) / alpha) / (n * n * rho2))
            log_e = rho2 * (diff**2 * n / se2) / (2 * spread) - 0.5 * math.log(spread)
            cases.append({"name": f"{name} alpha={alpha}", "control": [float(v) for v in control],
                          "treatment": [float(v) for v in treatment], "alpha": alpha, "tau2": tau2, "tuning_n": tuning_n,
                          "msprt": msprt_formula(diff, se2, tau2, alpha),
                          "seq_ttest": {"p_value": min(1.0, math.exp(-log_e)) if log_e > 0 else 1.0,
                                        "cs_low": diff - half, "cs_high": diff + half}})
    return cases



def maritz_jarrett_se(values, q):
    """Maritz-Jarrett's SE of the q-quantile: the sorted values weighted by the Beta(m - 1, n - m)
    mass of each cell ((i - 1)/n, i/n], m = floor(q n + 1/2), each weight from the tail on its
    side of the mean (scipy's Beta), and centred moments. scipy.stats.mstats.mjci computes
    the same as sqrt(C2 - C1^2), which loses ~1e-9 to cancellation on 5000 values, so it is
    only the cross-check here. Undefined unless 2 <= m < n."""
    x = np.sort(np.asarray(values, float))
    n = len(x)
    m = int(q * n + 0.5)
    if not 2 <= m < n:
        return None
    dist = stats.beta(m - 1, n - m)
    upper, lower = np.arange(1, n + 1) / n, np.arange(0, n) / n
    weights = np.where(upper <= dist.mean(), dist.cdf(upper) - dist.cdf(lower), dist.sf(lower) - dist.sf(upper))
    mean = math.fsum(weights * x) / math.fsum(weights)
    se = math.sqrt(math.fsum(weights * (x - mean) ** 2) / math.fsum(weights))
    assert abs(se - mstats.mjci(x, prob=[q])[0]) <= 1e-7 * se
    return se


def quantile_expected(control, treatment, q, alpha):
    """The quantile difference of docs/statistics.md: numpy's linear quantiles, Maritz-Jarrett
    SEs, a normal CI."""
    z = stats.norm.isf(alpha / 2)

    def arm(values):
        return float(np.quantile(np.asarray(values, float), q)), maritz_jarrett_se(values, q)
    (q_c, se_c), (q_t, se_t) = arm(control), arm(treatment)
    diff = q_t - q_c
    se = math.hypot(se_c, se_t) if se_c is not None and se_t is not None else 0.0
    if se == 0:
        return {"quantile_c": q_c, "quantile_t": q_t, "diff": diff, "ci_low": None, "ci_high": None,
                "p_value": None, "significant": None}
    p = float(min(1.0, 2 * stats.norm.sf(abs(diff) / se)))
    return {"quantile_c": q_c, "quantile_t": q_t, "diff": diff, "ci_low": diff - z * se, "ci_high": diff + z * se,
            "p_value": p, "significant": significant(p, alpha)}


def quantile_cases():
    datasets = [("exponential n=800", list(RNG.exponential(3, 800)), list(RNG.exponential(3.4, 900))),
                ("lognormal n=300", list(RNG.lognormal(2, 1, 300)), list(RNG.lognormal(2.1, 1, 300))),
                ("small", [3.0, 1.0, 4.0, 1.5, 9.0], [2.0, 6.0, 5.0]), ("constant", [2.0, 2.0], [2.0])]
    # Large enough that the Beta weights are walked over a window, not every value.
    large = np.random.default_rng(5000)
    datasets.append(("exponential n=5000", list(large.exponential(3, 5000)), list(large.exponential(3.05, 5000))))
    cases = []
    for name, control, treatment in datasets:
        for q in (0.5, 0.95):
            cases.append({"name": f"{name} q={q}", "control": [float(v) for v in control],
                          "treatment": [float(v) for v in treatment], "q": q, "alpha": 0.05,
                          "expected": quantile_expected(control, treatment, q, 0.05)})
    return cases



def contamination_cases():
    """Exposure logs with repeats and some units in two arms, counted with Python sets."""
    cases = []
    for name, rows, mixed_share in [("log of 2000 rows", 2000, 0.03), ("log of 300 rows", 300, 0.2)]:
        units, variants = [], []
        for i in range(rows):
            unit = f"u{int(RNG.integers(0, rows // 2))}"
            home = "control" if hash_unit_arm(unit) else "treatment"
            units.append(unit)
            variants.append(home if RNG.random() >= mixed_share else ("treatment" if home == "control" else "control"))
        arms = {}
        for unit, variant in zip(units, variants):
            arms.setdefault(unit, set()).add(variant)
        contaminated = sum(len(v) > 1 for v in arms.values())
        cases.append({"name": name, "units": units, "variants": variants,
                      "expected": {"units": len(arms), "contaminated_units": contaminated, "share": contaminated / len(arms)}})
    return cases


def hash_unit_arm(unit):
    return xxhash.xxh3_64_intdigest(f"contamination:{unit}".encode()) % 2 == 0


def margin_decisions(low, high, bound, higher_is_better):
    """docs/statistics.md, "Tests against a margin": the 1 - 2 alpha interval against the bound."""
    if higher_is_better:
        return {"non_inferior": bool(low > bound), "inferior": bool(high < bound)}
    return {"non_inferior": bool(high < bound), "inferior": bool(low > bound)}


def noninferiority_ztest_case(x_c, n_c, x_t, n_t, margin, alpha, higher_is_better):
    """statsmodels' Wald test and interval of p_t - p_c with unpooled variances, against the bound."""
    bound = -margin if higher_is_better else margin
    test = test_proportions_2indep(x_t, n_t, x_c, n_c, value=bound, method="wald", compare="diff",
                                   alternative="larger" if higher_is_better else "smaller")
    low, high = (float(v) for v in confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=2 * alpha))
    expected = {"diff": num(x_t / n_t - x_c / n_c), "bound": bound, "statistic": num(test.statistic),
                "df": None, "p_value": num(test.pvalue), "ci_low": num(low), "ci_high": num(high)}
    expected.update(margin_decisions(low, high, bound, higher_is_better))
    return {"function": "ab_noninferiority_ztest", "args": [x_c, n_c, x_t, n_t, margin, alpha, higher_is_better],
            "expected": expected}


def noninferiority_ttest_case(control, treatment, margin, alpha, higher_is_better):
    """scipy's Welch test with the treatment's mean moved by the bound; the 1 - 2 alpha interval
    with the Welch-Satterthwaite df and scipy's t quantile (the doc's formula)."""
    (mean_c, sd_c, n_c), (mean_t, sd_t, n_t) = control, treatment
    bound = -margin if higher_is_better else margin
    test = stats.ttest_ind_from_stats(mean_t - bound, sd_t, n_t, mean_c, sd_c, n_c, equal_var=False,
                                      alternative="greater" if higher_is_better else "less")
    vn_c, vn_t = sd_c ** 2 / n_c, sd_t ** 2 / n_t
    df = (vn_c + vn_t) ** 2 / (vn_t ** 2 / (n_t - 1) + vn_c ** 2 / (n_c - 1))
    diff, half = mean_t - mean_c, stats.t.isf(alpha, df) * math.sqrt(vn_c + vn_t)
    expected = {"diff": diff, "bound": bound, "statistic": num(test.statistic), "df": num(df),
                "p_value": num(test.pvalue), "ci_low": diff - half, "ci_high": diff + half}
    expected.update(margin_decisions(diff - half, diff + half, bound, higher_is_better))
    return {"function": "ab_noninferiority_ttest",
            "args": [mean_c, sd_c, n_c, mean_t, sd_t, n_t, margin, alpha, higher_is_better], "expected": expected}


def catalog_call_cases():
    """Calls of catalog functions by name with all their arguments, checked field by field in
    every engine by a test that walks the catalog (ab_core/tests/golden.rs, golden_sql.rs,
    datafusion_udfs/tests/golden.rs). Own generator, so other sections' draws do not move."""
    rng = np.random.default_rng(20261203)
    cases = []
    for higher_is_better in (True, False):
        for alpha in (0.05, 0.025):
            for x_c, n_c, shift, margin in [(1200, 10000, -10, 0.01), (480, 4000, 40, 0.02), (30, 300, -25, 0.05),
                                             (5, 60000, 0, 0.0001), (9000, 10000, 20, 0.01)]:
                x_t = x_c + (shift if higher_is_better else -shift)
                cases.append(noninferiority_ztest_case(x_c, n_c, x_t, n_c + 17, margin, alpha, higher_is_better))
            for _ in range(4):
                n_c, n_t = int(rng.integers(20, 5000)), int(rng.integers(20, 5000))
                mean_c = float(rng.normal(50, 20))
                sd_c, sd_t = float(rng.uniform(1, 30)), float(rng.uniform(1, 30))
                margin = float(rng.uniform(0.5, 5))
                mean_t = mean_c + float(rng.normal(0, margin))
                cases.append(noninferiority_ttest_case((mean_c, sd_c, n_c), (mean_t, sd_t, n_t), margin, alpha, higher_is_better))
    # Offset means: the difference of two means near 1e9 is exact in float64 on this grid.
    cases.append(noninferiority_ttest_case((OFFSET + 0.5, 2.0, 1000), (OFFSET + 0.25, 2.5, 1200), 0.5, 0.05, True))
    return cases


def main():
    ss_mean, power_mean, mde_mean = mean_planning_cases()
    vectors = {
        "hash": hash_cases(), "bucket": bucket_cases(), "assign": assign_cases(), "in_sample": in_sample_cases(),
        "ztest": ztest_cases(), "ttest_stats": ttest_stats_cases(), "ttest_data": ttest_data_cases(),
        "cuped_data": cuped_cases(), "sample_size_prop": sample_size_prop_cases(), "power_prop": power_prop_cases(),
        "mde_prop": mde_prop_cases(), "sample_size_mean": ss_mean, "power_mean": power_mean, "mde_mean": mde_mean,
        "duration_days": duration_cases(), "srm": srm_cases(), "adjust": adjust_cases(), "moments": moments_cases(),
        "beta": beta_cases(), "bayes_prop": bayes_prop_cases(), "bayes_mean": bayes_mean_cases(), "thompson": thompson_cases(),
        "msprt": msprt_cases(), "winsorize": winsorize_cases(), "ratio": ratio_cases(), "interaction": interaction_cases(), "sequential_data": sequential_data_cases(), "quantile": quantile_cases(), "contamination": contamination_cases(),
        "ratio_cuped": ratio_cuped_cases(),
        "catalog_calls": catalog_call_cases(),
    }
    path = Path(__file__).with_name("vectors.json")
    with path.open("w") as out:
        json.dump(vectors, out, indent=1, sort_keys=True, allow_nan=False)
        out.write("\n")
    print(f"wrote {path}: " + ", ".join(f"{k} {len(v)}" for k, v in vectors.items()))


if __name__ == "__main__":
    main()
