"""Executing the notebooks with Papermill, in the book's order, each only when it is out of date."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from ..io import atomic_path, write_json
from ..params import PATH_KEYS, resolve_params
from ..paths import project_root
from .cells import _hide_parameter_cells, missing_glue_keys, run_conditions, select_cells
from .fingerprints import code_version, data_fingerprint
from .parameters import check_unknown_keys, declared_parameters, load_params, params_for
from .toc import EXECUTED, book_notebooks
from .twin import ensure_twin

log = logging.getLogger(__package__)

#: Where a failing notebook is kept for inspection (it is removed from the book).
FAILED = Path("build/failed")
#: The notebook sources as executed (cells for other data dropped), kept for inspection.
SELECTED = Path("build/selected")


class NotebookFailed(RuntimeError):
    """A notebook raised an error while executing."""


def _failing_cell(path: Path) -> str:
    """The failing cell, named by its first line (cell numbers differ between the source, the cells kept
    for this data and the executed copy with its injected parameters)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            return f"the cell starting {cell.source.strip().splitlines()[0][:60]!r}"
    return "an unknown cell"


def execute_notebook(
    stem: str,
    params: dict,
    root: Path,
    timeout: int,
    upstream: str,
    conditions: dict[str, bool] | None = None,
) -> tuple[str, bool]:
    """Execute one notebook unless its stamp is current; returns (stamp, executed?).

    Cells whose tags do not hold under ``conditions`` (:func:`select_cells`) are dropped first.  The
    stamp hashes the notebook's source, its parameters, :func:`code_version`, ``upstream`` and
    ``conditions``; the executed notebook is written atomically to :data:`EXECUTED`.

    Parameters
    ----------
    stem : str
        Notebook name under ``notebooks/`` without ``.ipynb``.
    params : dict
        The resolved parameters of the run (:func:`params_for` selects the notebook's).
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).
    timeout : int
        Seconds a cell may run (papermill's ``execution_timeout``).
    upstream : str
        Fingerprint of the data and of the chapters the notebook reads.
    conditions : dict of str to bool, default None
        :func:`run_conditions`; default None: no cell is dropped.

    Returns
    -------
    tuple of (str, bool)
        The stamp and whether the notebook was executed.

    Raises
    ------
    ValueError
        The notebook does not exist, or a declared path parameter is not resolved.
    NotebookFailed
        A cell raised, or a glue key the prose cites was not glued (the notebook is kept under
        :data:`FAILED`).
    """
    import nbformat
    import papermill as pm

    src = root / "notebooks" / f"{stem}.ipynb"
    if not src.is_file():
        raise ValueError(f"_toc.yml lists {EXECUTED / stem} but notebooks/{stem}.ipynb does not exist")
    chosen = params_for(src, params)
    unresolved = [n for n in declared_parameters(src) if n in PATH_KEYS and n not in chosen]
    if unresolved:  # a chapter would fall back to its own default, which may be the twin's
        raise ValueError(
            f"notebooks/{stem}.ipynb: path parameter(s) {', '.join(unresolved)} not resolved "
            "(rule: the runner passes every declared path; see helpers.params.resolve_params)"
        )
    conditions = conditions or {}
    stamp = hashlib.sha256(
        json.dumps(
            [src.read_bytes().hex(), chosen, code_version(root), upstream, conditions],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    dest = root / EXECUTED / f"{stem}.ipynb"
    stamp_file = root / EXECUTED / ".stamps" / f"{stem}.json"
    if dest.is_file() and stamp_file.is_file() and json.loads(stamp_file.read_text()).get("stamp") == stamp:
        log.info("%s: unchanged, not re-executed", stem)
        return stamp, False
    log.info("%s: executing with %s", stem, chosen)
    started = time.perf_counter()
    failed = root / FAILED / f"{stem}.ipynb"
    dest.unlink(missing_ok=True)
    stamp_file.unlink(missing_ok=True)
    selected = root / SELECTED / f"{stem}.ipynb"
    selected.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(select_cells(nbformat.read(src, as_version=4), conditions), selected)
    with atomic_path(dest) as tmp:
        try:
            pm.execute_notebook(
                str(selected),
                str(tmp),
                parameters=chosen,
                cwd=str(root),
                kernel_name="python3",
                execution_timeout=timeout,
                progress_bar=False,
                log_output=False,
            )
        except pm.PapermillExecutionError as err:
            failed.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(failed)
            raise NotebookFailed(
                f"notebook notebooks/{stem}.ipynb failed in {_failing_cell(failed)} "
                f"({err.ename}: {err.evalue}); "
                f"the partial notebook is kept at {FAILED / (stem + '.ipynb')}"
            ) from err
        missing = missing_glue_keys(nbformat.read(tmp, as_version=4))
        if missing:
            failed.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(failed)
            listed = ", ".join(f"{key!r} (in the Markdown cell starting {line!r})" for line, key in missing)
            raise NotebookFailed(
                f"notebook notebooks/{stem}.ipynb uses glue key(s) that nothing glued: {listed} "
                f"(rule: a key the prose cites is glued on every kind of data); the executed "
                f"notebook is kept at {FAILED / (stem + '.ipynb')}"
            )
        _hide_parameter_cells(tmp)
    failed.unlink(missing_ok=True)
    write_json({"stamp": stamp, "seconds": round(time.perf_counter() - started, 1)}, stamp_file)
    return stamp, True


def declared_dependencies(notebook: Path) -> list[str] | None:
    """Chapters whose outputs ``notebook`` reads, from its metadata ``helpers.depends_on``.

    Parameters
    ----------
    notebook : pathlib.Path
        The source notebook.

    Returns
    -------
    list of str or None
        Chapter stems; ``None`` (no declaration) means every chapter before it: the safe default.

    Raises
    ------
    ValueError
        ``helpers.depends_on`` is not a list of strings.
    """
    meta = json.loads(notebook.read_text()).get("metadata", {})
    deps = meta.get("helpers", {}).get("depends_on")
    if deps is not None and not (isinstance(deps, list) and all(isinstance(d, str) for d in deps)):
        raise ValueError(
            f"{notebook}: metadata helpers.depends_on must be a list of chapter names, got {deps!r}"
        )
    return deps


def _needs(stem: str, deps: list[str] | None, order: list[str]) -> list[str]:
    """The chapters of this book ``stem`` depends on, in book order (all earlier ones when undeclared)."""
    earlier = order[: order.index(stem)]
    if deps is None:
        return earlier
    late = [d for d in deps if d in order and d not in earlier]
    if late:
        raise ValueError(
            f"notebooks/{stem}.ipynb depends on {', '.join(late)}, which _toc.yml lists after it"
        )
    return [d for d in earlier if d in deps]  # a dependency left out of this book is ignored


def _upstream(stem: str, deps: list[str] | None, stamps: dict[str, str], order: list[str]) -> list[str]:
    """Stamps of the chapters ``stem`` depends on (all earlier ones when undeclared), in book order."""
    return [stamps[d] for d in _needs(stem, deps, order) if d in stamps]


def _side_lane_init() -> None:
    """A side-lane worker process: the runner's log format."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")


def _run_lanes(
    stems: list[str], needs: dict[str, list[str]], ahead: set[str], arguments, lanes: int
) -> dict[str, tuple[str, bool]]:
    """:func:`execute_notebook` of every stem once its ``needs`` finished; (stamp, executed?) by stem.

    ``arguments(stem, stamps)`` gives the call's arguments from the stamps of the chapters finished.
    The main lane (a thread of this process) takes the chapters in book order.  With ``lanes`` = 2 a
    side lane (one worker process) takes the chapters in ``ahead`` as soon as their own needs
    finished, so that they use the time the main lane leaves a core idle.  Both lanes run at the same
    CPU priority: a lower one (niceness 19, for the kernel's session too, since a kernel starts its
    own session and Linux's autogroup ranks sessions) starved the side lane under other load, and
    the book then waited minutes for it at its end (chapter 06: 664 s instead of ~50 s beside a test
    run).  After a failure nothing new starts; the running chapters finish and the first failure
    in book order is raised.
    """
    import concurrent.futures as cf
    import contextlib
    import multiprocessing

    results: dict[str, tuple[str, bool]] = {}
    failures: dict[str, BaseException] = {}
    pending = list(stems)
    running: dict[cf.Future, tuple[str, str]] = {}
    with contextlib.ExitStack() as stack:
        executors = {"main": stack.enter_context(cf.ThreadPoolExecutor(1))}
        if lanes > 1:
            executors["side"] = stack.enter_context(
                cf.ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_side_lane_init
                )
            )
        while True:
            busy = {lane for _, lane in running.values()}
            ready = [] if failures else [s for s in pending if set(needs[s]) <= results.keys()]
            picks = {
                "main": ready[:1] if ready[:1] == pending[:1] else [],
                "side": [s for s in ready if s in ahead and s not in pending[:1]][:1],
            }
            for lane, executor in executors.items():
                if lane not in busy and picks[lane]:
                    stem = picks[lane][0]
                    pending.remove(stem)
                    stamps = {done: stamp for done, (stamp, _) in results.items()}
                    call = executor.submit(execute_notebook, *arguments(stem, stamps))
                    running[call] = (stem, lane)
            if not running:
                break  # everything ran, or a failure left chapters that will not start
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                stem, _ = running.pop(future)
                try:
                    results[stem] = future.result()
                except Exception as err:  # noqa: BLE001 - raised below: the first failure in book order
                    failures[stem] = err
    if failures:
        raise failures[min(failures, key=stems.index)]
    return results


def execute_all(params_file: str | Path, root: Path | None = None) -> list[str]:
    """Resolve the parameters, run the data step and every book notebook; returns the stems executed.

    A notebook re-executes when the data change or when a chapter whose outputs it reads re-executed
    (:func:`declared_dependencies`).  Chapters run in the book's order, except those no chapter
    declares it reads, which a side lane runs beside the others (:func:`_run_lanes`; the params
    key ``parallel_chapters``, default 2; 1: all in order).

    Parameters
    ----------
    params_file : path-like
        The flat YAML params file (:func:`load_params`).
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Returns
    -------
    list of str
        Stems of the notebooks executed (current ones are skipped).

    Raises
    ------
    ValueError, TypeError
        Invalid or unknown parameters (:func:`check_unknown_keys`, :func:`params_for`).
    NotebookFailed
        A notebook failed.
    """
    root = root or project_root()
    source = f"params file {params_file}"
    given = load_params(params_file)
    stems = book_notebooks(root)
    check_unknown_keys(given, [root / "notebooks" / f"{s}.ipynb" for s in stems], str(params_file))
    params = resolve_params(given, root, source)
    ensure_twin(params, root)
    timeout = int(params.get("execution_timeout", 3600))
    conditions = run_conditions(params, root)
    log.info(
        "data: %s; %s",
        "the digital twin" if conditions["twin"] else f"your dataset at {params['bids_dir']}",
        ", ".join(f"{k} = {params[k]}" for k in PATH_KEYS if params.get(k) is not None),
    )
    # A notebook re-executes when the data change (a regenerated twin, an edited dataset) or when a
    # chapter whose outputs it reads re-executed; editing the results chapter leaves the others alone.
    data = data_fingerprint(root / params["bids_dir"])
    deps = {stem: declared_dependencies(root / "notebooks" / f"{stem}.ipynb") for stem in stems}
    needs = {stem: _needs(stem, deps[stem], stems) for stem in stems}  # refuses a later dependency first
    read = {d for declared in deps.values() if declared is not None for d in declared}
    ahead = {stem for stem in stems if stem not in read}  # no chapter declares it reads their outputs

    def arguments(stem: str, stamps: dict[str, str]) -> tuple:
        upstream = json.dumps([data, _upstream(stem, deps[stem], stamps, stems)])
        return stem, params, root, timeout, upstream, conditions

    results = _run_lanes(stems, needs, ahead, arguments, int(params.get("parallel_chapters", 2)))
    return [stem for stem in stems if results[stem][1]]
