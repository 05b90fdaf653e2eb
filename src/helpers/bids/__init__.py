"""Load and validate a raw BIDS dataset against the project's input contract (book: *The data contract*).

What is accepted (file names are found by :mod:`helpers.layout.raw`, never spelled here)::

    dataset_description.json     Name, BIDSVersion
    [participants.tsv]           participant_id (with or without "sub-"); age, sex optional
    phenotype/scs.tsv            participant_id (with or without "sub-"), the 26 SCS items (1–5 or n/a)
    sub-<p>/[ses-<s>/]anat/…_T2w|T1w.nii[.gz]                       one structural (T2w preferred)
    sub-<p>/[ses-<s>/]func/…_task-<task>[_acq-<a>][_run-<r>]_bold.nii[.gz]   one or more runs
        RepetitionTime (s) in the run's sidecar or an inherited one (task-<task>_bold.json …)
        _events.tsv (beside the run or inherited): onset, duration, trial_type among ``conditions``;
        rating (integers in ``rating_range``) and word optional; any further columns ignored

Tables may come from a spreadsheet program (:func:`read_tsv`).  :func:`validate_dataset` checks every
rule and raises **one** ``ValueError`` listing every problem (file, participant, column/field, rule),
so a user fixes everything in one pass.

Modules: :mod:`~helpers.bids.rules` (the contract's fixed values), :mod:`~helpers.bids.tables`
(spreadsheet-proof TSV reading), :mod:`~helpers.bids.images` (NIfTI read to the end),
:mod:`~helpers.bids.dataset` (loading), :mod:`~helpers.bids.validate` (every rule at once),
:mod:`~helpers.bids.summaries` (what the data chapter shows).
"""

from .dataset import Dataset, load_dataset
from .images import read_image
from .rules import CONDITIONS, EVENT_COLUMNS, RATING_RANGE, REQUIRED_EVENT_COLUMNS, SCS_COLUMNS, VOXEL_MM
from .summaries import PAPER_DESIGN, design_summary, is_twin, motion_table, ratings_table, sample_summary
from .tables import read_tsv
from .validate import validate_dataset

__all__ = [
    "Dataset",
    "sample_summary",
    "load_dataset",
    "read_tsv",
    "read_image",
    "validate_dataset",
    "design_summary",
    "ratings_table",
    "motion_table",
    "is_twin",
    "PAPER_DESIGN",
    "SCS_COLUMNS",
    "EVENT_COLUMNS",
    "REQUIRED_EVENT_COLUMNS",
    "CONDITIONS",
    "RATING_RANGE",
    "VOXEL_MM",
]
