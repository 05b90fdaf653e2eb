"""The task run of the twin: pseudo-randomised word events and the participant's ratings of them.

The design facts (45 words, 15 per condition, 10–12 s wall to wall, ratings 1–4) come from
book/spec_paper.md; the numbers are in the default ``config.yaml`` (``events``, ``ratings``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["event_sequence", "ratings"]


def event_sequence(conditions: list[str], cfg: dict, rng: np.random.Generator) -> pd.DataFrame:
    """A pseudo-randomised wall-to-wall run: ``onset, duration, trial_type, word``.

    Condition order: shuffled until no more than ``max_run`` equal conditions follow each other
    (rejection sampling).  Durations: each value of ``durations`` used equally often, shuffled
    independently; onsets are cumulative from ``first_onset``.  Words: each condition's list
    shuffled (one word per event).

    Parameters
    ----------
    conditions : list of str
        Condition names.
    cfg : dict
        The config's ``events`` section: ``per_condition``, ``max_run``, ``durations`` (s),
        ``first_onset`` (s), ``words`` (condition -> list).
    rng : numpy.random.Generator
        Design generator.

    Returns
    -------
    DataFrame
    """
    n = cfg["per_condition"]
    base = np.repeat(np.arange(len(conditions)), n)
    while True:
        order = rng.permutation(base)
        runs = np.diff(np.flatnonzero(np.diff(np.r_[-1, order, -1]) != 0))
        if runs.max() <= cfg["max_run"]:
            break
    durations = np.resize(np.asarray(cfg["durations"], float), order.size)
    durations = rng.permutation(durations)
    onsets = cfg["first_onset"] + np.r_[0.0, np.cumsum(durations)[:-1]]
    words = {c: list(rng.permutation(cfg["words"][c])) for c in conditions}
    trial_type = [conditions[k] for k in order]
    word = [words[c].pop() for c in trial_type]
    return pd.DataFrame({"onset": onsets, "duration": durations, "trial_type": trial_type, "word": word})


def ratings(events: pd.DataFrame, sc_std: float, cfg: dict, rng: np.random.Generator) -> np.ndarray:
    """Ratings 1–4: round(base[c] + sc_slope[c]·SC_std + u + ε), clipped; u ~ N(0, participant_sd).

    ε ~ N(0, trial_sd) per event.

    Parameters
    ----------
    events : DataFrame
        The run's events (``trial_type`` = condition).
    sc_std : float
        The participant's standardised total self-compassion.
    cfg : dict
        The config's ``ratings`` section (``base``, ``sc_slope``, ``participant_sd``, ``trial_sd``).
    rng : numpy.random.Generator
        Generator.

    Returns
    -------
    ndarray of int
        One rating per event.
    """
    u = rng.normal(0, cfg["participant_sd"])
    latent = np.array([cfg["base"][c] + cfg["sc_slope"][c] * sc_std for c in events["trial_type"]])
    latent += u + rng.normal(0, cfg["trial_sd"], len(events))
    return np.clip(np.round(latent), 1, 4).astype(int)
