"""Twin of the training study's design: sample, video task, ratings and BOLD in MNI space.

Every assumption is in ``config.yaml`` (next to this file), each value marked [abstract],
[secondary] or [assumed].  The BOLD machinery (canonical HRF convolution, physiological noise,
drift, smooth random maps, tissue templates, MNI grids) is the first study's simulator
(:mod:`helpers.simulate`), reused; this study needs no native anatomy and no preprocessing, so
its runs are synthesised directly on a coarse MNI grid (default 4 mm).

Generative model of one run (participant i, session s), voxel v, volume t, in percent::

    Y(v, t) = 100 + Σ_k W_k(v) x_k(t) + σ ε(v, t),   ε ~ N(0, 1) white

with maps W_k and time courses x_k:

* video: grey matter x smooth field, x = video_pct (h_distress + h_everyday) — cancels in the contrast;
* rating: another grey-matter map, x = rating_pct h_rating;
* empathy (anterior insula + aMCC masks): x = (empathy_pct + u_i + v_is) h_distress;
* each training ROI r (mOFC, putamen, pallidum, VTA):
  x = (training_pct g_i [compassion and post] + u_ir + v_irs) h_distress;
* noise: grey-matter networks (HRF-convolved white noise), aliased cardiac / respiratory / RVT,
  slow drift (all from :mod:`helpers.simulate.signals`);

h_c = HRF-convolved boxcar of condition c (plateau 1).  u ~ N(0, participant_sd) is stable over
sessions, v ~ N(0, session_sd) is new each session, g_i ~ N(1, training_gain_sd) is the trainee's
gain, shared with the ratings.  Ratings (:func:`ratings`) follow the same design.

Randomness: ``SeedSequence(seed)`` spawns one child per participant, so results do not depend on
the number of parallel jobs; spatial maps use the config's fixed ``map_seed``.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import yaml

from ..simulate import _merge, signals, space
from ..simulate import model as sim_model
from .rois import study_rois

__all__ = [
    "load_config",
    "null_config",
    "participants",
    "events",
    "ratings",
    "Grid",
    "grid_for",
    "participant_amplitudes",
    "bold_run",
    "CONDITIONS",
]

#: Event types of a run (the third is the rating period, a nuisance regressor).
CONDITIONS = ("distress", "everyday", "rating")


def load_config(config=None, null: bool = False) -> dict:
    """The default ``config.yaml`` updated (recursively) by ``config`` (dict or YAML path).

    Parameters
    ----------
    config : dict, path-like or None, default None
        Overrides (nested mappings merged key by key; None: the default as it is).
    null : bool, default False
        Give the null twin: every training effect (ratings and BOLD) set to zero (:func:`null_config`).

    Returns
    -------
    dict

    Raises
    ------
    TypeError
        If ``config`` is neither a dict nor a YAML path.
    ValueError
        If a group is not an integer ≥ 2, the groups are not ``compassion`` and ``memory``,
        ``task.clips_per_type`` < 2, or ``task.tr`` is not a multiple of 0.5 s.
    """
    cfg = yaml.safe_load(resources.files(__package__).joinpath("config.yaml").read_text())
    if isinstance(config, (str, os.PathLike)):
        config = yaml.safe_load(Path(config).read_text()) or {}
    if config is not None:
        if not isinstance(config, dict):
            raise TypeError(f"training config must be a dict or a YAML path, not {type(config).__name__}")
        cfg = _merge(cfg, config)
    _check(cfg)
    return null_config(cfg) if null else cfg


def null_config(cfg: dict) -> dict:
    """A copy of ``cfg`` without any training effect (the null twin).

    Sets every ``ratings.training`` value and ``bold.training_pct`` to 0.

    Parameters
    ----------
    cfg : dict
        Study configuration (not modified).

    Returns
    -------
    dict
    """
    out = copy.deepcopy(cfg)
    for video in out["ratings"]["training"].values():
        for measure in video:
            video[measure] = 0.0
    out["bold"]["training_pct"] = 0.0
    return out


def _check(cfg: dict) -> None:
    for group, n in cfg["groups"].items():
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"training config: groups.{group} must be an integer >= 2, got {n!r}")
    if sorted(cfg["groups"]) != ["compassion", "memory"]:
        raise ValueError(
            f"training config: groups must be 'compassion' and 'memory', got {sorted(cfg['groups'])}"
        )
    task = cfg["task"]
    if task["clips_per_type"] < 2:
        raise ValueError(f"training config: task.clips_per_type must be >= 2, got {task['clips_per_type']}")
    dt = 0.5
    if abs(round(task["tr"] / dt) * dt - task["tr"]) > 1e-9:
        raise ValueError(f"training config: task.tr must be a multiple of {dt} s, got {task['tr']}")


def participants(cfg: dict) -> pd.DataFrame:
    """``participant_id, group``: compassion trainees first (sub-01 …), then the memory group.

    Parameters
    ----------
    cfg : dict
        Study configuration; ``groups`` gives each group's size.

    Returns
    -------
    DataFrame
    """
    groups = [g for g in ("compassion", "memory") for _ in range(cfg["groups"][g])]
    ids = [f"sub-{i + 1:02d}" for i in range(len(groups))]
    return pd.DataFrame({"participant_id": ids, "group": groups})


def events(cfg: dict, rng: np.random.Generator) -> pd.DataFrame:
    """One Socio-affective Video Task run: ``onset, duration, trial_type, clip``.

    Clip order: the first study's pseudo-randomisation (:func:`helpers.simulate.model.event_sequence`,
    at most ``max_run`` clips of one type in a row).  Timing: ``lead_in``, then per clip the clip,
    the rating period (``trial_type`` = ``"rating"``) and a jittered interval ~ U(``iti``).

    Parameters
    ----------
    cfg : dict
        Study configuration (``task``, ``video_types``); times in seconds.
    rng : numpy.random.Generator
        Random stream for the order and the jitter.

    Returns
    -------
    DataFrame
        Onsets in seconds, rounded to 0.01 s.
    """
    task = cfg["task"]
    n = task["clips_per_type"]
    videos = list(cfg["video_types"])
    order = sim_model.event_sequence(
        videos,
        {
            "per_condition": n,
            "max_run": task["max_run"],
            "durations": [task["clip_duration"]],
            "first_onset": 0.0,
            "words": {v: [f"{v}_{k + 1:02d}" for k in range(n)] for v in videos},
        },
        rng,
    )
    rows, t = [], task["lead_in"]
    for video, clip in order[["trial_type", "word"]].itertuples(index=False):
        rows.append((t, task["clip_duration"], video, clip))
        t += task["clip_duration"]
        rows.append((t, task["rating_duration"], "rating", clip))
        t += task["rating_duration"] + rng.uniform(*task["iti"])
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "clip"]).round({"onset": 2})


def n_volumes(ev: pd.DataFrame, tr: float, tail: float = 12.0) -> int:
    """Volumes covering the last event plus ``tail`` seconds of haemodynamic response.

    ``ceil((onset_last + duration_last + tail) / tr)``.

    Parameters
    ----------
    ev : DataFrame
        Events in time order (``onset``, ``duration`` in s).
    tr : float
        Repetition time (s).
    tail : float, default 12.0
        Seconds kept after the last event ends.

    Returns
    -------
    int
    """
    return int(np.ceil((ev["onset"].iloc[-1] + ev["duration"].iloc[-1] + tail) / tr))


def _trained(group: str, session: str) -> bool:
    return group == "compassion" and session == "post"


def ratings(
    ev: pd.DataFrame, group: str, session: str, traits: dict, cfg: dict, rng: np.random.Generator
) -> pd.DataFrame:
    """Ratings of each clip: ``clip, video, positive_affect, negative_affect, empathy``.

    ``rating = clip_to_scale(round(mean[v][m] + g·training[v][m]·[compassion, post]
    + habituation[v][m]·[post] + u[m] + w[v][m] + e, 1))``, e ~ N(0, clip_sd); ``traits`` holds
    the participant's u, w and g (:func:`participant_amplitudes`); ``clip_to_scale`` clips to the
    config's ``ratings.scale``.

    Parameters
    ----------
    ev : DataFrame
        The run's events (:func:`events`); rows of ``trial_type`` ``"rating"`` are skipped.
    group : {"compassion", "memory"}
        The participant's group.
    session : str
        Session label; the training term applies to ``"post"`` of the compassion group, habituation
        to every session after the first.
    traits : dict
        :func:`participant_amplitudes`.
    cfg : dict
        Study configuration (``ratings``, ``measures``, ``sessions``).
    rng : numpy.random.Generator
        Random stream for the clip-level noise e.

    Returns
    -------
    DataFrame
    """
    rc = cfg["ratings"]
    clips = ev[ev["trial_type"] != "rating"]
    out = {"clip": clips["clip"].to_numpy(), "video": clips["trial_type"].to_numpy()}
    lo, hi = rc["scale"]
    for m_idx, measure in enumerate(cfg["measures"]):
        mu = (
            np.array([rc["mean"][v][measure] + traits["w"][v][m_idx] for v in out["video"]])
            + traits["u"][m_idx]
        )
        if _trained(group, session):
            mu += traits["g"] * np.array([rc["training"][v][measure] for v in out["video"]])
        if session != cfg["sessions"][0]:
            mu += np.array([rc["habituation"][v][measure] for v in out["video"]])
        value = mu + rng.normal(0.0, rc["clip_sd"], len(mu))
        out[measure] = np.clip(np.round(value, 1), lo, hi)
    return pd.DataFrame(out)


def participant_amplitudes(cfg: dict, rng: np.random.Generator) -> dict:
    """Stable traits of a participant.

    Rating intercepts u ~ N(0, participant_sd) per measure, video deviations w ~ N(0, video_sd),
    training gain g ~ N(1, training_gain_sd), BOLD region offsets ~ N(0, bold.participant_sd)
    (empathy + training ROIs).

    Parameters
    ----------
    cfg : dict
        Study configuration (``ratings``, ``bold``, ``measures``, ``video_types``, ``rois``).
    rng : numpy.random.Generator
        The participant's random stream.

    Returns
    -------
    dict
        ``u``, ``w`` (video -> array), ``g``, ``bold``.
    """
    rc, bc = cfg["ratings"], cfg["bold"]
    k = len(cfg["measures"])
    return {
        "u": rng.normal(0.0, rc["participant_sd"], k),
        "w": {v: rng.normal(0.0, rc["video_sd"], k) for v in cfg["video_types"]},
        "g": rng.normal(1.0, rc["training_gain_sd"]),
        "bold": rng.normal(0.0, bc["participant_sd"], 1 + len(cfg["rois"]["training"])),
    }


@dataclass
class Grid:
    """The analysis grid: shape, affine, brain mask, grey matter, ROIs and the planted maps.

    ``maps`` (n_maps x n_voxels, float32, over the mask) are ordered as :meth:`map_names`.
    """

    shape: tuple
    affine: np.ndarray
    mask: np.ndarray
    gm: np.ndarray
    rois: dict
    maps: np.ndarray
    n_networks: int

    def map_names(self) -> list[str]:
        return [
            "video",
            "rating",
            "empathy",
            *self.rois["training"],
            *[f"network_{i + 1}" for i in range(self.n_networks)],
            "physio_cardiac",
            "physio_respiration",
            "physio_rvt",
            "drift",
        ]

    def image(self, values: np.ndarray) -> nib.Nifti1Image:
        """A 3-D image with ``values`` (n_voxels over the mask) inside the brain, 0 outside.

        Parameters
        ----------
        values : ndarray, shape (n_voxels,)
            One value per mask voxel (C order).

        Returns
        -------
        Nifti1Image
        """
        data = np.zeros(self.shape, np.float32)
        data[self.mask] = values
        return nib.Nifti1Image(data, self.affine)

    def mask_img(self) -> nib.Nifti1Image:
        return nib.Nifti1Image(self.mask.astype(np.uint8), self.affine)

    def roi_index(self, family: str) -> dict[str, np.ndarray]:
        """ROI masks as boolean vectors over the brain mask.

        Parameters
        ----------
        family : str
            ROI family of the config (``"training"`` or ``"empathy"``).

        Returns
        -------
        dict
            ROI name -> boolean array of length n_voxels.
        """
        return {name: np.asarray(img.dataobj, bool)[self.mask] for name, img in self.rois[family].items()}


def _build_grid(cfg: dict) -> Grid:
    res, bc = cfg["grid"]["resolution"], cfg["bold"]
    shape, affine = space.mni_grid(res)
    tissue = space.tissue_on_grid(space.load_tissue_templates(), shape, affine)
    gm = tissue["gm"]
    brain = np.clip(tissue["gm"] + tissue["wm"] + tissue["csf"], 0, 1)
    mask = brain > 0.5
    ref = nib.Nifti1Image(np.zeros(shape, np.uint8), affine)
    rois = study_rois(cfg, ref, mask)
    zooms = [res] * 3
    rng = np.random.default_rng(bc["map_seed"])
    field = functools.partial(space.smooth_field, shape, zooms, bc["spatial_smooth_mm"])
    empathy = np.zeros(shape, np.float32)
    for img in rois["empathy"].values():
        empathy[np.asarray(img.dataobj, bool)] = 1.0
    maps = [gm * np.clip(0.5 + field(rng), 0, None), gm * np.clip(0.5 + field(rng), 0, None), empathy]
    maps += [np.asarray(img.dataobj, np.float32) for img in rois["training"].values()]
    maps += [gm * field(rng) for _ in range(bc["networks"])]
    maps += [brain * np.clip(1 + 0.4 * field(rng), 0, None) for _ in range(3)]
    maps.append(brain * (1 + 0.3 * space.smooth_field(shape, zooms, 60.0, rng)))
    stacked = np.stack([m[mask] for m in maps]).astype(np.float32)
    return Grid(shape, affine, mask, gm, rois, stacked, bc["networks"])


@functools.lru_cache(maxsize=4)
def _grid_cached(key: str) -> Grid:
    return _build_grid(json.loads(key))


def grid_for(cfg: dict) -> Grid:
    """:class:`Grid` for a config (cached in-process: it depends on ``grid``, ``bold`` and ``rois``).

    Parameters
    ----------
    cfg : dict
        Study configuration.

    Returns
    -------
    Grid
    """
    return _grid_cached(json.dumps({k: cfg[k] for k in ("grid", "bold", "rois")}, sort_keys=True))


def bold_run(
    ev: pd.DataFrame, group: str, session: str, traits: dict, grid: Grid, cfg: dict, rng: np.random.Generator
) -> np.ndarray:
    """Simulated BOLD of one run over the brain mask (n_volumes x n_voxels, float32, percent).

    Formula: module docstring.  Session-specific offsets v ~ N(0, session_sd) are drawn here.

    Parameters
    ----------
    ev : DataFrame
        The run's events (:func:`events`).
    group : {"compassion", "memory"}
        The participant's group.
    session : str
        Session label (training effect in ``"post"`` of the compassion group).
    traits : dict
        :func:`participant_amplitudes`.
    grid : Grid
        Brain grid and planted maps (:func:`grid_for`).
    cfg : dict
        Study configuration (``bold``, ``task.tr``, ``rois``).
    rng : numpy.random.Generator
        Random stream for offsets and noise.

    Returns
    -------
    ndarray of float32, shape (n_volumes, n_voxels)
        Around 100 (percent of the baseline).
    """
    bc, tr, dt = cfg["bold"], cfg["task"]["tr"], 0.5
    n_vol = n_volumes(ev, tr)
    n_fine = int(round(n_vol * tr / dt))
    idx = signals.condition_index(ev, list(CONDITIONS), n_fine, dt)
    h = signals.task_regressors(idx, len(CONDITIONS), dt, tr, n_vol)
    n_train = len(cfg["rois"]["training"])
    offsets = traits["bold"] + rng.normal(0.0, bc["session_sd"], 1 + n_train)
    amp = (
        np.r_[
            bc["empathy_pct"], np.full(n_train, bc["training_pct"] * traits["g"] * _trained(group, session))
        ]
        + offsets
    )
    noise_cfg = {
        "cardiac_hz": bc["cardiac_hz"],
        "respiration_hz": bc["respiration_hz"],
        "drift_max_hz": bc["drift_max_hz"],
    }
    net = signals.hrf_convolve(rng.standard_normal((n_fine, bc["networks"])), dt, tr, n_vol)
    net = bc["network_pct"] * (net - net.mean(0)) / net.std(0)
    x = np.column_stack(
        [
            bc["video_pct"] * (h[:, 0] + h[:, 1]),
            bc["rating_pct"] * h[:, 2],
            h[:, [0]] * amp[None, :],
            net,
            bc["physio_pct"] * signals.physio(n_vol, tr, noise_cfg, rng),
            bc["drift_pct"] * signals.drift(n_vol, tr, noise_cfg, rng),
        ]
    ).astype(np.float32)
    y = x @ grid.maps
    y += rng.standard_normal(y.shape, dtype=np.float32) * np.float32(bc["white_pct"])
    y += np.float32(100.0)
    return y
