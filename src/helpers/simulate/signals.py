"""Time series of the twin: neural signals with planted coupling, BOLD components, motion.

All BOLD components are in percent signal change, one value per volume (acquired at t = i·TR).
Formulas are in the docstrings and in ``config.yaml`` (``signals`` and ``motion`` blocks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from nilearn.glm.first_level import spm_hrf
from scipy.ndimage import gaussian_filter1d

__all__ = [
    "ROIS",
    "component_names",
    "condition_index",
    "hrf_convolve",
    "coupled_neural",
    "task_regressors",
    "roi_timeseries",
    "motion_parameters",
    "framewise_displacement",
    "physio",
    "drift",
    "components",
]

ROIS = ("vmpfc", "amygdala_l", "amygdala_r")
PHYSIO = ("physio_cardiac", "physio_respiration", "physio_rvt")


def component_names(n_networks: int) -> list[str]:
    """Names of the spatial components, in the order of the maps and time series.

    Parameters
    ----------
    n_networks : int
        Number of grey-matter networks.

    Returns
    -------
    list of str
        ROIs, ``gm_network_1 …``, ``gm_task``, the three physiological components, ``drift``.
    """
    return [*ROIS, *[f"gm_network_{i + 1}" for i in range(n_networks)], "gm_task", *PHYSIO, "drift"]


def condition_index(events: pd.DataFrame, conditions: list[str], n_fine: int, dt: float) -> np.ndarray:
    """Condition shown at each fine time step ``k·dt`` (index into ``conditions``; −1 = none).

    Parameters
    ----------
    events : DataFrame
        ``onset``, ``duration`` (s), ``trial_type``.
    conditions : list of str
        Condition names; an event's index is its ``trial_type``'s position.
    n_fine : int
        Number of fine time steps.
    dt : float
        Fine time step (s).

    Returns
    -------
    ndarray of int, shape (n_fine,)
    """
    idx = np.full(n_fine, -1)
    t = np.arange(n_fine) * dt
    for onset, duration, trial in events[["onset", "duration", "trial_type"]].itertuples(index=False):
        idx[(t >= onset) & (t < onset + duration)] = conditions.index(trial)
    return idx


def hrf_convolve(x: np.ndarray, dt: float, tr: float, n_vol: int) -> np.ndarray:
    """Convolve fine-grid signals (time on axis 0) with SPM's canonical HRF; sample at t = i·TR.

    The HRF (nilearn's ``spm_hrf``: double gamma, peak 6 s, undershoot 16 s, ratio 1/6) is
    normalised to sum 1, so a sustained unit input gives a plateau of 1.

    Parameters
    ----------
    x : ndarray, shape (n_fine, ...)
        Signals on the fine grid.
    dt : float
        Fine time step (s); it must divide ``tr``.
    tr : float
        Repetition time (s).
    n_vol : int
        Number of volumes.

    Returns
    -------
    ndarray, shape (n_vol, ...)
    """
    h = spm_hrf(tr, oversampling=int(round(tr / dt)))
    h = h / h.sum()
    x2 = x.reshape(len(x), -1)
    conv = np.stack([np.convolve(col, h)[: len(x)] for col in x2.T], axis=1)
    step = int(round(tr / dt))
    out = conv[::step][:n_vol]
    return out.reshape((n_vol, *x.shape[1:]))


def coupled_neural(cond_idx: np.ndarray, r: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Neural signals (fine grid x 3: VMPFC, left, right amygdala) with planted coupling.

    v, n_l, n_r ~ N(0, 1) white.  Within the samples S_c of condition c, n_a is demeaned,
    orthogonalised to the demeaned v and scaled to its norm, and
    ``a = r[a, c] v_c + sqrt(1 − r[a, c]²) n_a``, so corr(v, a) over S_c equals ``r[a, c]``
    exactly.  Outside events (``cond_idx`` = −1) a = n_a (no coupling); a condition with fewer
    than 3 samples is left uncoupled.

    Parameters
    ----------
    cond_idx : ndarray of int, shape (n_fine,)
        Condition per fine time step (:func:`condition_index`).
    r : ndarray (2, n_conditions)
        Planted correlations (left, right amygdala) per condition.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    ndarray, shape (n_fine, 3)
    """
    n = len(cond_idx)
    v = rng.standard_normal(n)
    out = np.empty((n, 3))
    out[:, 0] = v
    for side in range(2):
        noise = rng.standard_normal(n)
        a = noise.copy()
        for c in range(r.shape[1]):
            sel = cond_idx == c
            if sel.sum() < 3:
                continue
            vv = v[sel] - v[sel].mean()
            nn = noise[sel] - noise[sel].mean()
            nn = nn - (nn @ vv) / (vv @ vv) * vv
            nn *= np.linalg.norm(vv) / np.linalg.norm(nn)
            a[sel] = r[side, c] * vv + np.sqrt(1 - r[side, c] ** 2) * nn
        out[:, side + 1] = a
    return out


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / x.std(axis=0)


def task_regressors(cond_idx: np.ndarray, n_conditions: int, dt: float, tr: float, n_vol: int) -> np.ndarray:
    """HRF-convolved condition boxcars (n_vol x n_conditions), plateau 1.

    Parameters
    ----------
    cond_idx : ndarray of int, shape (n_fine,)
        Condition per fine time step (:func:`condition_index`).
    n_conditions : int
        Number of conditions (columns).
    dt : float
        Fine time step (s); it must divide ``tr``.
    tr : float
        Repetition time (s).
    n_vol : int
        Number of volumes.

    Returns
    -------
    ndarray, shape (n_vol, n_conditions)
    """
    box = np.stack([(cond_idx == c).astype(float) for c in range(n_conditions)], axis=1)
    return hrf_convolve(box, dt, tr, n_vol)


def roi_timeseries(
    cond_idx: np.ndarray,
    r: np.ndarray,
    regs: np.ndarray,
    conditions: list[str],
    cfg: dict,
    dt: float,
    tr: float,
    n_vol: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Noise-free ROI BOLD (percent): fluctuation with planted coupling + task main effects.

    ``roi(t) = roi_fluct_pct · standardise(HRF * neural_roi)(t) + Σ_c task_pct[roi][c] · reg_c(t)``,
    ``regs`` from :func:`task_regressors`.

    Parameters
    ----------
    cond_idx : ndarray of int, shape (n_fine,)
        Condition per fine time step.
    r : ndarray, shape (2, n_conditions)
        Planted correlations (:func:`coupled_neural`).
    regs : ndarray, shape (n_vol, n_conditions)
        Task regressors (:func:`task_regressors`).
    conditions : list of str
        Condition names (columns of ``regs``).
    cfg : dict
        The config's ``signals`` section (``roi_fluct_pct``, ``task_pct``).
    dt : float
        Fine time step (s); it must divide ``tr``.
    tr : float
        Repetition time (s).
    n_vol : int
        Number of volumes.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    neural : DataFrame
        Fine grid: the neural signals, with a ``time`` column (s).
    fluct, task : DataFrame
        n_vol x ROIS: the two parts of the ROI BOLD.
    """
    neural = coupled_neural(cond_idx, r, rng)
    fluct = cfg["roi_fluct_pct"] * _standardise(hrf_convolve(neural, dt, tr, n_vol))
    amp = np.array([[cfg["task_pct"][roi][c] for roi in ROIS] for c in conditions])
    task = regs @ amp
    neural_df = pd.DataFrame(neural, columns=list(ROIS))
    neural_df.insert(0, "time", np.arange(len(neural)) * dt)
    return neural_df, pd.DataFrame(fluct, columns=list(ROIS)), pd.DataFrame(task, columns=list(ROIS))


def motion_parameters(n_vol: int, cfg: dict, rng: np.random.Generator) -> np.ndarray:
    """True head motion (n_vol x 6: trans x/y/z in mm, rot x/y/z in rad), zero at volume 0.

    Participant scale m ~ lognormal(0, scale_sd).  Random walk: cumulative sum of Gaussian steps
    (SD walk_trans·m, walk_rot·m) smoothed over 2 volumes.  Jerks: Poisson(jerks) steps of SD
    jerk_trans·m / jerk_rot·m at random volumes; each is transient (undone 1–3 volumes later) with
    probability 1/2.

    Parameters
    ----------
    n_vol : int
        Number of volumes.
    cfg : dict
        The config's ``motion`` section.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    ndarray, shape (n_vol, 6)
    """
    m = rng.lognormal(0.0, cfg["scale_sd"])
    sd = np.array([cfg["walk_trans"]] * 3 + [cfg["walk_rot"]] * 3) * m
    steps = gaussian_filter1d(rng.standard_normal((n_vol, 6)), 2.0, axis=0) * sd * 2.5
    params = np.cumsum(steps, axis=0)
    jsd = np.array([cfg["jerk_trans"]] * 3 + [cfg["jerk_rot"]] * 3) * m
    for _ in range(rng.poisson(cfg["jerks"])):
        at = int(rng.integers(1, n_vol))
        jump = rng.standard_normal(6) * jsd
        params[at:] += jump
        if rng.random() < 0.5:
            back = at + int(rng.integers(1, 4))
            params[back:] -= jump
    return params - params[0]


def framewise_displacement(params: np.ndarray, radius: float = 50.0) -> np.ndarray:
    """Power et al. (2012) FD: Σ|Δtrans| + radius·Σ|Δrot| (mm); FD[0] = 0.

    Parameters
    ----------
    params : ndarray, shape (n_vol, 6)
        Translations (mm) then rotations (rad).
    radius : float, default 50.0
        Head radius (mm) turning rotations into arc length (Power et al. 2012).

    Returns
    -------
    ndarray, shape (n_vol,)
    """
    d = np.abs(np.diff(params, axis=0))
    fd = d[:, :3].sum(axis=1) + radius * d[:, 3:].sum(axis=1)
    return np.r_[0.0, fd]


def _aliased_oscillation(n_vol: int, tr: float, band: list[float], rng: np.random.Generator) -> np.ndarray:
    """sin of a phase accumulating a frequency f ~ U(band) that wanders (SD 0.02 Hz/volume), sampled at TRs.

    Amplitude 1 + 0.3 × smoothed noise; random start phase.
    """
    f = rng.uniform(*band) + np.cumsum(rng.normal(0, 0.02, n_vol))
    phase = 2 * np.pi * np.cumsum(f * tr) + rng.uniform(0, 2 * np.pi)
    amp = 1 + 0.3 * gaussian_filter1d(rng.standard_normal(n_vol), 5)
    return amp * np.sin(phase)


def physio(n_vol: int, tr: float, cfg: dict, rng: np.random.Generator) -> np.ndarray:
    """Physiological time series (n_vol x 3, unit SD): aliased cardiac, aliased respiration, RVT.

    Cardiac and respiration: sine of a phase accumulating a frequency f ~ U(band) that wanders
    (SD 0.02 Hz per volume), sampled at the TRs (so aliased).  RVT-like: white noise low-passed by a
    Gaussian of SD 3 volumes (mostly < 0.05 Hz).

    Parameters
    ----------
    n_vol : int
        Number of volumes.
    tr : float
        Repetition time (s).
    cfg : dict
        ``cardiac_hz`` and ``respiration_hz`` bands ([low, high], Hz).
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    ndarray, shape (n_vol, 3)
    """
    card = _aliased_oscillation(n_vol, tr, cfg["cardiac_hz"], rng)
    resp = _aliased_oscillation(n_vol, tr, cfg["respiration_hz"], rng)
    rvt = gaussian_filter1d(rng.standard_normal(n_vol), 3.0)
    return _standardise(np.column_stack([card, resp, rvt]))


def drift(n_vol: int, tr: float, cfg: dict, rng: np.random.Generator) -> np.ndarray:
    """Slow drift (unit SD): DCT-II cosines cos(π k (2i+1) / 2N) with k/(2N·TR) < drift_max_hz.

    Coefficients ~ N(0, 1/k); at least the first cosine (k = 1) is used.

    Parameters
    ----------
    n_vol : int
        Number of volumes.
    tr : float
        Repetition time (s).
    cfg : dict
        ``drift_max_hz`` (Hz).
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    ndarray, shape (n_vol,)
    """
    i = np.arange(n_vol)
    kmax = max(1, int(np.ceil(2 * n_vol * tr * cfg["drift_max_hz"])) - 1)
    x = sum(rng.normal(0, 1 / k) * np.cos(np.pi * k * (2 * i + 1) / (2 * n_vol)) for k in range(1, kmax + 1))
    return _standardise(np.asarray(x, float))


def components(
    fluct: pd.DataFrame,
    task: pd.DataFrame,
    regs: np.ndarray,
    conditions: list[str],
    cfg: dict,
    dt: float,
    tr: float,
    n_vol: int,
    n_fine: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """All component time series (n_vol x K, percent before the spatial maps' weights).

    ROIs: fluct + task.  GM networks: standardised HRF-convolved white noise x gm_network_pct.
    GM task: Σ_c gm_task_pct[c]·reg_c.  Physio: unit SD (their maps carry the amplitude); drift:
    unit SD x drift_pct.

    Parameters
    ----------
    fluct, task : DataFrame
        The ROI parts from :func:`roi_timeseries`.
    regs : ndarray, shape (n_vol, n_conditions)
        Task regressors.
    conditions : list of str
        Condition names.
    cfg : dict
        The config's ``signals`` section.
    dt : float
        Fine time step (s); it must divide ``tr``.
    tr : float
        Repetition time (s).
    n_vol : int
        Number of volumes.
    n_fine : int
        Number of fine time steps.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    DataFrame
        Columns :func:`component_names`.
    """
    nets = cfg["gm_networks"]
    net = cfg["gm_network_pct"] * _standardise(
        hrf_convolve(rng.standard_normal((n_fine, nets)), dt, tr, n_vol)
    )
    gm_task = regs @ np.array([cfg["gm_task_pct"][c] for c in conditions])
    data = np.column_stack(
        [
            (fluct + task).to_numpy(),
            net,
            gm_task,
            physio(n_vol, tr, cfg, rng),
            cfg["drift_pct"] * drift(n_vol, tr, cfg, rng),
        ]
    )
    return pd.DataFrame(data, columns=component_names(nets))
