"""Coverage of ab_quantile_test's 95% interval under two standard-error methods, by simulation
(no true difference, exponential data): the binomial-rank bracket pg_ab used first, and
Maritz-Jarrett (scipy.stats.mstats.mjci), which it uses now. Prints one line per setting;
docs/statistics.md quotes the figures. Run: python3 scripts/research/quantile_se_coverage.py"""

import numpy as np
from scipy import stats
from scipy.stats import mstats

Z = stats.norm.isf(0.025)


def rank_bracket_se(x, q):
    x = np.sort(x)
    n = len(x)
    spread = Z * np.sqrt(n * q * (1 - q))
    lower = int(min(max(np.floor(n * q - spread), 1), n))
    upper = int(min(max(np.ceil(n * q + spread), 1), n))
    return (x[upper - 1] - x[lower - 1]) / (2 * Z)


def maritz_jarrett_se(x, q):
    return float(mstats.mjci(x, prob=[q])[0])


def coverage(n, q, experiments, rng):
    covered = {"rank bracket": 0, "Maritz-Jarrett": 0}
    for _ in range(experiments):
        control, treatment = rng.exponential(size=n), rng.exponential(size=n)
        diff = np.quantile(treatment, q) - np.quantile(control, q)
        for name, se in (("rank bracket", rank_bracket_se), ("Maritz-Jarrett", maritz_jarrett_se)):
            covered[name] += abs(diff) <= Z * np.hypot(se(control, q), se(treatment, q))
    return {name: count / experiments for name, count in covered.items()}


def main():
    rng = np.random.default_rng(1)
    for n, q in ((500, 0.5), (500, 0.95), (20, 0.95)):
        result = coverage(n, q, 2000, rng)
        print(f"n = {n} per arm, q = {q}: " + ", ".join(f"{name} {value:.3f}" for name, value in result.items()))


if __name__ == "__main__":
    main()
