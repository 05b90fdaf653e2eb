"""The planted coupling: VMPFC–amygdala coupling per participant, with known correlations to the scores.

Each participant, amygdala side and condition gets a Fisher z that depends linearly on the
standardised SCS subscales; the weights are solved so that the population correlations of the
coupling measures with the scores match the configured targets (the paper's Table 1 and text
results, book/spec_paper.md), optionally corrected for the attenuation of a one-run estimate, and
optionally matched in the drawn sample.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import optimize

from ..scs import SUBSCALES
from .config_key import freeze, thaw
from .sample import scs_population

__all__ = [
    "coupling_weights",
    "implied_correlations",
    "latent_targets",
    "planted_coupling",
    "sample_correlations",
    "match_sample",
]


def _components(conditions: list[str]) -> list[tuple[str, str]]:
    return [(side, cond) for side in ("amygdala_l", "amygdala_r") for cond in conditions]


def _residual_corr(conditions: list[str], cfg: dict) -> np.ndarray:
    """Residual correlation between coupling components (Kronecker of two equicorrelations)."""
    k = len(conditions)
    rc = np.full((k, k), cfg["residual_corr_conditions"])
    np.fill_diagonal(rc, 1.0)
    rs = np.array([[1.0, cfg["residual_corr_sides"]], [cfg["residual_corr_sides"], 1.0]])
    return np.kron(rs, rc)


def _combination(measure: str, side: str, comps: list[tuple[str, str]]) -> np.ndarray:
    """Weights a such that measure = a . z  (a condition, or a difference "c1-c2")."""
    a = np.zeros(len(comps))
    parts = measure.split("-")
    a[comps.index((side, parts[0]))] = 1.0
    if len(parts) == 2:
        a[comps.index((side, parts[1]))] = -1.0
    return a


def implied_correlations(
    weights: np.ndarray, sigma: np.ndarray, score_corr: np.ndarray, combos: np.ndarray, resid_corr: np.ndarray
) -> np.ndarray:
    """Population correlations of coupling measures with scores under the linear model.

    With standardised subscales s (correlation Σ = ``sigma``), component j = b_j·s + e_j (unit
    variance), Cov(z) = B Σ Bᵀ + Ψ, Ψ_jk = R_jk sqrt((1 − b_jᵀΣb_j)(1 − b_kᵀΣb_k)) (R =
    ``resid_corr``).  For measure i = a_iᵀz (row i of ``combos``) and score m_i (column i of
    ``score_corr`` = Corr(s, m_i)): corr_i = a_iᵀ B c_i / sqrt(a_iᵀ Cov(z) a_i).

    Parameters
    ----------
    weights : ndarray, shape (n_components, 6)
        B, one row b_j per coupling component.
    sigma : ndarray, shape (6, 6)
        Σ, correlation of the subscales.
    score_corr : ndarray, shape (6, n_measures)
        Column i: correlations of the subscales with measure i's score.
    combos : ndarray, shape (n_measures, n_components)
        Row i: a_i (a condition, or a difference of two).
    resid_corr : ndarray, shape (n_components, n_components)
        R, correlation of the residuals e.

    Returns
    -------
    ndarray, shape (n_measures,)
    """
    explained = np.einsum("ij,jk,ik->i", weights, sigma, weights)
    resid_sd = np.sqrt(np.clip(1 - explained, 1e-6, None))
    cov = weights @ sigma @ weights.T + resid_corr * np.outer(resid_sd, resid_sd)
    np.fill_diagonal(cov, 1.0)
    num = np.einsum("ij,jk,ki->i", combos, weights, score_corr)
    return num / np.sqrt(np.einsum("ij,jk,ik->i", combos, cov, combos))


def latent_targets(coupling_cfg: dict) -> list:
    """The correlations the twin plants in the neural coupling (``coupling.level``).

    ``level: latent``: the targets themselves.  ``level: observed`` (the shipped config's choice):
    each target r of a measure m divided by √``reliability[m]`` (Spearman's correction for
    attenuation), so that the correlations *estimated* from one run — attenuated by the reliability
    of the connectivity estimate, measured by :mod:`helpers.reliability` — match the targets in
    expectation.  A config without ``level`` means ``latent``.

    Parameters
    ----------
    coupling_cfg : dict
        The config's ``coupling`` section (``targets``: rows ``[side, measure, score, r]``;
        ``level``; ``reliability``).

    Returns
    -------
    list
        Rows ``[side, measure, score, latent r]``.

    Raises
    ------
    ValueError
        If ``level`` is unknown, ``reliability`` is missing or outside (0, 1], or a latent value
        would exceed |r| = 0.95 (the message names the targets): no latent correlation can then
        produce the target at that reliability.
    """
    level = coupling_cfg.get("level", "latent")
    if level == "latent":
        return [list(t) for t in coupling_cfg["targets"]]
    if level != "observed":
        raise ValueError(f"config coupling.level: {level!r} is not 'latent' or 'observed'")
    rel = coupling_cfg.get("reliability")
    if not isinstance(rel, dict):
        raise ValueError(
            "config coupling.reliability: a mapping measure -> reliability is needed when "
            f"coupling.level is 'observed', got {rel!r}"
        )
    out, impossible = [], []
    for side, measure, score_name, value in coupling_cfg["targets"]:
        r = rel.get(measure)
        if not isinstance(r, (int, float)) or not 0 < r <= 1:
            raise ValueError(
                f"config coupling.reliability.{measure}: {r!r} must be a number in (0, 1] "
                f"(target {side} {measure} {score_name})"
            )
        latent = float(value) / np.sqrt(r)
        if abs(latent) > 0.95:
            impossible.append(f"{side} {measure} {score_name}: r = {value} needs {latent:.2f}")
        out.append([side, measure, score_name, latent])
    if impossible:
        raise ValueError(
            f"config coupling.level 'observed': no latent correlation gives these targets at their "
            f"reliability ({'; '.join(impossible)}); use level 'latent' or lower the targets"
        )
    return out


def coupling_weights(
    scs_cfg: dict, coupling_cfg: dict, conditions: list[str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Solve the coupling weights b (components x 6 subscales) for the target correlations.

    Least squares on (implied − target) plus ``ridge``·b, with a penalty keeping every
    bᵀΣb < 0.95 (the residual variance must stay positive).  Deterministic (starts at 0); cached.

    Parameters
    ----------
    scs_cfg : dict
        The config's ``scs`` section (population moments, :func:`.sample.scs_population`).
    coupling_cfg : dict
        The config's ``coupling`` section (targets, ridge, residual correlations).
    conditions : list of str
        Task conditions, in order.

    Returns
    -------
    weights : ndarray (2·n_conditions, 6)
        Rows ordered (amygdala_l, c…), (amygdala_r, c…).
    table : DataFrame
        ``side, measure, score, target, planted`` (target = the configured value;
        planted = implied population r of the neural coupling, fitted to :func:`latent_targets`).
    """
    weights, table = _coupling_weights(freeze(scs_cfg), freeze(coupling_cfg), tuple(conditions))
    return weights.copy(), table.copy()


