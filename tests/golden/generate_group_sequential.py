"""Reference boundaries and inflation factors of group sequential designs (ab_gst_boundary,
ab_gst_inflation; docs/statistics.md "Group sequential designs"), written to
group_sequential.json next to this file. Nothing is computed with pg_ab.

Two references:
- "exact": the crossing probabilities of the looks' z-statistics (Brownian motion observed at
  the information fractions) integrated by scipy's adaptive quadrature (QUADPACK) at 1e-14,
  with each boundary and drift solved by brentq: one integral for two looks, two nested for
  three. The spending functions are Lan-DeMets' (1983) and Kim-DeMets' power family.
  Compared at 1e-7, the accuracy of pg_ab's grid (4.5e-8 measured).
- "spotify": spotify-confidence's bounds() (a port of R's ldbounds), the published
  implementation of the power family alpha * t**rho, with its own grid (trapezoids of 0.05 sd)
  and a bisection that stops within 1e-7 of the probability to spend: compared at that
  accuracy, 5e-4 on z. Its two-sided bounds spend alpha/2 on the upper side alone.

Run: python3 tests/golden/generate_group_sequential.py (pip install -r requirements.txt).
"""

import json
import math
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, stats
from spotify_confidence.analysis.frequentist.sequential_bound_solver import bounds as spotify_bounds

QUAD = {"epsabs": 1e-15, "epsrel": 1e-14, "limit": 200}
NORM = stats.norm


def spent(spending, alpha, t, two_sided):
    """Alpha spent by t; a two-sided design spends alpha/2 on each side (ldbounds' convention)."""
    if two_sided:
        return 2.0 * spent(spending, alpha / 2.0, t, False)
    t = min(t, 1.0)
    if spending == "obrien-fleming":
        return 2.0 * NORM.sf(NORM.isf(alpha / 2.0) / math.sqrt(t))
    if spending == "pocock":
        return alpha * math.log(1.0 + (math.e - 1.0) * t)
    rho = float(spending.removeprefix("power:"))
    return alpha * t ** rho


def tail(s, edge, shift, sd, two_sided):
    """From S = s before a step of mean `shift` and sd `sd`: P(S' > edge), plus P(S' < -edge)
    when two-sided."""
    upper = NORM.sf((edge - s - shift) / sd)
    return upper + (NORM.cdf((-edge - s - shift) / sd) if two_sided else 0.0)


def crossing(t, bounds, c, drift, two_sided):
    """P(no crossing at the looks before the last, crossing c at the last), the score S(t) =
    z(t) sqrt(t) being Brownian motion with drift `drift` (the mean of z at t = 1)."""
    k = len(t)
    edge = c * math.sqrt(t[-1])
    if k == 1:
        return tail(0.0, edge, drift * t[0], math.sqrt(t[0]), two_sided)

    def region(i):
        high = bounds[i] * math.sqrt(t[i])
        return (-high if two_sided else -40.0 * math.sqrt(t[i]), high)

    def density(s, before, i):
        """The density of S(t_i) at s given S = before[0] at t = before[1]."""
        step = t[i] - before[1]
        return NORM.pdf(s, before[0] + drift * step, math.sqrt(step))

    step = t[k - 1] - t[k - 2]
    last = lambda s: tail(s, edge, drift * step, math.sqrt(step), two_sided)
    if k == 2:
        low, high = region(0)
        return integrate.quad(lambda s1: density(s1, (0.0, 0.0), 0) * last(s1), low, high, **QUAD)[0]
    if k == 3:
        (low1, high1), (low2, high2) = region(0), region(1)
        f = lambda s2, s1: density(s1, (0.0, 0.0), 0) * density(s2, (s1, t[0]), 1) * last(s2)
        return integrate.dblquad(f, low1, high1, low2, high2, epsabs=1e-14, epsrel=1e-13)[0]
    raise ValueError("the quadrature reference covers two or three looks")


def exact_bounds(t, alpha, spending, two_sided):
    result, before = [], 0.0
    for k in range(1, len(t) + 1):
        now = spent(spending, alpha, t[k - 1], two_sided)
        target = now - before
        before = now
        lowest = 0.0 if two_sided else -20.0
        result.append(optimize.brentq(lambda c: crossing(t[:k], result, c, 0.0, two_sided) - target,
                                      lowest, 20.0, xtol=1e-14, rtol=8.9e-16))
    return result


