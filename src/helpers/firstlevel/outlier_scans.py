"""Outlier scans of the analysed participants: ``outlier_scans.tsv`` and the outlier exclusions.

Run by :func:`helpers.firstlevel.run_connectivity` after the tables, when an outlier rule or a
multiverse branch (``scrubbing``/``censoring``) is requested.
"""

from __future__ import annotations

import pandas as pd

from .inputs import ParticipantFiles
from .settings import StageSettings

__all__ = ["record_outlier_scans"]


def record_outlier_scans(
    output_dir, analysed: list, measures: list, settings: StageSettings, max_outlier_fraction: float
) -> None:
    """``outlier_scans.tsv`` and the outlier exclusions of the analysed participants (nothing without a rule).

    The stage's rule counts for every measure (``measure`` ``all``); each multiverse branch among
    ``measures`` for itself.  Reads only the confounds and events (and the BOLD header), not the images.

    Parameters
    ----------
    output_dir : path-like
        Where ``outlier_scans.tsv`` and ``exclusions.tsv`` are written.
    analysed : list of ParticipantFiles
        The participants in the connectivity table.
    measures : list of str
        The stage's measures.
    settings : StageSettings
        The stage's settings (``outliers``: its rule, or None).
    max_outlier_fraction : float
        A participant losing more than this share of a condition's scans is excluded
        (:func:`helpers.outliers.record_outlier_exclusions`).
    """
    from ..outliers import ALL_MEASURES, lost_scans, record_outlier_exclusions
    from .measures import branch_rule, get_measure, outlier_branch

    rules = [(ALL_MEASURES, settings.outliers)] if settings.outliers is not None else []
    rules += [
        (m, branch_rule(get_measure(m).settings["method"]))
        for m in measures
        if get_measure(m).func is outlier_branch
    ]
    lost = [
        lost_scans(files.participant_id, *_outliers_and_weights(files, settings.conditions, rule), rule, name)
        for files in analysed
        for name, rule in rules
    ]
    record_outlier_exclusions(
        output_dir, pd.concat(lost, ignore_index=True) if lost else None, max_outlier_fraction
    )


def _outliers_and_weights(files: ParticipantFiles, conditions, rule) -> tuple[list, list]:
    """Every run's outlier scans under ``rule`` and its ``hrf`` condition weights (their support, which is
    what is counted, is the same for every weighting)."""
    import nibabel as nib

    from ..connectivity import condition_weights
    from ..outliers import detect_outliers, read_outlier_inputs
    from .inputs import read_events
    from .signals import _per_condition

    flags, weights = [], []
    for run in files.all_runs:
        n = int(nib.load(run.bold).shape[3])
        events = read_events(run.events, list(conditions), require_all=False)
        weights.append(
            _per_condition(
                lambda names, events=events, n=n, tr=run.tr: condition_weights(
                    events, n, tr, "hrf", conditions=names
                ),
                events,
                list(conditions),
                n,
            )
        )
        inputs = read_outlier_inputs(run.confounds, n, run.participant_id, bold=run.bold)
        flags.append(detect_outliers(inputs, rule)["outlier"].to_numpy())
    return flags, weights
