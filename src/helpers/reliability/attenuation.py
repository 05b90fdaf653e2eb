"""What an unreliable measure does to a correlation: r_obs ≈ r_true · √reliability (Spearman 1904),
simulated, for fixed participants, and undone (the latent r)."""

from __future__ import annotations

import numpy as np


def _exact_pair(n: int, r: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two standardised vectors of length n whose *sample* correlation is exactly r."""
    x = rng.standard_normal(n)
    x = (x - x.mean()) / x.std()
    e = rng.standard_normal(n)
    e = e - e.mean() - (e @ x) / n * x
    e /= e.std()
    return x, r * x + np.sqrt(1 - r**2) * e


def attenuated_r(
    r_true: float, reliability: float, n: int, n_sim: int = 20000, seed: int = 0, fixed_sample: bool = False
) -> np.ndarray:
    """Observed correlations of n participants when the measure carries only ``reliability`` of its variance.

    Observed y = √rel · t + √(1 − rel) · e, e ~ N(0, 1) new in every simulated study; r = corr(x, y).
    With ``fixed_sample`` the participants stay the same (x and t drawn once with sample correlation
    exactly ``r_true``, as the twin plants it with ``coupling.match: sample``): the spread is then the
    measurement error's alone.  Otherwise every study draws new participants from a population with
    correlation ``r_true`` (an exact replication).  In both cases E[r] ≈ r_true · √rel.

    Parameters
    ----------
    r_true : float
        Correlation of x with the true score t (planted).
    reliability : float
        Share of the observed measure's variance due to t, in [0, 1].
    n : int
        Participants per study (≥ 3).
    n_sim : int, default 20000
        Simulated studies.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    fixed_sample : bool, default False
        Keep the same participants in every study (see above).

    Returns
    -------
    numpy.ndarray
        ``n_sim`` observed correlations.

    Raises
    ------
    ValueError
        ``r_true`` outside [-1, 1], ``reliability`` outside [0, 1], or ``n`` < 3.
    """
    if not -1 <= r_true <= 1:
        raise ValueError(f"r_true must lie in [-1, 1], got {r_true}")
    if not 0 <= reliability <= 1:
        raise ValueError(f"reliability must lie in [0, 1], got {reliability}")
    if n < 3:
        raise ValueError(f"n must be >= 3 for a correlation, got {n}")
    rng = np.random.default_rng(seed)
    if fixed_sample:
        x, t = (np.broadcast_to(v, (n_sim, n)) for v in _exact_pair(n, r_true, rng))
    else:
        x = rng.standard_normal((n_sim, n))
        t = r_true * x + np.sqrt(1 - r_true**2) * rng.standard_normal((n_sim, n))
    y = np.sqrt(reliability) * t + np.sqrt(1 - reliability) * rng.standard_normal((n_sim, n))
    xc, yc = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)
    return (xc * yc).sum(axis=1) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))


def observed_r_given(
    x: np.ndarray, means: np.ndarray, error_sd: float, n_draws: int, n_sim: int = 20000, seed: int = 0
) -> np.ndarray:
    """Correlations of ``x`` with one run's estimates, for these participants, by simulation.

    Each participant's expected estimate is their mean over ``n_draws`` re-simulated runs, shrunk
    towards the group mean so that its spread loses the draws' own error (variance σ²/D); one run
    adds N(0, ``error_sd``²).  Unlike :func:`attenuated_r` this keeps every systematic part of the
    estimate — e.g. leakage from the neighbouring condition, whose planted coupling also correlates
    with the scores — so it is the twin's own expectation, not only Spearman's.

    Parameters
    ----------
    x : numpy.ndarray
        The score per participant.
    means : numpy.ndarray
        Each participant's mean estimate over the draws (same length as ``x``, at least 3).
    error_sd : float
        SD σ of one run's error (Fisher z).
    n_draws : int
        Draws D behind each mean.
    n_sim : int, default 20000
        Simulated runs.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray
        ``n_sim`` correlations.

    Raises
    ------
    ValueError
        ``x`` and ``means`` differ in shape or hold fewer than 3 values.
    """
    x, means = np.asarray(x, float), np.asarray(means, float)
    if x.shape != means.shape or x.size < 3:
        raise ValueError(f"x and means need the same length >= 3, got {x.shape} and {means.shape}")
    var = means.var(ddof=1)
    shrink = np.sqrt(max(var - error_sd**2 / n_draws, 0.0) / var) if var > 0 else 0.0
    centre = means.mean() + (means - means.mean()) * shrink
    rng = np.random.default_rng(seed)
    y = centre[None, :] + error_sd * rng.standard_normal((n_sim, x.size))
    xc, yc = x - x.mean(), y - y.mean(axis=1, keepdims=True)
    return (yc @ xc) / np.sqrt((yc**2).sum(axis=1) * (xc**2).sum())


def latent_r(r_obs, reliability: float):
    """Disattenuated correlation r_obs / √reliability (may exceed 1 in size: then no latent r fits).

    Spearman's correction for attenuation, for a measure with error on one side only.

    Parameters
    ----------
    r_obs : float or array_like
        Observed correlation(s).
    reliability : float
        Reliability of the measure, in (0, 1].

    Returns
    -------
    numpy.ndarray
        Same shape as ``r_obs``.

    Raises
    ------
    ValueError
        ``reliability`` outside (0, 1].
    """
    if not 0 < reliability <= 1:
        raise ValueError(f"reliability must lie in (0, 1], got {reliability}")
    return np.asarray(r_obs, float) / np.sqrt(reliability)


def attenuation_summary(
    r_planted: float,
    reliability: float,
    n: int,
    n_sim: int = 20000,
    seed: int = 0,
    r_ours: float | None = None,
    fixed_sample: bool = True,
) -> dict:
    """Planted r, the observed r expected at this reliability, and whether ``r_ours`` lies within its spread.

    The expected r is the mean, and the spread the central 95 %, of :func:`attenuated_r`.

    Parameters
    ----------
    r_planted : float
        The planted correlation.
    reliability : float
        Reliability of the connectivity estimate.
    n : int
        Participants.
    n_sim : int, default 20000
        Simulated studies.
    seed : int, default 0
        Seed of the simulation.
    r_ours : float, default None
        Our observed r; default None: not compared.
    fixed_sample : bool, default True
        Keep the participants fixed (the twin's ``coupling.match: sample``; :func:`attenuated_r`).

    Returns
    -------
    dict
        ``r_planted, reliability, expected, q_low, q_high, sims`` (array), ``r_ours``,
        ``ours_within`` (None without ``r_ours``), ``ours_quantile`` (share of simulated r below ours).
    """
    sims = attenuated_r(r_planted, reliability, n, n_sim, seed, fixed_sample=fixed_sample)
    q_low, q_high = np.quantile(sims, [0.025, 0.975])
    within = None if r_ours is None else bool(q_low <= r_ours <= q_high)
    quant = None if r_ours is None else float((sims < r_ours).mean())
    return {
        "r_planted": float(r_planted),
        "reliability": float(reliability),
        "expected": float(sims.mean()),
        "q_low": float(q_low),
        "q_high": float(q_high),
        "sims": sims,
        "r_ours": r_ours,
        "ours_within": within,
        "ours_quantile": quant,
    }
