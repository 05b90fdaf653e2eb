"""Twin of the training study's design: configuration, sample, ratings and participant traits.

Every assumption is in ``config.yaml`` (next to this file), each value marked [abstract],
[secondary] or [assumed].  The task run (:mod:`helpers.training.task`: ``CONDITIONS``,
:func:`events`, :func:`n_volumes`) and the simulated BOLD (:mod:`helpers.training.bold`:
:class:`Grid`, :func:`grid_for`, :func:`bold_run`, with the generative model of a run) live in their
own modules and are re-exported here, so ``design.events``, ``design.bold_run`` … name the whole
design.

Ratings (:func:`ratings`) follow the design of the BOLD: a participant's stable offsets u, video
deviations w and training gain g (:func:`participant_amplitudes`, shared with the BOLD), the training
effect in the compassion group's ``"post"`` session, habituation after the first session.

Randomness: ``SeedSequence(seed)`` spawns one child per participant, so results do not depend on
the number of parallel jobs; spatial maps use the config's fixed ``map_seed``.
"""

from __future__ import annotations

import copy
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..simulate import _merge
from .bold import Grid, bold_run, grid_for
from .task import (
    CONDITIONS,
    events,
    is_trained,
    n_volumes,  # noqa: F401 (design.n_volumes, as before)
)

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
        if is_trained(group, session):
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
