"""The preprocessing stage: every participant's raw BIDS → fMRIPrep-style derivatives, resumable.

One participant's work is :mod:`.participant` (realign, coregister, normalise, one resampling to
MNI, smooth).  The stage runs it through the stage skeleton (:func:`helpers.participant_stage.run_stage`):
each participant's inputs are located and checksummed (:func:`.participant.input_record`), and its
folder is reused when its ``provenance.json`` records the same parameters, input checksums and code
fingerprint and every output it lists exists (:class:`helpers.participant_stage.ProvenanceStore`);
otherwise it is computed, its folder written to a temporary sibling and renamed when complete.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd

from ..cache import make_key
from ..execution import execution_doc
from ..io import write_json
from ..layout import SPACE, derivative_paths
from ..participant_stage import ProvenanceStore, Task, run_stage
from ..versions import package_versions
from .inputs import find_inputs, find_participants
from .participant import DEFAULTS, input_record, preprocess_participant, process, with_defaults
from .resample import mni_grid
from .writer import SOFTWARE

__all__ = [
    "DEFAULTS",
    "SPACE",
    "derivative_paths",
    "mni_grid",
    "preprocess_participant",
    "run_preprocessing",
    "is_complete",
]

_HINT = 'stage preprocessing; on_error = "skip" records the participant in the exclusions and continues'


def _key(parameters, inputs) -> str:
    """The key of a participant's derivatives: its parameters and input record (as JSON stores them)."""
    return make_key(json.loads(json.dumps(parameters)), inputs)


def _store(out_dir, params: dict) -> ProvenanceStore:
    """The derivatives folder as a store: a participant's ``provenance.json`` stands for its key."""
    return ProvenanceStore(
        lambda p: derivative_paths(out_dir, p, params["task"], params["resolution"])["provenance"],
        lambda record: _key(record.get("parameters"), record.get("inputs")),
    )


def is_complete(out_dir: str | Path, participant: str, params: dict, inputs=None) -> bool:
    """True if ``participant``'s outputs exist and its provenance matches ``params``.

    Given ``inputs``, the recorded input checksums and code fingerprint must match too (new data, code
    or libraries mean recomputation).

    Parameters
    ----------
    out_dir : path
        Derivatives folder of the stage.
    participant : str
        ``sub-XX``.
    params : dict
        Complete stage parameters (:data:`DEFAULTS` with overrides).
    inputs : RawInputs or None, default None
        The participant's raw inputs (:func:`.inputs.find_inputs`); None skips the checksum check.

    Returns
    -------
    bool
    """
    store = _store(out_dir, params)
    prov = store.locate(participant)
    if inputs is not None:
        recorded = input_record(inputs)
    elif prov.is_file():
        recorded = json.loads(prov.read_text()).get("inputs")
    else:
        return False
    return store.get(_key(params, recorded), participant)[0]


def _plan(participant: str, bids_dir, params: dict) -> Task:
    """Locate and checksum a participant's inputs: the task and its key."""
    inputs = find_inputs(bids_dir, participant, params["task"])
    record = input_record(inputs)
    return Task(participant, (inputs, record), _key(params, record))


def _compute(work, out_dir: str, params: dict) -> dict:
    inputs, record = work
    return process(inputs, out_dir, params, record)


@execution_doc("n_jobs", "on_error", "progress", "backend", "scheduler")
def run_preprocessing(
    bids_dir: str | Path,
    out_dir: str | Path,
    participants: list[str] | None = None,
    n_jobs: int = 1,
    on_error: str = "stop",
    progress: bool = True,
    backend: str = "processes",
    scheduler: str = "",
    **params,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Preprocess every participant (in parallel, progress bar, resumable).

    Parameters
    ----------
    bids_dir, out_dir : path
        Raw BIDS dataset; derivatives folder.
    participants : list of str or None, default None
        Participants to preprocess (None: every ``sub-*`` folder).
    {execution_parameters}
    **params
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    summary : DataFrame
        ``participant_id, skipped`` + seconds per step (``skipped``: complete derivatives with the
        same provenance existed, :func:`is_complete`).
    exclusions : DataFrame
        ``participant_id, stage, reason`` for participants that failed (``on_error="skip"``).

    Raises
    ------
    ValueError
        If ``on_error`` is not "stop" or "skip", or ``params`` has an unknown key.
    helpers.execution.ParticipantError
        With ``on_error="stop"``, when a participant fails.
    """
    params = with_defaults(params)  # an unknown parameter stops the run before any work
    participants = participants or find_participants(bids_dir)
    _describe(out_dir)
    run = run_stage(
        "preprocessing",
        participants,
        functools.partial(_plan, bids_dir=bids_dir, params=params),
        _compute,
        _store(out_dir, params),
        on_error=on_error,
        hint=_HINT,
        backend=backend,
        n_jobs=n_jobs,
        scheduler=scheduler,
        progress=progress,
        shared=dict(out_dir=str(out_dir), params=params),
    )
    rows = [
        {"participant_id": p, "skipped": p not in run.computed, **(r["seconds"] if p in run.computed else {})}
        for p, r in run.results.items()
    ]
    summary = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["participant_id", "skipped"])
    return summary, run.exclusions()


def _describe(out_dir) -> None:
    """The derivatives' ``dataset_description.json``."""
    write_json(
        {
            "Name": "helpers.preprocess derivatives",
            "BIDSVersion": "1.8.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "helpers.preprocess", "Version": package_versions(SOFTWARE)["helpers"]}],
        },
        Path(out_dir) / "dataset_description.json",
    )
