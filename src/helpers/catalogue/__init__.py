"""The bad-input catalogue: every mistake a re-executor can make, and the message it produces.

Each :class:`Case` breaks a *copy* of a small part of a dataset (the digital twin, or any dataset
of the same layout) and calls the function of the pipeline that meets that input first.  The same
list drives the test module ``tests/test_catalogue.py`` (which asserts the exception type and the
key words of each message) and the book's page on bad input (``notebooks/98_bad_input.ipynb``,
which shows the real messages), so the page can never drift from the code.

:func:`run_case` returns the exception a case raises, :func:`matches` checks it against the
documentation, and :func:`catalogue_table` runs them all.

Modules: :mod:`~helpers.catalogue.case` (one entry), :mod:`~helpers.catalogue.breakers` (how a copy of a
dataset is broken), :mod:`~helpers.catalogue.cases` (the list itself, gathered from the ``cases_*``
modules, one per kind of input).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from .case import Case
from .cases import CASES

__all__ = ["Case", "CASES", "run_case", "matches", "catalogue_table"]


def run_case(case: Case, dataset: str | Path, workdir: str | Path) -> BaseException | None:
    """Run ``case`` on a copy of ``dataset`` made in ``workdir``; return what it raised (None if nothing).

    Parameters
    ----------
    case : Case
        The bad input to try.
    dataset : path-like
        A valid dataset (left unchanged: the case works on a copy).
    workdir : path-like
        Scratch folder; the case's sub-folder ``<workdir>/<case.id>`` is removed afterwards.

    Returns
    -------
    BaseException or None
        The exception the pipeline raised.
    """
    work = Path(workdir) / case.id
    work.mkdir(parents=True, exist_ok=True)
    try:
        case.run(Path(dataset), work)
    except Exception as err:  # the point of the catalogue: capture the message the user sees
        return err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return None


def matches(case: Case, err: BaseException | None) -> bool:
    """True if ``err`` is the documented error: same type and every key word in its message.

    Parameters
    ----------
    case : Case
        The case (``error`` and ``keywords``).
    err : BaseException or None
        What :func:`run_case` returned; None never matches.

    Returns
    -------
    bool
    """
    return err is not None and type(err) is case.error and all(word in str(err) for word in case.keywords)


def _case_row(case_id: str, dataset: str | Path, workdir: str | Path) -> dict:
    """The catalogue's row of one case (by id, so that a worker process finds it in its own :data:`CASES`)."""
    case = next(c for c in CASES if c.id == case_id)
    err = run_case(case, dataset, workdir)
    message = "(no error raised)" if err is None else str(err)
    for prefix in (str(Path(workdir).resolve()), str(workdir)):
        message = message.replace(prefix, "…")
    return {
        "stage": case.stage,
        "bad input": case.bad_input,
        "error": "none" if err is None else type(err).__name__,
        "message": message,
        "fix": case.fix,
        "as documented": matches(case, err),
    }


def catalogue_table(dataset: str | Path, workdir: str | Path, n_jobs: int = 1) -> pd.DataFrame:
    """Every case run on ``dataset``: stage, bad input, error type, the message seen, how to fix it.

    ``as documented`` says whether the error had the documented type and key words (the test
    module asserts it for every case); paths inside ``workdir`` are shown as ``…``.

    Parameters
    ----------
    dataset : path-like
        A valid dataset (e.g. the tiny twin).
    workdir : path-like
        Scratch folder (:func:`run_case`; each case works in its own sub-folder).
    n_jobs : int, default 1
        Worker processes (:func:`helpers.execution.map_participants`); the table does not depend on it.

    Returns
    -------
    DataFrame
        One row per case of :data:`CASES`, in their order: ``stage, bad input, error, message, fix,
        as documented``.
    """
    from ..execution import map_participants

    ids = [case.id for case in CASES]
    rows = map_participants(
        _case_row,
        ids,
        backend="processes" if n_jobs > 1 else "serial",
        n_jobs=n_jobs,
        desc="bad-input cases",
        progress=False,
        shared={"dataset": dataset, "workdir": workdir},
    )
    return pd.DataFrame(rows)
