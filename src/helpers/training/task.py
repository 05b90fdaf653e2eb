"""One run of the training study's Socio-affective Video Task: event types, clips, timing, length.

A run shows ``clips_per_type`` distressing and everyday clips in the first study's
pseudo-randomised order, each followed by a rating period and a jittered interval
(``config.yaml``, ``task``).  :func:`is_trained` says whether a run carries the training effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..simulate import model as sim_model

__all__ = ["CONDITIONS", "events", "n_volumes", "is_trained"]

#: Event types of a run (the third is the rating period, a nuisance regressor).
CONDITIONS = ("distress", "everyday", "rating")


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


def is_trained(group: str, session: str) -> bool:
    """Whether a run carries the training effect: a compassion trainee's ``"post"`` session.

    Parameters
    ----------
    group : {"compassion", "memory"}
        The participant's group.
    session : str
        Session label.

    Returns
    -------
    bool
    """
    return group == "compassion" and session == "post"
