"""One execution layer for per-participant work: serial, local processes, or a Dask cluster.

:func:`map_participants` applies a function to one item per participant and returns the
results **in input order**, whatever the backend:

``"serial"``
    a plain loop in this process (debugging, tiny data);
``"processes"``
    ``n_jobs`` local worker processes (joblib's loky backend);
``"dask"``
    a ``dask.distributed`` cluster: the scheduler at ``scheduler`` (an address such as
    ``"tcp://10.0.0.5:8786"``, a scheduler-file path ending in ``.json``, or a
    ``distributed.Client``), or, when ``scheduler`` is empty, a ``LocalCluster`` of
    ``n_jobs`` single-threaded worker processes started for the call and closed after it.

Every mode shows a tqdm progress bar (text on stderr, in a terminal and inside notebooks) that
advances as participants finish.  An exception raised for one participant is re-raised as
:class:`ParticipantError`, whose message starts with the participant's id (the original
exception type and message follow).  Results do not depend on the backend as long as
``func`` is deterministic (per-participant seeds, never a shared random stream).

:func:`timed` records the wall time of a stage on a :class:`helpers.provenance.Chapter`
(shown in the chapter's provenance footer) or in a plain dict.

:func:`single_threaded_blas` keeps BLAS at one thread while any worker of the process computes: the
results depend on the thread count (OpenBLAS takes a different kernel for small matrices on one
thread; up to 3e-12 apart on the tiny twin), so every backend must compute on one thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .shared_docs import EXECUTION_PARAMETERS, execution_doc

__all__ = [
    "BACKENDS",
    "EXCLUSION_COLUMNS",
    "EXECUTION_PARAMETERS",
    "ON_ERROR",
    "ParticipantError",
    "check_on_error",
    "execution_doc",
    "failure_reason",
    "map_participants",
    "record_exclusions",
    "single_threaded_blas",
    "timed",
]

log = logging.getLogger(__name__)

#: The backends :func:`map_participants` accepts.
BACKENDS = ("serial", "processes", "dask")

#: What a failing participant does to a stage (``helpers.params.SCHEMA["on_error"]``): ``"stop"`` the
#: run with a :class:`ParticipantError`, or ``"skip"`` it and record it in the exclusions.
ON_ERROR = ("stop", "skip")

#: Columns of ``exclusions.tsv``: who was left out, at which stage, and why.
EXCLUSION_COLUMNS = ["participant_id", "stage", "reason"]


def check_on_error(on_error: str) -> None:
    """Raise ``ValueError`` unless ``on_error`` is one of :data:`ON_ERROR`.

    Parameters
    ----------
    on_error : str
        The value to check (``helpers.params.SCHEMA["on_error"]``).

    Raises
    ------
    ValueError
        ``on_error`` is not ``"stop"`` or ``"skip"``.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")


def failure_reason(err: BaseException) -> str:
    """The reason recorded for a skipped participant: ``"<ExceptionType>: <message>"``.

    Parameters
    ----------
    err : BaseException
        The exception the participant's work raised.

    Returns
    -------
    str
        ``"<ExceptionType>: <message>"``, the ``reason`` column of ``exclusions.tsv``.
    """
    return f"{type(err).__name__}: {err}"


