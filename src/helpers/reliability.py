"""How reliable is a participant's Neg − Neu connectivity estimate, and what does that do to r?

A brain–behaviour correlation is computed from *estimated* connectivity: one run of 166 volumes, about
55 per condition, gives each participant's condition-specific correlation with an error of its own.
Classical test theory says the observed correlation is attenuated,

    r_obs ≈ r_true · √(reliability_x · reliability_y),     reliability = Var(true) / Var(observed)

(Spearman 1904).  The questionnaire side is taken as error-free here (the twin plants the coupling
on the *observed* scores), so r_obs ≈ r_true · √reliability of the connectivity estimate.

The reliability is measured on the twin's own signal model without writing images: the first level
reads only the voxels of the three ROIs and of the eroded WM and CSF masks, and on the twin's ideal
derivatives each of these voxels is exactly ``(S0 + Σ_k w_k(x) ts_k(t)) · spin(t) + noise``
(:mod:`helpers.simulate.space`).  :func:`first_level_draw` simulates exactly those voxels for fresh
draws of every random time series (neural signals with the planted coupling, networks, physiology,
drift, motion, thermal noise) and runs the project's own first level on them
(:func:`helpers.firstlevel.denoising_design` with CompCor, :func:`helpers.denoise.regress_and_filter`,
:func:`helpers.connectivity.condition_weights`, :func:`helpers.connectivity.roi_to_roi`).  Repeating
the draw for the same planted coupling gives each participant's estimation error; its variance
against the spread of the participants' planted values is the reliability.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from . import atlas
from .connectivity import condition_effects, condition_weights, roi_to_roi
from .denoise import HIGHPASS, mask_voxels, regress_and_filter, tissue_mask
from .firstlevel import add_contrasts, denoising_design
from .layout.raw import raw_paths
from .simulate import build as twin_build
from .simulate import load_config
from .simulate import model as twin_model

__all__ = [
    "VoxelModel",
    "voxel_model",
    "first_level_draw",
    "TwinDesign",
    "read_twin_design",
    "repeated_draws",
    "reliability_from_draws",
    "draw_correlations",
    "attenuated_r",
    "latent_r",
    "attenuation_summary",
    "plot_attenuation",
    "population_reliability",
    "observed_r_given",
    "planted_population_sd",
    "image_check",
    "expected_observed",
    "TwinAttenuation",
    "twin_attenuation",
]

log = logging.getLogger(__name__)

MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


@dataclass(frozen=True)
class VoxelModel:
    """The twin's ideal-derivative voxels that the first level reads.

    ``s0[name]`` (voxels) and ``weights[name]`` (voxels × components, percent → intensity) for each
    ROI and for the eroded ``wm``/``csf`` masks; ``noise_sd`` = SD of the ideal derivatives' voxel noise.
    """

    s0: dict
    weights: dict
    noise_sd: float


def voxel_model(cfg: dict) -> VoxelModel:
    """The voxels of the 3 ROIs and the eroded WM/CSF masks on the twin's derivatives grid.

    Same masks as the first level: :func:`helpers.atlas.roi_masks` on the BOLD grid and
    :func:`helpers.denoise.tissue_mask` of the twin's tissue maps, sampled with
    :func:`helpers.denoise.mask_voxels`.  Cached per ``grid``/``signals``/``anatomy`` config (the
    anatomy's source brain shapes the maps).

    Parameters
    ----------
    cfg : dict
        The twin's configuration (its ``grid``, ``signals`` and ``anatomy`` sections are used).

    Returns
    -------
    VoxelModel
    """
    return _voxel_model(
        twin_model._freeze({"grid": cfg["grid"], "signals": cfg["signals"], "anatomy": cfg["anatomy"]})
    )


@functools.lru_cache(maxsize=2)
def _voxel_model(key: tuple) -> VoxelModel:
    cfg = twin_model._thaw(key)
    maps = twin_build.shared_for(cfg).mni
    full = np.zeros(int(np.prod(maps.shape)), np.int64) - 1
    full[maps.inside] = np.arange(maps.inside.size)
    ref = nib.Nifti1Image(np.zeros(maps.shape, np.uint8), maps.affine)
    ijk = {name: np.argwhere(np.asanyarray(m.dataobj)) for name, m in atlas.roi_masks(ref).items()}
    for label in ("wm", "csf"):
        prob = nib.Nifti1Image(maps.tissue[label].astype(np.float32), maps.affine)
        ijk[label] = mask_voxels(tissue_mask(prob, fallback=True), maps.shape, maps.affine)
    s0, weights = {}, {}
    for name, vox in ijk.items():
        idx = full[np.ravel_multi_index(vox.T, maps.shape)]
        inside = idx >= 0  # voxels outside the signal's support are 0 in the images
        s0[name] = np.where(inside, maps.s0[np.clip(idx, 0, None)], 0.0).astype(float)
        weights[name] = np.where(inside[:, None], maps.weights[np.clip(idx, 0, None)], 0.0).astype(float)
    sigma = 0.75 * cfg["signals"]["intensity"]["gm"] / cfg["signals"]["tsnr"]  # as build._mni_bold
    return VoxelModel(s0, weights, float(sigma))


def _voxels(
    vm: VoxelModel, name: str, components: np.ndarray, spin: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Scans × voxels of one mask: (S0 + W ts) · spin + N(0, noise_sd) where S0 > 0 (as the images)."""
    clean = (vm.s0[name][None, :] + components @ vm.weights[name].T) * spin[:, None]
    noise = rng.standard_normal(clean.shape) * vm.noise_sd
    return clean + noise * (vm.s0[name] > 0)[None, :]


def first_level_draw(
    events: pd.DataFrame,
    coupling: pd.DataFrame,
    cfg: dict,
    rng: np.random.Generator,
    vm: VoxelModel | None = None,
) -> pd.DataFrame:
    """One fresh twin draw of one participant, through the paper's first level (ROI voxels only).

    Parameters
    ----------
    events : DataFrame
        ``onset, duration, trial_type`` of the participant's run.
    coupling : DataFrame
        The participant's planted coupling rows (``target, condition, r``; twin-truth ``coupling.tsv``).
    cfg : dict
        The twin's configuration (:func:`helpers.simulate.load_config`).
    rng : numpy Generator
        Source of every random time series of this draw.
    vm : VoxelModel, default None
        The voxels sampled; None: ``voxel_model(cfg)``.

    Returns
    -------
    DataFrame ``condition, source, target, r, z`` for source ``vmpfc`` (conditions and the contrasts
    Neg − Neu, Pos − Neu), CONN's default measure (CompCor 5 + 5, motion 12, effects + derivatives,
    high-pass 0.008 Hz, HRF weights, Fisher z).
    """
    vm = vm or voxel_model(cfg)
    conds, tr = cfg["conditions"], cfg["timing"]["tr"]
    series = twin_build.participant_series(events, coupling, cfg, rng)
    comps, spin = series["components"].to_numpy(), series["spin"]
    roi_ts = pd.DataFrame(
        {name: _voxels(vm, name, comps, spin, rng).mean(axis=1) for name in atlas.DEFAULT_ROIS}
    )
    wm, csf = (_voxels(vm, name, comps, spin, rng) for name in ("wm", "csf"))
    n = len(roi_ts)
    effects = condition_effects(events, n, tr, conditions=conds)
    design = denoising_design(pd.DataFrame(series["motion"], columns=MOTION), effects, wm, csf)
    denoised = regress_and_filter(roi_ts, design, tr, HIGHPASS)
    table = add_contrasts(roi_to_roi(denoised, condition_weights(events, n, tr, "hrf", conditions=conds)))
    return table[table["source"] == "vmpfc"].reset_index(drop=True)


@dataclass(frozen=True)
class TwinDesign:
    """A twin's configuration, events and planted coupling (read back from its folder)."""

    cfg: dict
    events: dict
    coupling: pd.DataFrame
    scores: pd.DataFrame


def read_twin_design(bids_dir) -> TwinDesign | None:
    """The twin's ``config.yaml``, planted ``coupling.tsv``, ``scores.tsv`` and each participant's events.

    Parameters
    ----------
    bids_dir : path-like
        The twin's BIDS folder (truth under ``derivatives/twin-truth``).

    Returns
    -------
    TwinDesign or None
        None when ``bids_dir`` is not a twin (no ``derivatives/twin-truth/coupling.tsv``).
    """
    root = Path(bids_dir)
    truth = root / "derivatives" / "twin-truth"
    if not (truth / "coupling.tsv").is_file():
        return None
    cfg = yaml.safe_load((truth / "config.yaml").read_text())
    coupling = pd.read_csv(truth / "coupling.tsv", sep="\t")
    scores = pd.read_csv(truth / "scores.tsv", sep="\t").set_index("participant_id")
    events = {}
    for pid in coupling["participant_id"].unique():
        path = raw_paths(root, pid, cfg["task"])["events"]
        events[pid] = pd.read_csv(path, sep="\t")[["onset", "duration", "trial_type"]]
    return TwinDesign(cfg, events, coupling, scores)


def expected_observed(bids_dir) -> pd.DataFrame | None:
    """The twin's planted correlations and the values a pipeline should *estimate* from them.

    Reads ``derivatives/twin-truth/population_correlations.tsv`` (``target`` = the paper's value,
    ``planted`` = population, ``sample`` = among these participants) and the twin's config; adds
    ``level`` (how the twin planted: ``latent``/``observed``), ``match`` (``sample``/``population``),
    ``reliability`` (the config's ``coupling.reliability`` of each measure; the package default for
    twins made before it existed) and ``expected`` = sample · √reliability (``planted`` when there is
    no ``sample`` column), the correlation expected from estimated connectivity.

    Parameters
    ----------
    bids_dir : path-like
        The twin's BIDS folder.

    Returns
    -------
    DataFrame or None
        The table with the added columns; None when ``bids_dir`` is not a twin.
    """
    truth = Path(bids_dir) / "derivatives" / "twin-truth"
    path = truth / "population_correlations.tsv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, sep="\t")
    coupling = (
        yaml.safe_load((truth / "config.yaml").read_text())["coupling"]
        if (truth / "config.yaml").is_file()
        else {}
    )
    rel = coupling.get("reliability") or load_config()["coupling"]["reliability"]
    table["level"] = coupling.get("level", "latent")
    table["match"] = coupling.get("match", "population")
    table["reliability"] = table["measure"].map(rel).astype(float)
    table["expected"] = table["sample" if "sample" in table.columns else "planted"] * np.sqrt(
        table["reliability"]
    )
    return table


def repeated_draws(design: TwinDesign, n_draws: int, seed: int, participants=None) -> pd.DataFrame:
    """``n_draws`` fresh first-level draws per participant for the twin's planted coupling.

    Draw d of participant i uses ``SeedSequence([seed, i, d])`` (same seed, same numbers).

    Parameters
    ----------
    design : TwinDesign
        From :func:`read_twin_design`.
    n_draws : int
        Draws per participant (at least 2, to estimate an error variance).
    seed : int
        Seed of the draws.
    participants : sequence of str, default None
        Participants to draw; default None: every participant with events, in their order.

    Returns
    -------
    DataFrame
        ``participant_id, draw, condition, target, z, planted`` (planted = the twin's z, contrasts as
        differences of z), source ``vmpfc``, targets ``amygdala_l`` and ``amygdala_r``.

    Raises
    ------
    ValueError
        ``n_draws`` < 2.
    """
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 to estimate an error variance, got {n_draws}")
    vm = voxel_model(design.cfg)
    ids = list(participants) if participants is not None else list(design.events)
    planted = add_contrasts(design.coupling.assign(source="vmpfc")).set_index(
        ["participant_id", "condition", "target"]
    )["z"]
    rows = []
    for i, pid in enumerate(tqdm(ids, desc="reliability draws", leave=False)):
        rows_pid = design.coupling[design.coupling["participant_id"] == pid]
        for d in range(n_draws):
            rng = np.random.default_rng(np.random.SeedSequence([seed, i, d]))
            table = first_level_draw(design.events[pid], rows_pid, design.cfg, rng, vm)
            rows.append(table.assign(participant_id=pid, draw=d))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["target"].isin(["amygdala_l", "amygdala_r"])]
    keys = list(zip(out["participant_id"], out["condition"], out["target"]))
    out = out.assign(planted=planted.loc[keys].to_numpy())
    return out[["participant_id", "draw", "condition", "target", "z", "planted"]].reset_index(drop=True)


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


