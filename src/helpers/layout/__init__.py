"""The data contract: the one place that knows file names and folder layouts.

Three kinds of files cross a stage boundary, and each has its own module here:

* :mod:`helpers.layout.derivatives` — fMRIPrep-style derivatives: the names our preprocessing and
  the digital twin write, and the names fMRIPrep (20.2 LTS … 25.x) writes, which the connectivity
  stage reads;
* raw BIDS as it is found in the wild (sessions, runs, ``acq-``, ``.nii``/``.nii.gz``, inherited
  sidecars) — :mod:`helpers.layout.raw`;
* the project's own outputs (``connectivity.tsv``, ``exclusions.tsv``, tables, figures).

No other module spells a BIDS file name: it asks this package.
"""

from __future__ import annotations

from .derivatives import SPACE, DerivRun, derivative_paths, derivative_runs, entity_stem, find_fmriprep  # noqa: F401
from .outputs import Outputs, outputs  # noqa: F401
from .raw import RawRun, participants, phenotype_file, raw_paths, raw_runs, structural  # noqa: F401

__all__ = ["SPACE", "derivative_paths", "entity_stem"]