def rejection(t, bounds, drift, two_sided):
    return sum(crossing(t[:k], bounds[:k - 1], bounds[k - 1], drift, two_sided) for k in range(1, len(t) + 1))


def exact_inflation(t, alpha, power, spending, two_sided):
    bounds = exact_bounds(t, alpha, spending, two_sided)
    single = exact_bounds([1.0], alpha, spending, two_sided)
    drift = optimize.brentq(lambda d: rejection(t, bounds, d, two_sided) - power, 0.0, 20.0, xtol=1e-14, rtol=8.9e-16)
    drift1 = optimize.brentq(lambda d: rejection([1.0], single, d, two_sided) - power, 0.0, 20.0, xtol=1e-14, rtol=8.9e-16)
    return (drift / drift1) ** 2


def p_bound(z, two_sided):
    return (2.0 if two_sided else 1.0) * NORM.sf(z)


def boundary_case(reference, t, alpha, spending, alternative, z_bound):
    two_sided = alternative == "two-sided"
    return {"reference": reference, "function": "ab_gst_boundary", "args": [t, alpha, spending, alternative],
            "expected": {"look": len(t), "information": t[-1], "alpha_spent": spent(spending, alpha, t[-1], two_sided),
                         "z_bound": z_bound, "p_bound": p_bound(z_bound, two_sided)}}


def main():
    cases = []
    # Two looks for every spending, side and alpha; three (nested quadrature, minutes each) for two.
    designs = [[1.0], [0.5, 1.0], [0.3, 1.0], [0.6, 1.2]]
    for spending in ("obrien-fleming", "pocock", "power:2"):
        for alternative in ("two-sided", "larger"):
            for alpha in (0.05, 0.01):
                for t in designs:
                    z = exact_bounds(t, alpha, spending, alternative == "two-sided")[-1]
                    cases.append(boundary_case("exact", t, alpha, spending, alternative, z))
    for t, spending, alternative in (([0.2, 0.4, 0.6], "obrien-fleming", "two-sided"), ([0.25, 0.6, 1.0], "pocock", "larger")):
        z = exact_bounds(t, 0.05, spending, alternative == "two-sided")[-1]
        cases.append(boundary_case("exact", t, 0.05, spending, alternative, z))
    inflations = []
    for spending in ("obrien-fleming", "pocock", "power:3"):
        for alternative in ("two-sided", "larger"):
            for t, power in (([0.5, 1.0], 0.8), ([0.3, 1.0], 0.9)):
                inflations.append({"reference": "exact", "function": "ab_gst_inflation",
                                   "args": [t, 0.05, power, spending, alternative],
                                   "expected": exact_inflation(t, 0.05, power, spending, alternative == "two-sided")})
    # Spotify's: five and ten equally spaced looks and uneven ones, for rho 1, 2 and 3.
    for rho in (1, 2, 3):
        for t in ([0.2, 0.4, 0.6, 0.8, 1.0], [i / 10 for i in range(1, 11)], [0.1, 0.35, 0.5, 0.9, 1.0]):
            for sides, alternative in ((2, "two-sided"), (1, "larger")):
                for alpha in (0.05, 0.1):
                    # Spotify's two-sided bounds spend alpha/2 on one side: as ours, one-sided at alpha/2.
                    z = spotify_bounds(np.array(t), alpha, rho, 8.0, sides).bounds
                    for k in range(1, len(t) + 1):
                        case = boundary_case("spotify", t[:k], alpha / sides, f"power:{rho}", "larger", float(z[k - 1]))
                        case["spotify_alternative"] = alternative
                        cases.append(case)
    path = Path(__file__).with_name("group_sequential.json")
    with path.open("w") as out:
        json.dump({"boundaries": cases, "inflation": inflations}, out, indent=1, sort_keys=True, allow_nan=False)
        out.write("\n")
    print(f"wrote {path}: {len(cases)} boundaries, {len(inflations)} inflation factors")


if __name__ == "__main__":
    main()
