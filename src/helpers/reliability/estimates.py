"""The reliability of the connectivity estimate, measured from repeated draws (classical test theory),
and checks of the draws against the twin's population and against the images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..simulate import model as twin_model


def reliability_from_draws(
    draws: pd.DataFrame, condition: str = "negative-neutral", target: str = "amygdala_r"
) -> dict[str, float]:
    """Reliability of one connectivity measure from repeated draws (classical test theory).

    Model: z_id = a + b·t_i + u_i + e_id for participant i and draw d, t_i = the planted value,
    u_i = a participant's systematic deviation (its own event order, HRF overlap …), e_id = the
    error of one run.  Estimates: σ²_e = mean_i Var_d(z_id); b from regressing the draw means
    m_i on t_i; σ²_u = Var(residuals of m_i) − σ²_e / D (≥ 0).

    * ``reliability`` = b²Var(t) / (b²Var(t) + σ²_u + σ²_e): the share of one estimate's variance
      across participants that the planted coupling explains, i.e. corr(t, z)².  A correlation of
      the planted coupling with anything is attenuated by √reliability.
    * ``retest`` = (b²Var(t) + σ²_u) / (… + σ²_e): the correlation of two runs of the same people.

    Parameters
    ----------
    draws : DataFrame
        From :func:`repeated_draws`.
    condition : str, default "negative-neutral"
        Condition or contrast of the draws used.
    target : str, default "amygdala_r"
        Target ROI (the source is ``vmpfc``).

    Returns
    -------
    dict
        ``reliability, retest, slope, error_sd, systematic_sd, planted_sd, n, draws`` (D = the
        smallest number of draws of a participant).

    Raises
    ------
    ValueError
        No rows for ``condition`` and ``target``, or a participant with fewer than 2 draws.
    """
    sel = draws[(draws["condition"] == condition) & (draws["target"] == target)]
    if sel.empty:
        raise ValueError(f"draws have no rows for condition {condition!r} and target {target!r}")
    grouped = sel.groupby("participant_id")
    n_draws = int(grouped.size().min())
    if n_draws < 2:
        raise ValueError(f"draws: every participant needs >= 2 draws, one has {n_draws}")
    error_var = float(grouped["z"].var(ddof=1).mean())
    means = grouped["z"].mean().to_numpy()
    planted = grouped["planted"].first().to_numpy()
    slope, intercept = np.polyfit(planted, means, 1)
    resid = means - (intercept + slope * planted)
    systematic_var = max(float(resid.var(ddof=2)) - error_var / n_draws, 0.0)
    signal_var = slope**2 * float(planted.var(ddof=1))
    total = signal_var + systematic_var + error_var
    return {
        "reliability": signal_var / total,
        "retest": (signal_var + systematic_var) / total,
        "slope": float(slope),
        "error_sd": float(np.sqrt(error_var)),
        "systematic_sd": float(np.sqrt(systematic_var)),
        "planted_sd": float(planted.std(ddof=1)),
        "n": int(len(means)),
        "draws": n_draws,
    }


def draw_correlations(
    draws: pd.DataFrame, scores: pd.Series, condition: str = "negative-neutral", target: str = "amygdala_r"
) -> np.ndarray:
    """Pearson r between ``scores`` and each draw's estimates, draw after draw.

    The observed correlation the twin gives in each re-simulation: the direct check of the
    attenuation formula.

    Parameters
    ----------
    draws : DataFrame
        From :func:`repeated_draws`.
    scores : Series
        A score per participant, indexed by ``participant_id``.
    condition : str, default "negative-neutral"
        Condition or contrast of the draws used.
    target : str, default "amygdala_r"
        Target ROI (the source is ``vmpfc``).

    Returns
    -------
    numpy.ndarray
        One r per draw.
    """
    sel = draws[(draws["condition"] == condition) & (draws["target"] == target)]
    wide = sel.pivot(index="participant_id", columns="draw", values="z")
    x = scores.loc[wide.index].to_numpy(float)
    return np.array([np.corrcoef(x, wide[d].to_numpy())[0, 1] for d in wide.columns])


def planted_population_sd(
    cfg: dict, side: str = "amygdala_r", measure: str = "negative-neutral", n: int = 20000, seed: int = 0
) -> float:
    """SD of a planted coupling measure in the twin's population.

    The twin's planting with ``coupling.match: population`` is run on ``n`` simulated participants;
    contrasts ``"a-b"`` are differences of z.

    Parameters
    ----------
    cfg : dict
        The twin's configuration (``scs``, ``coupling``, ``conditions``).
    side : str, default "amygdala_r"
        Target ROI.
    measure : str, default "negative-neutral"
        A condition or a contrast ``"a-b"``.
    n : int, default 20000
        Simulated participants.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    float
        The SD (pandas ``std``, ddof 1).
    """
    coupling = {**cfg["coupling"], "match": "population"}
    rng = np.random.default_rng(seed)
    ids = [f"p{i}" for i in range(n)]
    items, _ = twin_model.scs_items(ids, cfg["scs"], rng)
    scores = pd.DataFrame(
        twin_model.score_matrix(items.iloc[:, 1:].to_numpy()), index=ids, columns=twin_model.SCORES
    )
    table = twin_model.planted_coupling(scores, cfg["scs"], coupling, cfg["conditions"], rng)
    z = table[table["target"] == side].pivot(index="participant_id", columns="condition", values="z")
    parts = measure.split("-")
    values = z[parts[0]] - (z[parts[1]] if len(parts) == 2 else 0.0)
    return float(values.std())


def population_reliability(result: dict, planted_sd: float) -> float:
    """Reliability with the population's spread of planted values instead of this sample's.

    b²·SD² / (b²·SD² + σ²_u + σ²_e) with b, σ_u, σ_e from :func:`reliability_from_draws` (the design's
    properties) and SD = ``planted_sd`` (:func:`planted_population_sd`).

    Parameters
    ----------
    result : dict
        From :func:`reliability_from_draws` (``slope``, ``systematic_sd``, ``error_sd``).
    planted_sd : float
        SD of the planted values in the population.

    Returns
    -------
    float
    """
    signal = result["slope"] ** 2 * planted_sd**2
    return float(signal / (signal + result["systematic_sd"] ** 2 + result["error_sd"] ** 2))


def image_check(
    draws: pd.DataFrame,
    connectivity: pd.DataFrame,
    condition: str = "negative-neutral",
    target: str = "amygdala_r",
    measure: str = "weighted_hrf",
) -> dict[str, float]:
    """Does the ROI-voxel shortcut behave like the images?

    Each participant's estimate from the images (``connectivity.tsv``) is standardised by the mean and
    SD of their draws: for the same model these z-scores have mean 0 and SD 1, and about 95 % lie
    within ±1.96.

    Parameters
    ----------
    draws : DataFrame
        From :func:`repeated_draws`.
    connectivity : DataFrame
        ``connectivity.tsv`` (``participant_id, measure, condition, source, target, z``).
    condition : str, default "negative-neutral"
        Condition or contrast of the draws used.
    target : str, default "amygdala_r"
        Target ROI (the source is ``vmpfc``).
    measure : str, default "weighted_hrf"
        Connectivity measure of the images.

    Returns
    -------
    dict
        ``n, mean, sd, within`` (share with |z| < 1.96).

    Raises
    ------
    ValueError
        Fewer than 2 participants in both tables.
    """
    sel = draws[(draws["condition"] == condition) & (draws["target"] == target)].groupby("participant_id")[
        "z"
    ]
    conn = connectivity[
        (connectivity["condition"] == condition)
        & (connectivity["target"] == target)
        & (connectivity["source"] == "vmpfc")
        & (connectivity["measure"] == measure)
    ]
    image = conn.set_index("participant_id")["z"]
    ids = image.index.intersection(sel.mean().index)
    if len(ids) < 2:
        raise ValueError(
            f"connectivity and draws share {len(ids)} participants for {condition} {target}; need >= 2"
        )
    zs = (image.loc[ids] - sel.mean().loc[ids]) / sel.std().loc[ids]
    return {
        "n": int(len(ids)),
        "mean": float(zs.mean()),
        "sd": float(zs.std()),
        "within": float((zs.abs() < 1.959964).mean()),
    }
