"""Fresh draws of the twin's participants through the project's own first level (ROI voxels only).

Each draw simulates every random time series anew (neural signals with the planted coupling, networks,
physiology, drift, motion, thermal noise) on the voxels of :mod:`helpers.reliability.voxels` and runs
CONN's default first level on them; repeating it for the same planted coupling gives each
participant's estimation error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import atlas
from ..connectivity import condition_effects, condition_weights, roi_to_roi
from ..denoise import HIGHPASS, regress_and_filter
from ..firstlevel import add_contrasts, denoising_design
from ..simulate import build as twin_build
from .twin import TwinDesign
from .voxels import VoxelModel, _voxels, voxel_model

MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


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
