"""Finding a participant's first-level inputs and reading its events and confounds.

The files are located through the data contract (:mod:`helpers.layout`; book/spec_data_contract.md):
every preprocessed run of the task (the twin's ideal derivatives, ours, or fMRIPrep 20.2 … 25.x) is
paired with the raw run of the same session, acq and run, whose events it uses
(:func:`find_participant_files`).  :func:`read_events` and :func:`read_confounds` read and check the
two tables a run needs besides its images; their errors name the file, the participant, the column
and the rule broken.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..bids import read_tsv
from ..layout.derivatives import derivative_runs
from ..layout.raw import participants as raw_participants
from ..layout.raw import raw_runs, with_sub

__all__ = [
    "MOTION_COLUMNS",
    "ParticipantFiles",
    "find_participant_files",
    "list_participants",
    "read_events",
    "read_motion",
    "read_confounds",
]

log = logging.getLogger(__name__)

#: fMRIPrep's realignment parameters.
MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


@dataclass(frozen=True)
class ParticipantFiles:
    """The inputs of one participant's first level: one run, or several in ``runs``.

    The path fields describe one run (``label`` names it: ``"run-1"``, ``"ses-2_run-1"``, ``""``
    for a plain single run).  A participant with several runs has them all, in BIDS order, in
    ``runs`` (each a :class:`ParticipantFiles` with ``runs=()``), and its own path fields are
    those of the first run (so a figure of "the example run" needs no special case);
    :attr:`all_runs` gives the runs to process in every case.
    """

    participant_id: str
    bold: Path
    events: Path
    confounds: Path
    wm: Path
    csf: Path
    tr: float
    label: str = ""
    runs: tuple = ()

    @property
    def all_runs(self) -> tuple:
        """Every run of the participant (``runs``, or this record alone)."""
        return self.runs or (self,)


def _same_run(a: tuple, b: tuple) -> bool:
    """Entities (session, acq, run) equal, run indices compared as numbers (``run-01`` = ``run-1``:
    some fMRIPrep versions drop the zero padding)."""

    def norm(key):
        ses, acq, run = key
        return ses, acq, str(int(run)) if run is not None and run.isdigit() else run

    return norm(a) == norm(b)


def find_participant_files(
    bids_dir,
    derivatives_dir,
    participant_id: str,
    task: str = "feedback",
    space: str | None = None,
    smoothed: bool = False,
    *,
    res=None,
) -> ParticipantFiles:
    """One participant's preprocessed runs (:mod:`helpers.layout`) paired with their raw events.

    Every preprocessed run of ``task`` (:func:`helpers.layout.derivative_runs`: fMRIPrep 20.2 …
    25.x, our preprocessing, the twin; sessions, runs, ``res-`` or not, ``MNI152NLin2009cAsym`` or
    ``MNI152NLin6Asym``) is paired with the raw run of the same session, acq and run
    (:func:`helpers.layout.raw_runs`), whose events (inherited ones included) it uses.  The
    repetition time comes from the derivative's sidecar, else the raw sidecars (inheritance),
    else the NIfTI header.  The unsmoothed ``desc-preproc`` BOLD is used unless ``smoothed``; if
    only a smoothed image exists it is used with a warning (book/spec_conn.md §4).  A raw run without
    derivatives is left out with a warning naming it.

    Parameters
    ----------
    bids_dir, derivatives_dir : path-like
        Raw BIDS dataset (events, raw sidecars) and fMRIPrep-style derivatives.
    participant_id : str
        ``sub-01`` or ``01``.
    task : str, default "feedback"
        BIDS task label.
    space : str, default None
        Template space; default None: the one MNI space present.
    smoothed : bool, default False
        Use the ``desc-smoothed`` BOLD instead of the unsmoothed ``desc-preproc`` one.
    res : str or int, default None
        ``res-`` entity; default None: the one present.

    Returns
    -------
    ParticipantFiles
        The single run, or the first run with every run in ``runs``.

    Raises
    ------
    FileNotFoundError
        A required file is missing (the message names the participant, the run and the rule).
    ValueError
        Several files match (e.g. two resolutions: the message names the parameter), or the TR is invalid.
    """
    sub = with_sub(participant_id)
    derived = derivative_runs(derivatives_dir, sub, task, space=space, res=res, smoothed=smoothed)
    if not (Path(bids_dir) / sub).is_dir():
        raise FileNotFoundError(
            f"{sub}: no raw BIDS folder {Path(bids_dir) / sub} (events are read from there)"
        )
    raw = raw_runs(bids_dir, sub, task)
    runs = []
    for deriv in derived:
        key = (deriv.session, deriv.acq, deriv.run)
        match = [r for r in raw if _same_run((r.session, r.acq, r.run), key)]
        name = deriv.label or "its run"
        if not match:
            raise FileNotFoundError(
                f"{sub}, {name}: no raw BOLD run of task {task!r} with the same session, acq and run "
                f"in {bids_dir} (rule: events are read from the raw run of {deriv.bold.name})"
            )
        if match[0].events is None:
            raise FileNotFoundError(
                f"{match[0].bold}: no events file applies to this run (rule: BIDS events beside "
                "the BOLD with its entities, or inherited from a folder above)"
            )
        tr = (
            deriv.tr
            if "RepetitionTime" in deriv.metadata or "RepetitionTime" not in match[0].metadata
            else match[0].tr
        )
        if "RepetitionTime" in match[0].metadata and not np.isclose(tr, match[0].tr, rtol=1e-3):
            raise ValueError(
                f"{sub}, {name}: repetition time {tr:g} s of {deriv.bold.name} differs from the raw run's "
                f"{match[0].tr:g} s ({match[0].bold.name}); rule: the derivatives of a run keep its TR"
            )
        runs.append(
            ParticipantFiles(
                sub, deriv.bold, match[0].events, deriv.confounds, deriv.wm, deriv.csf, tr, deriv.label
            )
        )
    unused = [
        r
        for r in raw
        if not any(_same_run((r.session, r.acq, r.run), (d.session, d.acq, d.run)) for d in derived)
    ]
    for r in unused:
        message = (
            f"{sub}: raw run {r.bold.name} has no preprocessed derivative in {derivatives_dir}; "
            "it is left out"
        )
        warnings.warn(message, stacklevel=2)
        log.warning(message)
    return runs[0] if len(runs) == 1 else dataclasses.replace(runs[0], runs=tuple(runs))


def list_participants(bids_dir, derivatives_dir=None) -> list[str]:
    """Participants of the raw dataset (:func:`helpers.layout.participants`: ``participants.tsv``, else the
    ``sub-*`` folders), sorted.

    Parameters
    ----------
    bids_dir : path-like
        Raw BIDS dataset.
    derivatives_dir : path-like, default None
        Not read (default None; kept for the callers' signature).
    """
    return sorted(raw_participants(bids_dir))


def read_events(path, conditions, require_all: bool = True) -> pd.DataFrame:
    """BIDS events restricted to the modelled ``conditions`` (others are logged, not modelled).

    ``attrs["source"]`` of the result holds ``path``, so that errors raised later by
    :mod:`helpers.connectivity` (onsets beyond the scan, conditions without events) name the file.
    ``require_all=False`` (one run of several) lets a condition be absent from this file: it gets
    zero weight in this run (book/spec_conn.md §7); the caller checks it occurs in some run.

    Parameters
    ----------
    path : path-like
        BIDS ``_events.tsv`` (``onset, duration, trial_type`` required).
    conditions : sequence of str
        The modelled trial types.
    require_all : bool, default True
        Every condition must have events in this file.

    Returns
    -------
    DataFrame
        The events of the modelled conditions, in file order.

    Raises
    ------
    ValueError
        A required column is missing, or (``require_all``) a condition has no events.
    """
    events = read_tsv(path)  # the validator's reader: a spreadsheet export reads as it was validated
    missing = [c for c in ("onset", "duration", "trial_type") if c not in events.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    events["trial_type"] = events["trial_type"].astype(str)
    absent = [c for c in conditions if c not in set(events["trial_type"])]
    if absent and require_all:
        raise ValueError(f"{path}: column trial_type has no events of condition(s) {absent}")
    other = sorted(set(events["trial_type"]) - set(conditions))
    if other:
        log.info("%s: trial types %s are not modelled", path, other)
    out = events[events["trial_type"].isin(conditions)].reset_index(drop=True)
    out.attrs["source"] = str(path)
    return out


def _where(path, participant: str | None) -> str:
    """Start of an error message: ``"<file>: participant <id>"`` (the id from the BIDS name if not given)."""
    if participant is None:
        found = re.match(r"(sub-[A-Za-z0-9]+)", Path(path).name)
        participant = found.group(1) if found else None
    return f"{path}: participant {participant}" if participant else str(path)


def read_motion(path, n_scans: int, participant: str | None = None) -> pd.DataFrame:
    """The six realignment parameters of an fMRIPrep confounds TSV (other columns ignored).

    Parameters
    ----------
    path : path-like
        fMRIPrep ``desc-confounds_timeseries.tsv``.
    n_scans : int
        Volumes of the BOLD image (one row per volume).
    participant : str, default None
        For error messages; default None: the ``sub-`` entity of the file name.
    """
    return read_confounds(path, n_scans, participant)[0]


def read_confounds(path, n_scans: int, participant: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Realignment parameters and non-steady-state spike regressors of an fMRIPrep confounds TSV.

    fMRIPrep (20.2 … 25.x) writes 80–400 columns; ``n/a`` fills the first row of derivative and
    ``framewise_displacement`` columns.  Only ``trans_x … rot_z`` (no ``n/a`` allowed) and
    ``non_steady_state_outlier_XX`` are read.  fMRIPrep marks each volume it found not yet at
    steady state with one such column, 1 at that volume and 0 elsewhere.

    Non-steady-state volumes are handled as CONN handles its "scrubbing" covariate and nilearn's
    ``load_confounds`` always does: each column becomes a spike regressor of the denoising design
    (:func:`denoising_design`), so the volume's value is fitted exactly and cannot drive the
    CompCor components, the regression or the correlation; the volumes stay in place, so the
    events keep their onsets (no shift), each run keeps its length for CONN's filter, and the
    residual degrees of freedom lose one per spike (:func:`helpers.connectivity.condition_dof`).

    Parameters
    ----------
    path : path-like
        fMRIPrep ``desc-confounds_timeseries.tsv``.
    n_scans : int
        Volumes of the BOLD image (one row per volume).
    participant : str, default None
        For error messages; None: the ``sub-`` entity of the file name.

    Returns
    -------
    tuple of pandas.DataFrame
        The motion (scans × 6) and the spikes (scans × k; k = 0 when none are marked).

    Raises
    ------
    ValueError
        Missing realignment columns, a row count other than ``n_scans``, a missing or non-numeric
        value, or a non-steady-state column with values other than 0 and 1 (file, participant,
        column and row named).
    """
    where = _where(path, participant)
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    missing = [c for c in MOTION_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{where}: missing realignment column(s) {missing} (rule: the confounds hold "
            f"{', '.join(MOTION_COLUMNS)})"
        )
    motion = table[list(MOTION_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    if len(motion) != n_scans:
        raise ValueError(
            f"{where}: {len(motion)} rows but the BOLD image has {n_scans} volumes (mismatched lengths; "
            "rule: one confounds row per volume)"
        )
    if motion.isna().any().any():
        col = motion.columns[motion.isna().any()][0]
        row = int(np.flatnonzero(motion[col].isna().to_numpy())[0])
        raise ValueError(
            f"{where}, column {col}, row {row}: missing or non-numeric value (rule: a number in every row)"
        )
    names = [c for c in table.columns if re.fullmatch(r"non_steady_state_outlier_?\d+", str(c))]
    spikes = table[names].apply(pd.to_numeric, errors="coerce").reset_index(drop=True)
    bad = [c for c in names if not spikes[c].isin([0, 1]).all()]
    if bad:
        raise ValueError(
            f"{where}, column {bad[0]}: values other than 0 and 1 (rule: a non-steady-state "
            "column marks one volume with 1)"
        )
    return motion, spikes