def record_exclusions(new, path, stage: str):
    """Merge one stage's exclusions into the exclusions TSV at ``path``; returns the merged table.

    Rows of ``stage`` and of its sub-stages (``"<stage>/<detail>"``) are replaced by ``new``
    (columns ``participant_id, stage, reason``); every other stage's rows are kept.  Sorted by stage,
    then participant; written atomically.  :func:`helpers.exclusions.apply` reads the file and leaves
    every participant of a stage-level row out of the group analysis.

    Parameters
    ----------
    new : pandas.DataFrame
        This run's exclusions of ``stage`` (columns :data:`EXCLUSION_COLUMNS`; may be empty).
    path : path-like
        The exclusions TSV (created when absent).
    stage : str
        The stage whose rows ``new`` replaces (e.g. ``"connectivity"``).

    Returns
    -------
    pandas.DataFrame
        The merged table, as written.

    Raises
    ------
    ValueError
        ``new`` lacks a column, or holds a row of another stage (it would survive the next replacement).
    """
    from pathlib import Path

    import pandas as pd

    from .io import write_tsv

    missing = [c for c in EXCLUSION_COLUMNS if c not in new.columns]
    if missing:
        raise ValueError(f"exclusions of stage {stage!r}: missing column(s) {missing}")
    foreign = new[(new["stage"] != stage) & ~new["stage"].astype(str).str.startswith(f"{stage}/")]
    if not foreign.empty:
        raise ValueError(
            f"exclusions of stage {stage!r}: rows of stage(s) {sorted(set(foreign['stage']))} "
            f"(rule: a stage records its own rows, {stage!r} or {stage + '/<detail>'!r})"
        )
    path = Path(path)
    old = (
        pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        if path.is_file()
        else pd.DataFrame(columns=EXCLUSION_COLUMNS)
    )
    mine = (old["stage"] == stage) | old["stage"].str.startswith(f"{stage}/")
    merged = pd.concat([old[~mine], new], ignore_index=True)[EXCLUSION_COLUMNS]
    merged = merged.sort_values(["stage", "participant_id"], kind="stable", ignore_index=True)
    write_tsv(merged, path)
    return merged


class ParticipantError(RuntimeError):
    """An exception raised while processing one participant (picklable across processes).

    Attributes
    ----------
    participant : str
        Id of the participant whose work failed.
    message : str
        ``"<OriginalType>: <original message>"``.
    """

    def __init__(self, participant: str, message: str):
        super().__init__(participant, message)
        self.participant = participant
        self.message = message

    def __str__(self) -> str:
        return f"participant {self.participant}: {self.message}"


_BLAS_LOCK = threading.Lock()
_BLAS_STATE: dict = {"users": 0, "limiter": None}


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """One BLAS and OpenMP thread in this process while any caller is inside (re-entrant across threads).

    ``threadpoolctl.threadpool_limits`` is process-wide and restores the previous limit on exit, so
    two worker *threads* (a threaded Dask worker) each entering their own would let the first to
    leave lift the limit under the other, which then computes on several threads and gets other
    last bits. Here the first caller sets the limit and the last one to leave restores it.
    ``numpy.linalg`` and ``scipy.linalg`` are imported first: threadpoolctl only limits libraries
    already loaded.

    Yields
    ------
    None
    """
    import numpy.linalg  # noqa: F401  (load numpy's and scipy's own BLAS before the limit is set)
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    with _BLAS_LOCK:
        if _BLAS_STATE["users"] == 0:
            _BLAS_STATE["limiter"] = threadpool_limits(limits=1)
        _BLAS_STATE["users"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_STATE["users"] -= 1
            if _BLAS_STATE["users"] == 0:
                _BLAS_STATE.pop("limiter").restore_original_limits()
                _BLAS_STATE["limiter"] = None


def _call(func: Callable, participant: str, item: Any, shared: dict | None = None):
    """Run ``func(item, **shared)``; wrap any exception so that it names the participant."""
    try:
        return func(item, **(shared or {}))
    except ParticipantError:
        raise
    except Exception as err:  # re-raised with the participant's id; the original is chained locally
        raise ParticipantError(participant, f"{type(err).__name__}: {err}") from err


def _check(backend: str, n_jobs: int) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")


@execution_doc("backend", "n_jobs", "scheduler", "progress")
def map_participants(
    func: Callable,
    items: Sequence,
    ids: Sequence[str] | None = None,
    backend: str = "serial",
    n_jobs: int = 1,
    scheduler: Any = "",
    desc: str = "participants",
    progress: bool | None = True,
    shared: dict | None = None,
) -> list:
    """Apply ``func`` to every item, serially, in local processes or on a Dask cluster.

    Parameters
    ----------
    func : callable
        ``func(item) -> result``; must be picklable (a module-level function or a
        ``functools.partial`` of one) for the ``processes`` and ``dask`` backends.
    items : sequence
        One item per participant.
    ids : sequence of str, default None
        Participant ids (for error messages); None: ``str(item)``.
    {execution_parameters:backend,n_jobs,scheduler}
    desc : str, default "participants"
        Label of the progress bar.
    {execution_parameters:progress}
    shared : dict, default None
        Keyword arguments common to every call (``func(item, **shared)``), sent once per worker
        rather than once per participant: joblib memory-maps their large arrays, Dask
        broadcasts them to the workers; None: none.

    Returns
    -------
    list
        ``[func(item) for item in items]``, in input order.

    Raises
    ------
    ParticipantError
        ``func`` raised for a participant (the first failure stops the run).
    ValueError
        Unknown backend, invalid ``n_jobs``, or ``ids`` of the wrong length.
    """
    _check(backend, n_jobs)
    items = list(items)
    ids = [str(i) for i in (ids if ids is not None else items)]
    if len(ids) != len(items):
        raise ValueError(f"{len(ids)} ids for {len(items)} items")
    if not items:
        return []
    from tqdm import tqdm

    bar = tqdm(total=len(items), desc=desc, disable=None if progress is None else not progress)
    started = time.perf_counter()
    # One BLAS thread for the whole call (results depend on the count); set here, in the calling thread,
    # it also holds for the worker threads of an in-process Dask cluster.
    try:
        with single_threaded_blas():
            if backend == "serial" or (backend == "processes" and n_jobs == 1):
                results = []
                for pid, item in zip(ids, items):
                    results.append(_call(func, pid, item, shared))
                    bar.update()
            elif backend == "processes":
                results = _run_processes(func, items, ids, n_jobs, shared, bar)
            else:
                results = _run_dask(func, items, ids, n_jobs, scheduler, shared, bar)
    finally:
        bar.close()
    log.info("%s: %d participant(s) in %.1f s (%s)", desc, len(items), time.perf_counter() - started, backend)
    return results


def _run_processes(func, items, ids, n_jobs, shared, bar) -> list:
    from joblib import Parallel, delayed

    jobs = (delayed(_call)(func, pid, item, shared) for pid, item in zip(ids, items))
    results = []
    for result in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):  # ordered
        results.append(result)
        bar.update()
    return results


