"""fMRIPrep-style derivatives: the names we write (preprocessing, the twin) and read (connectivity).

One module per concern:

* :mod:`helpers.layout.derivatives.names` — the file names and folders our preprocessing and the
  twin write (:func:`derivative_paths`), and the naming rules both sides share;
* :mod:`helpers.layout.derivatives.runs` — every preprocessed run of a participant, as fMRIPrep
  20.2 LTS … 25.x, our preprocessing or the twin wrote it (:func:`derivative_runs`);
* :mod:`helpers.layout.derivatives.discovery` — the derivatives folder inside a raw dataset
  (:func:`find_fmriprep`).

Everything is imported from here (``from helpers.layout.derivatives import derivative_runs``).
"""

from __future__ import annotations

from .discovery import GENERATORS, find_fmriprep
from .names import SPACE, SPACES, derivative_paths, entity_stem, run_label, sidecar
from .runs import DerivRun, derivative_runs

__all__ = [
    "SPACE",
    "SPACES",
    "entity_stem",
    "derivative_paths",
    "DerivRun",
    "derivative_runs",
    "find_fmriprep",
    "sidecar",
    "run_label",
    "GENERATORS",
]