@functools.lru_cache(maxsize=4)
def _coupling_weights(
    scs_key: tuple, coupling_key: tuple, conditions: tuple
) -> tuple[np.ndarray, pd.DataFrame]:
    scs_cfg, coupling_cfg, conditions = thaw(scs_key), thaw(coupling_key), list(conditions)
    _, _, corr = scs_population(scs_cfg)
    targets = [tuple(t[:3]) for t in coupling_cfg["targets"]]
    values = np.array([float(t[3]) for t in latent_targets(coupling_cfg)])
    sigma = corr.loc[list(SUBSCALES), list(SUBSCALES)].to_numpy()
    comps = _components(conditions)
    combos = np.array([_combination(measure, side, comps) for side, measure, _ in targets])
    score_corr = corr.loc[list(SUBSCALES), [score for _, _, score in targets]].to_numpy()
    resid_corr = _residual_corr(conditions, coupling_cfg)
    n_comp = len(comps)

    def residuals(x):
        w = x.reshape(n_comp, 6)
        explained = np.einsum("ij,jk,ik->i", w, sigma, w)
        return np.concatenate(
            [
                implied_correlations(w, sigma, score_corr, combos, resid_corr) - values,
                coupling_cfg["ridge"] * x,
                10 * np.clip(explained - 0.95, 0, None),
            ]
        )

    fit = optimize.least_squares(residuals, np.zeros(n_comp * 6), method="lm")
    weights = fit.x.reshape(n_comp, 6)
    table = pd.DataFrame(targets, columns=["side", "measure", "score"])
    table["target"] = [float(t[3]) for t in coupling_cfg["targets"]]
    table["planted"] = implied_correlations(weights, sigma, score_corr, combos, resid_corr)
    return weights, table