@contextlib.contextmanager
def _client(scheduler, n_jobs: int) -> Iterator:
    """A ``distributed.Client`` for ``scheduler`` (closed on exit unless it was passed in)."""
    from distributed import Client, LocalCluster

    if not isinstance(scheduler, str):  # an existing Client: the caller owns it
        yield scheduler
        return
    if scheduler.endswith(".json"):
        with Client(scheduler_file=scheduler) as client:
            yield client
    elif scheduler:
        with Client(scheduler) as client:
            yield client
    else:
        import os

        workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client


def _run_dask(func, items, ids, n_jobs, scheduler, shared, bar) -> list:
    from distributed import as_completed

    with _client(scheduler, n_jobs) as client:
        common = client.scatter([shared], broadcast=True)[0] if shared else None  # one copy per worker
        futures = client.map(_call, [func] * len(items), ids, items, shared=common, pure=False)
        try:
            for future in as_completed(futures):
                if future.status == "error":
                    future.result()  # raises the ParticipantError
                bar.update()
            return client.gather(futures)
        finally:
            client.cancel(futures)


@contextlib.contextmanager
def timed(recorder, label: str) -> Iterator[None]:
    """Record the wall time of the ``with`` block as stage ``label``.

    Parameters
    ----------
    recorder : helpers.provenance.Chapter, dict or None
        A chapter (its ``stage`` method; the time appears in the chapter's provenance footer), a
        dict (seconds added under ``label``, summed over repeated blocks) or None (logged only).
    label : str
        Name of the stage.

    Yields
    ------
    None
        The time is recorded when the block exits, also when it raises.
    """
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        if recorder is None:
            pass
        elif isinstance(recorder, dict):
            recorder[label] = recorder.get(label, 0.0) + seconds
        else:
            recorder.stage(label, seconds)
        log.info("stage %s: %.2f s", label, seconds)