def _exact_pair(n: int, r: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two standardised vectors of length n whose *sample* correlation is exactly r."""
    x = rng.standard_normal(n)
    x = (x - x.mean()) / x.std()
    e = rng.standard_normal(n)
    e = e - e.mean() - (e @ x) / n * x
    e /= e.std()
    return x, r * x + np.sqrt(1 - r**2) * e


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


def plot_attenuation(
    summary: dict, r_paper: float | None = None, n: int | None = None, draw_r: np.ndarray | None = None
):
    """One figure of the attenuation: planted, expected, re-simulated, the paper's and our r.

    The planted r, the distribution of observed r expected at the measured reliability (its mean and
    central 95 %), the r of each re-simulated twin (``draw_r``, ticks), the paper's r and ours.

    Parameters
    ----------
    summary : dict
        From :func:`attenuation_summary`.
    r_paper : float, default None
        The paper's r; default None: not drawn.
    n : int, default None
        Participants, shown in the legend; default None: not shown.
    draw_r : numpy.ndarray, default None
        r of each re-simulated twin (:func:`draw_correlations`); default None: not drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(7.5, 3.6), constrained_layout=True)
    ax.hist(
        summary["sims"],
        bins=60,
        range=(-1, 1),
        color="#bbbbbb",
        edgecolor="white",
        density=True,
        label="r expected from the estimates" + (f" (n = {n})" if n else ""),
    )
    ax.axvspan(summary["q_low"], summary["q_high"], color="#bbbbbb", alpha=0.25, label="its central 95 %")
    ax.axvline(
        summary["expected"],
        color="#555555",
        lw=2,
        label=f"expected r = {summary['expected']:.2f}".replace("-", "−"),
    )
    ax.axvline(
        summary["r_planted"],
        color="#0072B2",
        lw=2,
        ls="--",
        label=f"planted r = {summary['r_planted']:.2f}".replace("-", "−"),
    )
    if draw_r is not None and len(draw_r):
        ax.plot(
            draw_r,
            np.zeros_like(draw_r),
            "|",
            color="#009E73",
            ms=18,
            mew=1.5,
            clip_on=False,
            label=f"r of {len(draw_r)} re-simulated twins",
        )
    if r_paper is not None:
        ax.axvline(r_paper, color="#E69F00", lw=2, ls=":", label=f"paper r = {r_paper:.2f}".replace("-", "−"))
    if summary["r_ours"] is not None:
        ax.axvline(
            summary["r_ours"],
            color="#D55E00",
            lw=2,
            label=f"ours r = {summary['r_ours']:.2f}".replace("-", "−"),
        )
    ax.set_xlim(-1, 1)
    ax.set_xlabel("r (self-compassion mean × Neg − Neu VMPFC–right amygdala)")
    ax.set_ylabel("density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    return fig


@dataclass(frozen=True)
class TwinAttenuation:
    """Everything the robustness chapter shows about reliability and attenuation.

    Made by :func:`twin_attenuation`.
    """

    table: pd.DataFrame  # one row: see twin_attenuation
    figure: object
    draws: pd.DataFrame


def twin_attenuation(
    bids_dir,
    connectivity: pd.DataFrame,
    r_ours: float,
    r_paper: float,
    n_draws: int = 10,
    n_sim: int = 20000,
    seed: int = 2018,
    measure: str = "weighted_hrf",
) -> TwinAttenuation | None:
    """Reliability of the Neg − Neu VMPFC–right amygdala estimate on the twin and what it does to r.

    Re-simulates every participant ``n_draws`` times (:func:`repeated_draws`), measures the
    reliability (:func:`reliability_from_draws`, in this sample and for the population's spread),
    checks the shortcut against the images (:func:`image_check`), and compares the planted
    sample correlation of the self-compassion mean, the r expected from one run's estimates for these
    participants (:func:`observed_r_given`; Spearman's r_planted · √reliability beside it) and ours.

    Parameters
    ----------
    bids_dir : path
        The dataset; None is returned when it is not a twin.
    connectivity : DataFrame
        ``connectivity.tsv`` (ours, from the images).
    r_ours, r_paper : float
        Our and the paper's headline r.
    n_draws : int, default 10
        Re-simulated first-level draws per participant (:func:`repeated_draws`).
    n_sim : int, default 20000
        Simulated runs of :func:`observed_r_given`.
    seed : int, default 2018
        Seed of the draws and of the simulation.
    measure : str, default "weighted_hrf"
        Connectivity measure of ``connectivity`` compared with the draws (:func:`image_check`).

    Returns
    -------
    TwinAttenuation or None.  ``table`` columns: ``n, draws, reliability, retest,
    reliability_population, reliability_config, level, error_sd, slope, r_planted, spearman (r_planted ·
    √reliability), expected, q_low, q_high (:func:`observed_r_given`: mean and central 95 %), r_ours,
    ours_within, ours_quantile, draws_r_mean, draws_r_min, draws_r_max, image_n, image_mean_z,
    image_sd_z, image_within, r_paper, latent_paper`` (latent_paper = the paper's r divided by
    √reliability_population: the neural correlation it implies on this design).
    """
    design = read_twin_design(bids_dir)
    if design is None:
        return None
    ids = sorted(set(design.events) & set(connectivity["participant_id"]))
    draws = repeated_draws(design, n_draws, seed, participants=ids)
    rel = reliability_from_draws(draws)
    rel_pop = population_reliability(rel, planted_population_sd(design.cfg))
    sel = draws[(draws["condition"] == "negative-neutral") & (draws["target"] == "amygdala_r")]
    planted = sel.groupby("participant_id")["planted"].first()
    total = design.scores["total"].loc[planted.index]
    r_planted = float(np.corrcoef(total, planted)[0, 1])
    means = sel.groupby("participant_id")["z"].mean().loc[planted.index]
    sims = observed_r_given(total.to_numpy(), means.to_numpy(), rel["error_sd"], n_draws, n_sim, seed)
    q_low, q_high = np.quantile(sims, [0.025, 0.975])
    summary = {
        "r_planted": r_planted,
        "reliability": rel["reliability"],
        "expected": float(sims.mean()),
        "q_low": float(q_low),
        "q_high": float(q_high),
        "sims": sims,
        "r_ours": r_ours,
        "ours_within": bool(q_low <= r_ours <= q_high),
        "ours_quantile": float((sims < r_ours).mean()),
        "spearman": r_planted * float(np.sqrt(rel["reliability"])),
    }
    draw_r = draw_correlations(draws, design.scores["total"])
    check = image_check(draws, connectivity, measure=measure)
    coupling = design.cfg["coupling"]
    table = pd.DataFrame(
        [
            {
                "n": len(ids),
                "draws": n_draws,
                "reliability": rel["reliability"],
                "retest": rel["retest"],
                "reliability_population": rel_pop,
                "reliability_config": float(
                    (coupling.get("reliability") or {}).get("negative-neutral", np.nan)
                ),
                "level": coupling.get("level", "latent"),
                "error_sd": rel["error_sd"],
                "slope": rel["slope"],
                "r_planted": r_planted,
                "spearman": summary["spearman"],
                "expected": summary["expected"],
                "q_low": summary["q_low"],
                "q_high": summary["q_high"],
                "r_ours": r_ours,
                "ours_within": summary["ours_within"],
                "ours_quantile": summary["ours_quantile"],
                "draws_r_mean": float(draw_r.mean()),
                "draws_r_min": float(draw_r.min()),
                "draws_r_max": float(draw_r.max()),
                "image_n": check["n"],
                "image_mean_z": check["mean"],
                "image_sd_z": check["sd"],
                "image_within": check["within"],
                "r_paper": r_paper,
                "latent_paper": float(latent_r(r_paper, rel_pop)),
            }
        ]
    )
    figure = plot_attenuation(summary, r_paper=r_paper, n=len(ids), draw_r=draw_r)
    return TwinAttenuation(table, figure, draws)
