"""Simulated BOLD of the training study: the analysis grid with its planted maps, and one run.

The BOLD machinery (canonical HRF convolution, physiological noise, drift, smooth random maps,
tissue templates, MNI grids) is the first study's simulator (:mod:`helpers.simulate`), reused; this
study needs no native anatomy and no preprocessing, so its runs are synthesised directly on a coarse
MNI grid (default 4 mm).

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
gain, shared with the ratings.  Ratings (:func:`helpers.training.design.ratings`) follow the same
design.

Spatial maps use the config's fixed ``map_seed``; everything else the participant's random stream.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import nibabel as nib
import numpy as np
import pandas as pd

from ..simulate import signals, space
from .rois import study_rois
from .task import CONDITIONS, is_trained, n_volumes

__all__ = ["Grid", "grid_for", "bold_run"]


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
            bc["empathy_pct"], np.full(n_train, bc["training_pct"] * traits["g"] * is_trained(group, session))
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
