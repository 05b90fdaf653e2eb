"""The skeleton of every per-participant stage: plan → stored result or compute → store → exclusions.

Preprocessing, connectivity, the training study and the twin all run through :func:`run_stage`:

1. **plan** — ``plan(participant)`` finds the participant's inputs and returns a :class:`Task`: the
   work a worker receives and the key(s) its result is stored under (:func:`helpers.cache.make_key`
   of the inputs, the parameters and :func:`helpers.cache.code_fingerprint` of the code the stage
   imports).  A participant whose plan fails is excluded (``"skip"``) or stops the run (``"stop"``);
2. **look up** — each key in the ``store``: a stored result is reused;
3. **compute** — the missing work through :func:`helpers.execution.map_participants`, one BLAS
   thread per worker; under ``"skip"`` an exception becomes a :class:`Failed` result;
4. **store** — each worker stores its participant as soon as it finishes, so a killed run resumes
   where it stopped.  A failure is not stored: the next run tries the participant again (a cause
   outside the inputs — memory, a file still being copied — must not outlive itself);
5. **exclusions** — :meth:`StageRun.exclusions`: who was left out and why (never silent).

A task's result is either one value under one key, or (``Task.key`` a dict) a dict of *parts*
each under its own key — connectivity stores each measure apart, so a participant with some
measures stored computes only the others (``compute(work, missing_parts)``).

Two stores: :class:`helpers.cache.Cache` (pickled results; connectivity, training) and
:class:`ProvenanceStore` (a folder of files written atomically by the compute, complete when its
``provenance.json`` records the key; preprocessing).  The twin runs without a store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .execution import (
    EXCLUSION_COLUMNS,
    ParticipantError,
    check_on_error,
    execution_doc,
    failure_reason,
    map_participants,
    single_threaded_blas,
    timed,
)

__all__ = ["Failed", "Task", "StageRun", "ProvenanceStore", "run_stage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failed:
    """A participant's failure under ``on_error="skip"`` (never stored: the next run tries again).

    Parameters
    ----------
    reason : str
        ``"<ExceptionType>: <message>"`` (:func:`helpers.execution.failure_reason`).
    """

    reason: str


@dataclass(frozen=True)
class Task:
    """One participant's work and the store key(s) of its result.

    Parameters
    ----------
    participant : str
        The participant's id (error messages, exclusions).
    work : object
        What ``compute`` receives (picklable for the ``processes`` and ``dask`` backends).
    key : str or dict of str to str, default ""
        The result's store key, or ``{part: key}`` for a result stored in parts (then
        ``compute(work, missing_parts)`` returns ``{part: value}`` for the parts not stored yet).
    """

    participant: str
    work: Any
    key: str | Mapping[str, str] = ""

    @property
    def parted(self) -> bool:
        """Whether the result is stored in parts (``key`` is a dict)."""
        return isinstance(self.key, Mapping)


@dataclass
class StageRun:
    """What :func:`run_stage` gives back.

    Attributes
    ----------
    stage : str
        The stage's name (the ``stage`` column of its exclusions).
    tasks : dict
        ``{participant: Task}`` of every participant whose plan succeeded.
    results : dict
        ``{participant: result}`` of every participant not excluded, in participant order (a dict
        ``{part: value}`` for a parted task).
    excluded : dict
        ``{participant: reason}`` of every excluded participant, in participant order.
    computed : list of str
        Participants computed by this run (the others came from the store).
    """

    stage: str
    tasks: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)
    computed: list = field(default_factory=list)

    def exclusions(self):
        """The exclusions as a table (columns :data:`helpers.execution.EXCLUSION_COLUMNS`).

        Returns
        -------
        pandas.DataFrame
            One row ``participant_id, stage, reason`` per excluded participant.
        """
        import pandas as pd

        rows = [(p, self.stage, reason) for p, reason in self.excluded.items()]
        return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS)


class ProvenanceStore:
    """Results that are a participant's folder of files, complete when its ``provenance.json`` says so.

    The compute writes the whole folder atomically (:func:`helpers.io.atomic_path`), its
    ``provenance.json`` last; nothing is stored by :meth:`put` (a failed participant leaves no
    folder and is tried again by the next run).

    Parameters
    ----------
    locate : callable
        ``locate(participant) -> Path`` of the participant's ``provenance.json``.
    key_of : callable
        ``key_of(record) -> str``: the key a provenance record stands for (the record lists the
        folder's files, relative to it, under ``"outputs"``).
    """

    def __init__(self, locate: Callable[[str], Path], key_of: Callable[[dict], str]):
        self.locate = locate
        self.key_of = key_of

    def get(self, key: str, participant: str | None = None) -> tuple[bool, Any]:
        """``(True, record)`` when the folder records ``key`` and every listed output exists.

        Parameters
        ----------
        key : str
            The task's key.
        participant : str, default None
            Whose folder (required; the key alone does not locate it).

        Returns
        -------
        tuple of (bool, dict or None)
            The provenance record on a hit.
        """
        path = Path(self.locate(participant))
        if not path.is_file():
            return False, None
        record = json.loads(path.read_text())
        complete = all((path.parent / rel).is_file() for rel in record.get("outputs", []))
        if complete and self.key_of(record) == key:
            return True, record
        return False, None

    def put(self, key: str, value: Any, participant: str | None = None) -> None:
        """Nothing to do: the compute wrote the folder, atomically (see the class).

        Parameters
        ----------
        key : str
            The task's key.
        value : object
            The compute's result (or a :class:`Failed`).
        participant : str, default None
            Whose folder.
        """


@dataclass(frozen=True)
class _Job:
    participant: Any  # as given to run_stage (the results' key)
    task: Task
    missing: tuple | None  # the parts to compute (parted tasks)


def _attempt(job: _Job, compute: Callable, store, on_error: str, context: dict):
    """Worker: compute one task (one BLAS thread), store it at once (resume), return the value."""
    task = job.task
    try:
        with single_threaded_blas():  # also in worker processes: the same bits on every backend
            if job.missing is None:
                value = compute(task.work, **context)
            else:
                value = compute(task.work, job.missing, **context)
    except Exception as err:  # "skip": any failure of this participant is recorded, never silent
        if on_error == "stop":
            raise
        return Failed(failure_reason(err))  # not stored: the next run tries again
    if store is not None:
        if job.missing is None:
            store.put(task.key, value, job.participant)
        else:
            for part in job.missing:
                store.put(task.key[part], value[part], job.participant)
    return value


def _with_hint(participant: str, message: str, hint: str) -> ParticipantError:
    return ParticipantError(participant, f"{message} ({hint})" if hint else message)


def _plan(run: StageRun, participants, plan: Callable, on_error: str, hint: str) -> None:
    for p in participants:
        try:
            run.tasks[p] = plan(p)
        except Exception as err:  # inputs missing or invalid: "skip" records it
            if on_error == "stop":
                raise _with_hint(p, failure_reason(err), hint) from err
            run.excluded[p] = failure_reason(err)


def _look_up(run: StageRun, store) -> list[_Job]:
    """Stored results into ``run.results``; a :class:`_Job` for every task with something missing."""
    jobs = []
    for p, task in run.tasks.items():
        keys = task.key if task.parted else {None: task.key}
        stored = {}
        for part, key in keys.items():
            hit, value = store.get(key, p) if store is not None else (False, None)
            if hit:
                stored[part] = value
        missing = tuple(part for part in keys if part not in stored)
        if missing:
            jobs.append(_Job(p, task, missing if task.parted else None))
        run.results[p] = stored if task.parted else stored.get(None)
    return jobs


def _sorted(mapping: dict, participants) -> dict:
    return {p: mapping[p] for p in participants if p in mapping}


@execution_doc("on_error", "backend", "n_jobs", "scheduler", "progress")
def run_stage(
    stage: str,
    participants: Sequence[str],
    plan: Callable[[str], Task],
    compute: Callable,
    store=None,
    on_error: str = "stop",
    hint: str = "",
    backend: str = "serial",
    n_jobs: int = 1,
    scheduler: Any = "",
    progress: bool | None = True,
    shared: dict | None = None,
    stages=None,
) -> StageRun:
    """Run one per-participant stage: plan, stored results, the missing work, exclusions.

    Parameters
    ----------
    stage : str
        The stage's name: progress bar, wall-time labels and the ``stage`` column of its exclusions.
    participants : sequence of str
        Participant ids, in the order of the results.
    plan : callable
        ``plan(participant) -> Task``, in this process: finds the inputs and makes the key(s).
    compute : callable
        ``compute(work, **shared)`` (or ``compute(work, missing_parts, **shared)`` for a parted
        :class:`Task`), in a worker: a module-level function for the ``processes`` and ``dask``
        backends.
    store : helpers.cache.Cache, ProvenanceStore or None, default None
        Where results are looked up and stored (``get(key, participant)`` / ``put(key, value,
        participant)``); None: everything is computed, nothing is kept.
    {execution_parameters:on_error}
    hint : str, default ""
        Appended in brackets to the message of a ``"stop"`` error (e.g. how to skip instead).
    {execution_parameters:backend,n_jobs,scheduler,progress}
    shared : dict, default None
        Keyword arguments of every ``compute`` call, sent once per worker (large arrays, configs).
    stages : helpers.provenance.Chapter or dict, default None
        Receives the wall time of the plan and look-up, and of the per-participant work
        (:func:`helpers.execution.timed`).

    Returns
    -------
    StageRun
        Tasks, results (stored or computed), exclusions and who was computed.

    Raises
    ------
    ValueError
        ``on_error`` is not ``"stop"`` or ``"skip"``.
    helpers.execution.ParticipantError
        ``on_error="stop"`` and a participant's plan or compute failed; the message starts with
        its id.
    """
    check_on_error(on_error)
    participants = list(participants)
    run = StageRun(stage)
    with timed(stages, f"{stage}: locate files and cache lookup"):
        _plan(run, participants, plan, on_error, hint)
        jobs = _look_up(run, store)
    log.info("%s: %d participant(s) to compute, %d stored", stage, len(jobs), len(run.results) - len(jobs))
    with timed(stages, f"{stage}: per-participant work"):
        try:
            values = map_participants(
                _attempt,
                jobs,
                ids=[str(job.participant) for job in jobs],
                backend=backend,
                n_jobs=n_jobs,
                scheduler=scheduler,
                desc=stage,
                progress=progress,
                shared=dict(compute=compute, store=store, on_error=on_error, context=shared or {}),
            )
        except ParticipantError as err:
            raise _with_hint(err.participant, err.message, hint) from err
    for job, value in zip(jobs, values):
        p = job.participant
        run.computed.append(p)
        if isinstance(value, Failed):
            run.excluded[p] = value.reason
            del run.results[p]
        else:
            run.results[p] = {**run.results[p], **value} if job.task.parted else value
    run.results, run.excluded = _sorted(run.results, participants), _sorted(run.excluded, participants)
    for p, reason in run.excluded.items():
        log.warning("excluding %s from %s: %s", p, stage, reason)
    return run
