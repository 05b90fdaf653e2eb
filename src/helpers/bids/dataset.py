"""The loaded dataset (:class:`Dataset`, :func:`load_dataset`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import pandas as pd

from ..layout.raw import RawRun, phenotype_file, raw_runs, structural, with_sub
from ..layout.raw import participants as find_participants
from .rules import CONDITIONS, RATING_RANGE
from .tables import read_tsv
from .validate import validate_dataset


# --------------------------------------------------------------------------------------------- dataset
@dataclass
class Dataset:
    """A loaded dataset: tables, every BOLD run of ``task`` and the structural of each participant.

    Attributes
    ----------
    runs : dict
        Participant → list of :class:`helpers.layout.raw.RawRun` (sorted by session, acq, run).
    structural : dict
        Participant → ``(path, "T2w" | "T1w")`` or None.
    """

    root: Path
    task: str
    participants: pd.DataFrame
    scs: pd.DataFrame
    runs: dict[str, list[RawRun]] = field(default_factory=dict)
    structural: dict[str, tuple[Path, str] | None] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return list(self.participants["participant_id"])

    def events(self, sub: str, run: RawRun | None = None) -> pd.DataFrame:
        """Events of one run, or of every run of ``sub`` one after the other with its ``run`` label.

        Parameters
        ----------
        sub : str
            Participant id (``sub-<label>``).
        run : RawRun, default None
            One run; None: every run of ``sub``, with a ``run`` column (:attr:`RawRun.label`).

        Returns
        -------
        DataFrame
        """
        if run is not None:
            return read_tsv(run.events)
        tables = [read_tsv(r.events).assign(run=r.label) for r in self.runs[sub]]
        return pd.concat(tables, ignore_index=True)

    def n_volumes(self, run: RawRun) -> int:
        """Number of volumes of a BOLD run (from the header).

        Parameters
        ----------
        run : RawRun
            The run.

        Returns
        -------
        int
        """
        return int(nib.load(run.bold).shape[3])

    def first_run(self, sub: str) -> RawRun:
        """The first run of ``sub`` (by session, acq, run) — the one the data chapter shows.

        Parameters
        ----------
        sub : str
            Participant id (``sub-<label>``).

        Returns
        -------
        RawRun
        """
        return self.runs[sub][0]


def _participants_table(root: Path) -> pd.DataFrame:
    """participants.tsv with ``sub-`` IDs, or a one-column table of the ``sub-*`` folders."""
    path = root / "participants.tsv"
    if path.is_file():
        table = read_tsv(path)
        table["participant_id"] = table["participant_id"].map(with_sub)
        return table
    return pd.DataFrame({"participant_id": find_participants(root)})


def _scs_table(root: Path) -> pd.DataFrame:
    table = read_tsv(phenotype_file(root))
    table["participant_id"] = table["participant_id"].map(with_sub)
    return table


def load_dataset(
    root: str | os.PathLike,
    task: str = "feedback",
    validate: bool = True,
    conditions=CONDITIONS,
    rating_range=RATING_RANGE,
) -> Dataset:
    """Load a BIDS dataset (validated first unless ``validate=False``).

    Parameters
    ----------
    root : path-like
        The dataset folder.
    task : str, default "feedback"
        Task label of the functional runs.
    validate : bool, default True
        Run :func:`validate_dataset` first.
    conditions : sequence of str, default :data:`CONDITIONS`
        The ``trial_type`` labels analysed (validation only).
    rating_range : (int, int), default :data:`RATING_RANGE`
        Allowed ratings (validation only).

    Returns
    -------
    Dataset
        Participants, questionnaire, BOLD runs and structural image of each participant.

    Raises
    ------
    ValueError
        The dataset breaks the contract (:func:`validate_dataset` lists every problem).
    """
    root = Path(root)
    if validate:
        validate_dataset(root, task=task, conditions=conditions, rating_range=rating_range)
    parts = _participants_table(root)
    ds = Dataset(root, task, parts, _scs_table(root))
    for sub in ds.ids:
        ds.runs[sub] = raw_runs(root, sub, task)
        ds.structural[sub] = structural(root, sub)
    return ds
