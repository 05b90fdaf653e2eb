"""Our own outputs: the names of the files the chapters write under ``output_dir``.

One folder per analysis (``output_dir``)::

    scores.tsv              questionnaire scores (01_questionnaire)
    connectivity.tsv        ROI-to-ROI connectivity (03_connectivity; 02 writes from_raw/connectivity.tsv)
    exclusions.tsv          who was left out, at which stage, and why (every stage)
    motion.tsv              mean framewise displacement of the analysed derivatives (03_connectivity)
    outlier_scans.tsv       scans each participant and condition lose to outlier scans (03_connectivity)
    conditions.json         which of the study's conditions plays each of the paper's roles (03_connectivity)
    denoise_qc.tsv, qc_fc.tsv, denoise_qc_verdicts.tsv
                            denoising quality per participant, per edge, and its verdicts (03_connectivity)
    parcellation-<atlas>/   the same first level and QC for every label of an atlas (03_connectivity)
    tables/, figures/       what the book shows
    from_raw/               connectivity from our own preprocessing beside the twin's ideal derivatives
    provenance/             one record per chapter (parameters, inputs, versions, timings)
    preproc/                our preprocessing's derivatives for a user's raw data (default preproc_dir)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Outputs", "outputs"]


@dataclass(frozen=True)
class Outputs:
    """The paths of our outputs under one output folder.

    Attributes
    ----------
    root : Path
        ``output_dir``.
    """

    root: Path

    @property
    def scores(self) -> Path:
        return self.root / "scores.tsv"

    @property
    def connectivity(self) -> Path:
        return self.root / "connectivity.tsv"

    @property
    def exclusions(self) -> Path:
        return self.root / "exclusions.tsv"

    @property
    def motion(self) -> Path:
        return self.root / "motion.tsv"

    @property
    def outlier_scans(self) -> Path:
        return self.root / "outlier_scans.tsv"

    @property
    def conditions(self) -> Path:
        return self.root / "conditions.json"

    @property
    def denoise_qc(self) -> Path:
        return self.root / "denoise_qc.tsv"

    @property
    def qc_fc(self) -> Path:
        return self.root / "qc_fc.tsv"

    @property
    def denoise_qc_verdicts(self) -> Path:
        return self.root / "denoise_qc_verdicts.tsv"

    def parcellation(self, atlas: str) -> Outputs:
        """The outputs of the first level run on every label of ``atlas`` (``parcellation-<atlas>/``).

        Parameters
        ----------
        atlas : str
            The atlas' name (:data:`helpers.parcellation.ATLASES`).
        """
        return Outputs(self.root / f"parcellation-{atlas}")

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def provenance(self) -> Path:
        return self.root / "provenance"

    @property
    def preproc(self) -> Path:
        """Default ``preproc_dir`` for a user's raw data (our preprocessing writes here)."""
        return self.root / "preproc"

    @property
    def from_raw(self) -> Outputs:
        """The outputs computed from our own preprocessing beside the twin's ideal derivatives."""
        return Outputs(self.root / "from_raw")


def outputs(output_dir: str | os.PathLike) -> Outputs:
    """The :class:`Outputs` of ``output_dir``.

    Parameters
    ----------
    output_dir : path-like
        The book's output folder (not created).

    Returns
    -------
    Outputs

    Examples
    --------
    >>> outputs("build/outputs").connectivity.as_posix()
    'build/outputs/connectivity.tsv'
    """
    return Outputs(Path(output_dir))
