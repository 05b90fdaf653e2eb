"""Run the training study's twin end to end: simulate each participant, fit the first level.

One task per participant through the stage skeleton (:func:`helpers.participant_stage.run_stage`:
serial, ``n_jobs`` local processes or a Dask cluster): draw the participant's traits, and for each
session the clip order, the ratings and the BOLD run; fit the first-level GLM and keep only the
smoothed distress − everyday map (runs are never stored, which keeps memory and time small).
Randomness: ``SeedSequence(seed).spawn(n)`` gives one independent stream per participant, so the
results do not depend on ``n_jobs`` or the backend.  With ``cache=True`` each participant's result
is stored in ``build/cache/training`` (:mod:`helpers.cache`), keyed by its row, its seed stream,
the configuration (except the group sizes, which do not enter a participant's computation), the
first-level method and the code of this module and every helpers module it imports
(:func:`helpers.cache.code_fingerprint`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cache import Cache, code_fingerprint, make_key
from ..execution import execution_doc
from ..participant_stage import Task, run_stage
from . import design, glm

__all__ = ["Study", "run_participant", "run_study"]

log = logging.getLogger(__name__)


@dataclass
class Study:
    """Everything the analysis needs from one twin.

    Attributes
    ----------
    participants : DataFrame ``participant_id, group``
    ratings : DataFrame, one row per clip: ``participant_id, group, session, clip, video, <measures>``
    events : DataFrame, every run's events with ``participant_id, session``
    contrasts : ndarray (n_participants, n_sessions, n_voxels), smoothed distress − everyday effects
    grid : :class:`helpers.training.design.Grid`
    cfg : dict, the configuration used
    seconds : dict, wall time per stage
    """

    participants: pd.DataFrame
    ratings: pd.DataFrame
    events: pd.DataFrame
    contrasts: np.ndarray
    grid: design.Grid
    cfg: dict
    seconds: dict = field(default_factory=dict)


def run_participant(
    row: dict, cfg: dict, grid: design.Grid, seed_seq: np.random.SeedSequence, method: str = "ols"
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Simulate and fit one participant (both sessions).

    Per session: events, clip ratings and the BOLD run (:mod:`.design`), the first-level design
    matrix and the distress − everyday effect (:mod:`.glm`), smoothed with ``grid.smoothing_fwhm``.

    Parameters
    ----------
    row : dict
        The participant's row of :func:`.design.participants` (``participant_id``, ``group``).
    cfg : dict
        Study configuration (:func:`.design.load_config`).
    grid : helpers.training.design.Grid
        Brain grid and ROIs (:func:`.design.grid_for`).
    seed_seq : numpy.random.SeedSequence
        The participant's own random stream.
    method : {"ols", "nilearn-ols", "nilearn-ar1"}, default "ols"
        First-level estimator (:data:`helpers.training.glm.METHODS`).

    Returns
    -------
    ratings : DataFrame
        One row per clip and session, with ``participant_id``, ``group``, ``session``.
    events : DataFrame
        Both runs' events with ``participant_id``, ``group``, ``session``.
    contrasts : ndarray, shape (n_sessions, n_voxels)
        Smoothed distress − everyday effect maps (percent signal change).

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`helpers.training.glm.METHODS`.
    """
    rng = np.random.default_rng(seed_seq)
    traits = design.participant_amplitudes(cfg, rng)
    tr = cfg["task"]["tr"]
    rates, evs, maps = [], [], []
    for session in cfg["sessions"]:
        ev = design.events(cfg, rng)
        rates.append(design.ratings(ev, row["group"], session, traits, cfg, rng).assign(session=session))
        y = design.bold_run(ev, row["group"], session, traits, grid, cfg, rng)
        X = glm.design_matrix(ev, len(y), tr, cfg["glm"])
        effect = glm.first_level(y, X, glm.contrast_vector(X.columns), method)
        maps.append(glm.smooth(effect, grid, cfg["grid"]["smoothing_fwhm"]))
        evs.append(ev.assign(session=session))
    ids = {"participant_id": row["participant_id"], "group": row["group"]}
    ratings = pd.concat(rates, ignore_index=True).assign(**ids)
    events = pd.concat(evs, ignore_index=True).assign(**ids)
    return ratings, events, np.stack(maps)


def _run(job, cfg, grid, method):
    """The stage skeleton's compute (one BLAS thread: :func:`helpers.participant_stage.run_stage`)."""
    row, seed_seq = job
    return run_participant(row, cfg, grid, seed_seq, method)


@execution_doc("n_jobs", "backend", "scheduler", "cache", "cache_dir")
def run_study(
    cfg: dict,
    seed: int = 2018,
    n_jobs: int = 1,
    method: str = "ols",
    backend: str = "processes",
    scheduler="",
    cache: bool = False,
    cache_dir=None,
) -> Study:
    """Simulate the whole twin and fit every first-level GLM.

    Parameters
    ----------
    cfg : dict
        From :func:`helpers.training.design.load_config` (``null=True`` for the null twin).
    seed : int, default 2018
        Seed of ``SeedSequence(seed).spawn(n)``: one stream per participant.
    {execution_parameters:n_jobs}
    method : {"ols", "nilearn-ols", "nilearn-ar1"}, default "ols"
        First-level estimator, one of :data:`helpers.training.glm.METHODS`.
    {execution_parameters:backend,scheduler,cache,cache_dir}

    Returns
    -------
    Study
        Participants, clip ratings, events, contrast maps (participants × sessions × voxels), grid,
        configuration and wall times.
    """
    t0 = time.perf_counter()
    grid = design.grid_for(cfg)
    table = design.participants(cfg)
    t1 = time.perf_counter()
    streams = np.random.SeedSequence(seed).spawn(len(table))  # one per participant
    jobs = dict(zip(table["participant_id"], zip(table.to_dict("records"), streams)))
    code = code_fingerprint(__name__, follow_imports=True)  # every helpers module this stage imports
    shared = {k: v for k, v in cfg.items() if k != "groups"}  # group sizes do not enter a participant
    run = run_stage(
        "training",
        list(jobs),
        lambda p: Task(p, jobs[p], make_key(*jobs[p], shared, method, code)),
        _run,
        Cache("training", cache_dir, enabled=cache),
        backend=backend,
        n_jobs=n_jobs,
        scheduler=scheduler,
        progress=None,
        shared=dict(cfg=cfg, grid=grid, method=method),
    )
    out = list(run.results.values())
    cols = ["participant_id", "group", "session", "clip", "video", *cfg["measures"]]
    ratings = pd.concat([o[0] for o in out], ignore_index=True)[cols]
    events = pd.concat([o[1] for o in out], ignore_index=True)
    events = events[["participant_id", "group", "session", "onset", "duration", "trial_type", "clip"]]
    seconds = {"grid and ROIs": t1 - t0, "simulation and first level": time.perf_counter() - t1}
    return Study(table, ratings, events, np.stack([o[2] for o in out]), grid, cfg, seconds)
