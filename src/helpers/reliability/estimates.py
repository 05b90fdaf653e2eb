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
    slope, resid = _planted_line(planted, means)
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


def _planted_line(planted: np.ndarray, means: np.ndarray) -> tuple[float, np.ndarray]:
    """Slope b of the draw means on the planted values, and the residuals (u_i + mean error)."""
    slope, intercept = np.polyfit(planted, means, 1)
    return float(slope), means - (intercept + slope * planted)


def systematic_correlation(
    draws: pd.DataFrame, scores: pd.Series, condition: str = "negative-neutral", target: str = "amygdala_r"
) -> float:
    """Correlation of ``scores`` with the participants' systematic deviations from the planted line.

    The residuals u_i (+ mean error) of :func:`reliability_from_draws`'s regression of the draw means
    on the planted values.  The reliability counts them as error; Spearman's correction assumes they
    are unrelated to the scores, and this says whether they are (e.g. coupling of neighbouring
    events of other conditions leaking into the estimate, whose planted values relate to the scores).

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
    float
    """
    grouped = draws[(draws["condition"] == condition) & (draws["target"] == target)].groupby("participant_id")
    means, planted = grouped["z"].mean(), grouped["planted"].first()
    _, resid = _planted_line(planted.to_numpy(), means.to_numpy())
    return float(np.corrcoef(scores.loc[means.index].to_numpy(float), resid)[0, 1])


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
    level: float = 0.95,
) -> dict[str, float]:
    """Does the ROI-voxel shortcut behave like the images?  Mean and SD of the images' standardised errors.

    Each participant's estimate from the images (``connectivity.tsv``) minus the mean m_i of their D_i
    draws, divided by its SD under the shortcut's model, σ_e·√(1 + 1/D_i) (σ_e = one run's error, pooled
    over participants as in :func:`reliability_from_draws`; the √(1 + 1/D_i) allows for the error of
    m_i itself).  If the images behave like the shortcut these values are N(0, 1): their mean's
    t interval must contain 0 and their SD's interval from (n − 1)s²/σ² ~ χ²(n − 1) must contain 1.
    (A participant's own draw SD would not do: with D = 10 draws it inflates the SD to about
    √(1.1 · 9/7) ≈ 1.19 for a perfect shortcut.)  An SD above 1 means the images carry about SD²
    times the shortcut's error variance.

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
    level : float, default 0.95
        Confidence level of the two intervals.

    Returns
    -------
    dict
        ``n, mean, mean_low, mean_high, sd, sd_low, sd_high, within`` (share with |z| < 1.96) and
        ``consistent`` (both intervals contain the shortcut's values 0 and 1).

    Raises
    ------
    ValueError
        Fewer than 3 participants in both tables.
    """
    from scipy import stats as sps

    grouped = draws[(draws["condition"] == condition) & (draws["target"] == target)].groupby(
        "participant_id"
    )["z"]
    conn = connectivity[
        (connectivity["condition"] == condition)
        & (connectivity["target"] == target)
        & (connectivity["source"] == "vmpfc")
        & (connectivity["measure"] == measure)
    ]
    image = conn.set_index("participant_id")["z"]
    ids = image.index.intersection(grouped.mean().index)
    if len(ids) < 3:
        raise ValueError(
            f"connectivity and draws share {len(ids)} participants for {condition} {target}; need >= 3"
        )
    error_sd = float(np.sqrt(grouped.var(ddof=1).mean()))
    size = grouped.size().loc[ids]
    zs = (image.loc[ids] - grouped.mean().loc[ids]) / (error_sd * np.sqrt(1 + 1 / size))
    n, mean, sd = len(ids), float(zs.mean()), float(zs.std(ddof=1))
    tail = (1 - level) / 2
    half = float(sps.t.ppf(1 - tail, n - 1)) * sd / np.sqrt(n)
    sd_low = sd * np.sqrt((n - 1) / sps.chi2.ppf(1 - tail, n - 1))
    sd_high = sd * np.sqrt((n - 1) / sps.chi2.ppf(tail, n - 1))
    return {
        "n": int(n),
        "mean": mean,
        "mean_low": mean - half,
        "mean_high": mean + half,
        "sd": sd,
        "sd_low": float(sd_low),
        "sd_high": float(sd_high),
        "within": float((zs.abs() < sps.norm.ppf(0.975)).mean()),
        "consistent": bool(mean - half <= 0 <= mean + half and sd_low <= 1 <= sd_high),
    }


def reliability_scaled_error(result: dict, error_scale: float) -> float:
    """Reliability if one run's error had ``error_scale`` times the SD the draws measured.

    b²Var(t) / (b²Var(t) + σ²_u + (k·σ_e)²) with b, Var(t), σ_u, σ_e from :func:`reliability_from_draws`
    and k = ``error_scale`` (e.g. the SD of :func:`image_check`: the images' error relative to the
    shortcut's).

    Parameters
    ----------
    result : dict
        From :func:`reliability_from_draws` (``slope``, ``planted_sd``, ``systematic_sd``, ``error_sd``).
    error_scale : float
        k ≥ 0.

    Returns
    -------
    float
    """
    signal = result["slope"] ** 2 * result["planted_sd"] ** 2
    error = (error_scale * result["error_sd"]) ** 2
    return float(signal / (signal + result["systematic_sd"] ** 2 + error))
