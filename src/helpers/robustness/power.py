"""What n = 19 can detect: sensitivity and power (Fisher-z approximation, pingouin) and the sampling
distribution of r in exact replications (Monte Carlo)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pingouin as pg

from .. import paper
from ..stats import p_from_r


def _power_alternative(alternative: str) -> str:
    # pingouin.power_corr works with |r|: a one-tailed test is its "greater" case.
    return "two-sided" if alternative == "two-sided" else "greater"


def detectable_r(
    n: int = paper.N, power: float = 0.8, alpha: float = 0.05, alternative: str = "two-sided"
) -> float:
    """Smallest |ρ| detectable with probability ``power`` (sensitivity analysis).

    Solved by :func:`pingouin.power_corr` (Fisher-z approximation, Cohen 1988 ch. 3).

    Parameters
    ----------
    n : int, default :data:`helpers.paper.N`
        Sample size (19, the paper's).
    power : float, default 0.8
        Probability of detection.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        The test (a one-sided test is solved for |ρ|).

    Returns
    -------
    float
    """
    return float(pg.power_corr(n=n, power=power, alpha=alpha, alternative=_power_alternative(alternative)))


def n_required(r: float, power: float = 0.8, alpha: float = 0.05, alternative: str = "two-sided") -> int:
    """Participants needed to detect |ρ| = |r| with ``power`` (rounded up; :func:`pingouin.power_corr`).

    Parameters
    ----------
    r : float
        Effect size.
    power : float, default 0.8
        Probability of detection.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        The test.

    Returns
    -------
    int
    """
    n = pg.power_corr(r=abs(r), power=power, alpha=alpha, alternative=_power_alternative(alternative))
    return int(np.ceil(n))


def sensitivity_table(
    effects: Mapping[str, float], n: int = paper.N, power: float = 0.8, alpha: float = 0.05
) -> pd.DataFrame:
    """Power at ``n`` and the n for ``power``, one- and two-tailed, for each named effect size.

    Parameters
    ----------
    effects : mapping of str to float
        Label → effect size r.
    n : int, default :data:`helpers.paper.N`
        Sample size (19, the paper's).
    power : float, default 0.8
        Target power for the required n.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    DataFrame
        One row per effect.
    """
    rows = []
    for label, r in effects.items():
        row = {"effect": label, "r": r}
        for alt, tag in (("greater", "one_tailed"), ("two-sided", "two_tailed")):
            row[f"power_{tag}"] = float(pg.power_corr(r=abs(r), n=n, alpha=alpha, alternative=alt))
            row[f"n_for_{int(power * 100)}_{tag}"] = n_required(r, power, alpha, alt)
        rows.append(row)
    return pd.DataFrame(rows)


def monte_carlo_r(
    rho: float,
    n: int = paper.N,
    *,
    n_sim: int = 20000,
    seed: int = 2018,
    alpha: float = 0.05,
    alternative: str = "less",
) -> dict:
    """Sampling distribution of Pearson's r for samples of ``n`` from a bivariate normal with ρ.

    Each replication draws n pairs with correlation ρ (x = e₁, y = ρ e₁ + √(1−ρ²) e₂),
    computes r and its p (:func:`helpers.stats.p_from_r`); the share with p < α
    estimates the power of an exact replication.

    Parameters
    ----------
    rho : float
        Population correlation.
    n : int, default :data:`helpers.paper.N`
        Sample size (19, the paper's).
    n_sim : int, default 20000
        Replications.
    seed : int, default 2018
        Random seed.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "less"
        The test.

    Returns
    -------
    dict
        ``rho, n, n_sim, alternative, alpha, r`` (array of simulated r), ``p`` (array),
        ``power`` (share significant), ``power_se`` (binomial SE) and ``r_quantiles``
        (2.5 %, 50 %, 97.5 %).
    """
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n_sim, n, 2))
    x = e[..., 0]
    y = rho * e[..., 0] + np.sqrt(1 - rho**2) * e[..., 1]
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    r = (xc * yc).sum(1) / np.sqrt((xc**2).sum(1) * (yc**2).sum(1))
    p = p_from_r(r, n, alternative)
    power = float(np.mean(p < alpha))
    return {
        "rho": rho,
        "n": n,
        "n_sim": n_sim,
        "alternative": alternative,
        "alpha": alpha,
        "r": r,
        "p": p,
        "power": power,
        "power_se": float(np.sqrt(power * (1 - power) / n_sim)),
        "r_quantiles": tuple(float(q) for q in np.quantile(r, [0.025, 0.5, 0.975])),
    }
