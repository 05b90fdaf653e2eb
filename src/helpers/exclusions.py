"""Who is in the group analysis: one decision, made in one place, read by every table and figure.

A participant is left out of the group statistics (Table 1, Figures 1–3, the follow-ups and the
robustness chapter) when any of these holds:

* **a stage excluded them** — a row of ``exclusions.tsv`` (columns ``participant_id, stage,
  reason``) written by any stage: failed preprocessing or connectivity (``on_error = "skip"``), QC
  flags recorded by other stages, and the two rules below. A row whose stage is
  ``"<stage>/<detail>"`` (e.g. ``connectivity/gppi``) removes one measure only, not the participant;
* **the motion rule** (stage ``motion``) — mean framewise displacement (Power et al., 2012) above
  ``fd_threshold`` mm, computed from the confounds of the derivatives the connectivity stage
  *actually analysed* (``derivatives_dir``: the twin's ideal derivatives, ours, or fMRIPrep's), over
  every volume of every run (``n/a`` rows, the first volume and fMRIPrep's non-steady-state rows,
  are not counted). It is evaluated here, by :func:`record_group_rules`, which the connectivity
  chapter calls, and nowhere else;
* **your list** (stage ``user``) — the optional ``exclusions_file``: a TSV with columns
  ``participant_id`` and ``reason`` (IDs with or without ``sub-``);
* **incomplete data** (stage ``incomplete``) — a questionnaire score but no connectivity, or the
  reverse (found by :func:`apply`, when the two tables meet).

:func:`apply` returns the two tables restricted to the included participants and the full list of
who was left out, with the stage and the reason; :func:`helpers.stats.read_inputs` calls it, so every
group-level result uses the same sample.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .execution import EXCLUSION_COLUMNS, record_exclusions
from .layout import outputs

__all__ = [
    "STAGE_MOTION",
    "STAGE_USER",
    "STAGE_INCOMPLETE",
    "read_exclusions",
    "read_user_exclusions",
    "motion_table",
    "fd_rule",
    "record_group_rules",
    "apply",
]

log = logging.getLogger(__name__)

STAGE_MOTION = "motion"
STAGE_USER = "user"
STAGE_INCOMPLETE = "incomplete"
#: Columns of ``motion.tsv``.
MOTION_COLUMNS = ["participant_id", "n_runs", "n_volumes", "mean_fd", "max_fd"]


def read_exclusions(path: str | os.PathLike) -> pd.DataFrame:
    """``exclusions.tsv`` (columns :data:`helpers.execution.EXCLUSION_COLUMNS`); empty when absent.

    Parameters
    ----------
    path : path-like
        The exclusions file (read as text, ``n/a`` kept as text).

    Returns
    -------
    DataFrame
        Columns ``participant_id, stage, reason`` only.

    Raises
    ------
    ValueError
        A column is missing (names the file and the rule).
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=EXCLUSION_COLUMNS)
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = [c for c in EXCLUSION_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing} (rule: columns {', '.join(EXCLUSION_COLUMNS)})"
        )
    return table[EXCLUSION_COLUMNS]