def planted_coupling(
    scores: pd.DataFrame, scs_cfg: dict, coupling_cfg: dict, conditions: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """Per-participant planted coupling z[a, c] (long table: participant_id, condition, source, target, z, r).

    ``z = mean_z[c] + sd_z (b·s̃ + e)``, s̃ = (subscale scores − population mean) / population SD,
    e ~ N(0, Ψ) (see :func:`implied_correlations`); r = tanh z.  With ``coupling.match: sample`` the
    draw is then moved minimally (:func:`match_sample`) so that the *sample* correlations match the
    planted targets (:func:`latent_targets`) as closely as the sample allows.

    Parameters
    ----------
    scores : DataFrame
        Observed scores, index ``participant_id`` (:func:`.sample.score`).
    scs_cfg : dict
        The config's ``scs`` section.
    coupling_cfg : dict
        The config's ``coupling`` section (``mean_z``, ``sd_z``, ``match`` …; ``match`` absent
        means ``"population"``).
    conditions : list of str
        Task conditions.
    rng : numpy.random.Generator
        Sample generator.

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        If ``coupling.match`` is not "population" or "sample", or matching the sample is asked for
        fewer than 8 participants.
    """
    weights, _ = coupling_weights(scs_cfg, coupling_cfg, conditions)
    mean, sd, corr = scs_population(scs_cfg)
    sigma = corr.loc[list(SUBSCALES), list(SUBSCALES)].to_numpy()
    s = ((scores[list(SUBSCALES)] - mean[list(SUBSCALES)]) / sd[list(SUBSCALES)]).to_numpy()
    explained = np.einsum("ij,jk,ik->i", weights, sigma, weights)
    resid_sd = np.sqrt(1 - explained)
    psi = _residual_corr(conditions, coupling_cfg) * np.outer(resid_sd, resid_sd)
    e = rng.multivariate_normal(np.zeros(len(psi)), psi, size=len(s), method="cholesky")
    comps = _components(conditions)
    mu = np.array([coupling_cfg["mean_z"][c] for _, c in comps])
    z = mu + coupling_cfg["sd_z"] * (s @ weights.T + e)
    match = coupling_cfg.get("match", "population")
    if match == "sample":
        z = match_sample(z, scores, latent_targets(coupling_cfg), conditions)
    elif match != "population":
        raise ValueError(f"config coupling.match: {match!r} is not 'population' or 'sample'")
    rows = [
        (pid, cond, "vmpfc", side, z[i, j])
        for i, pid in enumerate(scores.index)
        for j, (side, cond) in enumerate(comps)
    ]
    table = pd.DataFrame(rows, columns=["participant_id", "condition", "source", "target", "z"])
    table["r"] = np.tanh(table["z"])
    return table


def sample_correlations(z: np.ndarray, scores: pd.DataFrame, targets, conditions: list[str]) -> np.ndarray:
    """Sample Pearson r between each target's coupling measure (a·z, rows of z = participants) and its score.

    Parameters
    ----------
    z : ndarray, shape (n_participants, n_components)
        Coupling (Fisher z), components ordered as :func:`coupling_weights`.
    scores : DataFrame
        Scores, rows in the order of ``z``.
    targets : sequence
        Rows ``(side, measure, score, …)``.
    conditions : list of str
        Task conditions.

    Returns
    -------
    ndarray, shape (n_targets,)
    """
    comps = _components(conditions)
    out = []
    for side, measure, score_name, *_ in targets:
        y = z @ _combination(measure, side, comps)
        out.append(np.corrcoef(y, scores[score_name].to_numpy())[0, 1])
    return np.array(out)


def match_sample(z: np.ndarray, scores: pd.DataFrame, targets, conditions: list[str]) -> np.ndarray:
    """Smallest change of the drawn couplings giving sample correlations as close as possible to the targets.

    Minimises ``1000² Σ_i (r_i(z + Δ) − target_i)² + ||Δ||² / n`` (Levenberg–Marquardt from Δ = 0,
    with the analytic Jacobian ``∂r/∂y = (ŝ − r ŷ)/‖y_c‖`` of Pearson's r in the centred, normalised
    vectors ŷ, ŝ: 0.5 s for 19 participants, against 32 s with finite differences, which also stopped
    at a slightly higher objective).
    Targets that are mutually consistent are met exactly; the paper's seven Table 1 values are not
    all attainable in another sample (the total is a linear function of the subscales, so its
    correlation follows from theirs and from this sample's subscale covariance), and the least-squares
    compromise leaves errors of a few hundredths there.

    Parameters
    ----------
    z : ndarray, shape (n_participants, n_components)
        Drawn coupling (Fisher z).
    scores : DataFrame
        Scores, rows in the order of ``z``.
    targets : sequence
        Rows ``(side, measure, score, r)``.
    conditions : list of str
        Task conditions.

    Returns
    -------
    ndarray
        z + Δ.

    Raises
    ------
    ValueError
        If there are fewer than 8 participants.
    """
    n = len(z)
    if n < 8:
        raise ValueError(f"config coupling.match 'sample' needs at least 8 participants, got {n}")
    values = np.array([float(t[3]) for t in targets])
    comps = _components(conditions)
    combos = np.array([_combination(measure, side, comps) for side, measure, *_ in targets])  # (targets, k)
    s = np.stack([scores[t[2]].to_numpy(float) for t in targets])  # (targets, n)
    s = s - s.mean(axis=1, keepdims=True)
    s /= np.linalg.norm(s, axis=1, keepdims=True)

    def correlations(delta):
        y = (z + delta.reshape(z.shape)) @ combos.T  # (n, targets)
        y = y - y.mean(axis=0)
        norm = np.linalg.norm(y, axis=0)
        return np.einsum("nt,tn->t", y, s) / norm, y / norm, norm

    def residuals(delta):
        return np.concatenate([1000 * (correlations(delta)[0] - values), delta / np.sqrt(n)])

    def jacobian(delta):
        # r = ⟨ŷ, ŝ⟩ of the centred, normalised vectors: ∂r/∂y = (ŝ − r ŷ)/‖y_c‖, and y = Z a, so
        # ∂r/∂Z_jk = (∂r/∂y)_j a_k (rows of Z: participants, as delta.reshape(z.shape)).
        r, unit, norm = correlations(delta)
        dr_dy = (s.T - r * unit) / norm  # (n, targets)
        rows = np.einsum("nt,tk->tnk", dr_dy, combos).reshape(len(targets), -1)
        return np.vstack([1000 * rows, np.eye(delta.size) / np.sqrt(n)])

    fit = optimize.least_squares(residuals, np.zeros(z.size), jac=jacobian, method="lm")
    return z + fit.x.reshape(z.shape)