def read_user_exclusions(path: str | os.PathLike) -> pd.DataFrame:
    """Your own exclusions file as exclusion rows (stage ``user``).

    Parameters
    ----------
    path : path-like
        A tab-separated file with a header and the columns ``participant_id`` (``sub-01`` or ``01``)
        and ``reason`` (not empty); other columns are ignored.

    Returns
    -------
    DataFrame
        Columns ``participant_id`` (with ``sub-``), ``stage`` (``"user"``), ``reason``.

    Raises
    ------
    ValueError
        The file is missing or not tab-separated, a column is missing, or a line has an empty ID or
        reason or repeats an ID (the message names the file, the line and the rule).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"exclusions_file {path}: no such file (rule: a TSV with columns participant_id and reason)"
        )
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in ("participant_id", "reason") if c not in table.columns]
    if missing:
        sep = " (the header has no tab: save the file as tab-separated)" if len(table.columns) == 1 else ""
        raise ValueError(
            f"exclusions_file {path}: missing column(s) {missing}; "
            f"found {list(table.columns)}{sep} "
            "(rule: a TSV with columns participant_id and reason)"
        )
    ids = table["participant_id"].str.strip()
    ids = ids.where(ids.str.startswith("sub-") | (ids == ""), "sub-" + ids)
    reasons = table["reason"].str.strip()
    seen: dict[str, int] = {}
    for i, (pid, reason) in enumerate(zip(ids, reasons)):
        line = i + 2  # the header is line 1
        if not pid or not reason:
            column = "participant_id" if not pid else "reason"
            raise ValueError(
                f"exclusions_file {path}, line {line}: column {column} is empty "
                "(rule: every line names a participant and the reason)"
            )
        if pid in seen:
            raise ValueError(
                f"exclusions_file {path}, line {line}: participant {pid} is listed again "
                f"(first on line {seen[pid]}) (rule: one line per participant)"
            )
        seen[pid] = line
    return pd.DataFrame({"participant_id": ids, "stage": STAGE_USER, "reason": reasons})[EXCLUSION_COLUMNS]


def motion_table(derivatives_dir: str | os.PathLike, participants, task: str) -> pd.DataFrame:
    """Framewise displacement of the derivatives analysed: one row per participant.

    Every run's ``framewise_displacement`` column (:func:`helpers.layout.derivative_runs`) is pooled;
    ``n/a`` values (the first volume of each run) are left out of the mean and maximum, but every
    volume counts in ``n_volumes`` (a run of 166 volumes has 165 FD values).

    Parameters
    ----------
    derivatives_dir : path-like
        The preprocessed derivatives (fMRIPrep-style confounds).
    participants : iterable of str
        Participant ids.
    task : str
        Task label of the runs.

    Returns
    -------
    DataFrame
        :data:`MOTION_COLUMNS`: runs, volumes (rows of the confounds files), mean and maximum FD (mm;
        NaN without values).

    Raises
    ------
    ValueError
        A confounds file has no ``framewise_displacement`` column (names the file).
    """
    from .layout import derivative_runs

    rows = []
    for participant in participants:
        values, n_volumes = [], 0
        runs = derivative_runs(derivatives_dir, participant, task)
        for run in runs:
            confounds = pd.read_csv(run.confounds, sep="\t", na_values=["n/a"], keep_default_na=False)
            if "framewise_displacement" not in confounds.columns:
                raise ValueError(
                    f"{run.confounds}: participant {participant}: "
                    "no column framewise_displacement "
                    "(rule: fMRIPrep-style confounds; needed by the motion exclusion rule)"
                )
            n_volumes += len(confounds)
            values.append(pd.to_numeric(confounds["framewise_displacement"], errors="coerce").to_numpy(float))
        fd = np.concatenate(values) if values else np.array([])
        fd = fd[np.isfinite(fd)]
        rows.append(
            (
                participant,
                len(runs),
                n_volumes,
                float(fd.mean()) if fd.size else np.nan,
                float(fd.max()) if fd.size else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=MOTION_COLUMNS)


def fd_rule(motion: pd.DataFrame, fd_threshold: float = 0.5) -> pd.DataFrame:
    """Exclusion rows (stage ``motion``) for mean FD above ``fd_threshold`` mm.

    Parameters
    ----------
    motion : DataFrame
        From :func:`motion_table` (``participant_id``, ``mean_fd``).
    fd_threshold : float, default 0.5
        Largest mean framewise displacement kept, in mm (0.5: the paper's rule).

    Returns
    -------
    DataFrame
        Columns :data:`helpers.execution.EXCLUSION_COLUMNS`, one row per participant above the threshold.
    """
    bad = motion[motion["mean_fd"] > fd_threshold]
    reasons = [f"mean framewise displacement {v:.3f} mm > {fd_threshold:g} mm" for v in bad["mean_fd"]]
    return pd.DataFrame(
        {"participant_id": bad["participant_id"].to_numpy(), "stage": STAGE_MOTION, "reason": reasons},
        columns=EXCLUSION_COLUMNS,
    )


def record_group_rules(
    output_dir, derivatives_dir, participants, task: str, fd_threshold: float = 0.5, exclusions_file=None
) -> pd.DataFrame:
    """Evaluate the motion rule on the analysed derivatives and record it and your list.

    Writes ``motion.tsv`` and replaces the ``motion`` and ``user`` rows of ``exclusions.tsv`` in
    ``output_dir`` (:func:`helpers.execution.record_exclusions`); returns the rows recorded now.

    Parameters
    ----------
    output_dir : path-like
        The analysis' output folder.
    derivatives_dir : path-like
        The derivatives the connectivity stage read.
    participants : list of str
        Participants with derivatives.
    task : str
        Task label.
    fd_threshold : float, default 0.5
        Mean FD (mm) above which a participant is excluded.
    exclusions_file : path-like or None, default None
        Your own list (:func:`read_user_exclusions`); None: nobody.

    Returns
    -------
    DataFrame
        The motion rows, then your rows (:data:`helpers.execution.EXCLUSION_COLUMNS`).

    Raises
    ------
    ValueError
        A confounds file lacks ``framewise_displacement``, or your exclusions file is invalid.
    """
    from .io import write_tsv

    out = outputs(output_dir)
    motion = motion_table(derivatives_dir, participants, task)
    write_tsv(motion, out.motion)
    by_motion = fd_rule(motion, fd_threshold)
    by_user = (
        read_user_exclusions(exclusions_file) if exclusions_file else pd.DataFrame(columns=EXCLUSION_COLUMNS)
    )
    record_exclusions(by_motion, out.exclusions, STAGE_MOTION)
    record_exclusions(by_user, out.exclusions, STAGE_USER)
    for row in pd.concat([by_motion, by_user]).itertuples():
        log.warning("excluding %s (%s): %s", row.participant_id, row.stage, row.reason)
    return pd.concat([by_motion, by_user], ignore_index=True)


def apply(
    scores: pd.DataFrame, connectivity: pd.DataFrame, exclusions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The group sample: both tables without the excluded participants, and who was left out.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (column ``participant_id``; connectivity also ``measure``).
    exclusions : DataFrame
        ``exclusions.tsv`` as recorded by every stage.

    Returns
    -------
    scores, connectivity : DataFrame
        Rows of the included participants (and, for ``<stage>/<measure>`` rows, without that
        measure of that participant).
    left_out : DataFrame
        ``participant_id, stage, reason``: every participant-level exclusion plus the incomplete
        participants (stage ``incomplete``), one row per participant and reason, sorted by participant.
    """
    rows = exclusions[EXCLUSION_COLUMNS].astype(str)
    partial = rows["stage"].str.contains("/", regex=False)
    whole = rows[~partial]
    for row in rows[partial].itertuples():  # one measure of one participant
        measure = row.stage.split("/", 1)[1]
        connectivity = connectivity[
            ~((connectivity["participant_id"] == row.participant_id) & (connectivity["measure"] == measure))
        ]
    out = set(whole["participant_id"])
    in_scores, in_conn = set(scores["participant_id"]) - out, set(connectivity["participant_id"]) - out
    incomplete = [(p, STAGE_INCOMPLETE, "no connectivity values") for p in sorted(in_scores - in_conn)]
    incomplete += [(p, STAGE_INCOMPLETE, "no questionnaire scores") for p in sorted(in_conn - in_scores)]
    left_out = pd.concat([whole, pd.DataFrame(incomplete, columns=EXCLUSION_COLUMNS)], ignore_index=True)
    left_out = left_out.drop_duplicates().sort_values(["participant_id", "stage"], ignore_index=True)
    keep = in_scores & in_conn
    return (
        scores[scores["participant_id"].isin(keep)].reset_index(drop=True),
        connectivity[connectivity["participant_id"].isin(keep)].reset_index(drop=True),
        left_out,
    )
