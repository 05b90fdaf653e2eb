"""Execute the book's notebooks with Papermill, then build the HTML book.

``python -m helpers.runner book --params notebooks/params/default.yml`` does the
whole job that ``make book`` asks for:

1. **data** — if the params file asks for the digital twin (``twin_participants``
   set), generate it at ``bids_dir`` unless an identical one (same simulator code,
   participants and seed) is already there;
2. **execute** — run every notebook listed in ``_toc.yml`` (in the book's order)
   from ``notebooks/<stem>.ipynb`` into ``build/notebooks/<stem>.ipynb`` with the
   parameters its ``parameters`` cell declares, without the cells whose tags say they are for
   other data (:data:`CELL_CONDITIONS`: twin-only prose on your data, and so on); every glue key
   the notebook's prose uses must exist after execution; a notebook is skipped when its
   source, its parameters, the helpers' code and everything executed before it
   are unchanged (a stamp file records this);
3. **build** — ``jupyter-book build`` with warnings as errors, then check that
   every page of the table of contents exists as HTML. A build that failed or was
   interrupted leaves a marker, and the next build re-renders every page (never a
   silently partial book).

On a failing notebook the partial output is kept in ``build/failed/`` for
inspection, removed from the book, and the runner exits non-zero naming the
notebook and the failing cell.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .io import atomic_path, write_json
from .params import (
    PATH_KEYS,
    RESOLVED_KEYS,
    SCHEMA,
    load_params_file,
    resolve_params,
    twin_requested,
    validate_value,
)
from .paths import project_root

__all__ = [
    "load_params",
    "book_notebooks",
    "params_for",
    "execute_all",
    "build_book",
    "expected_pages",
    "main",
]

log = logging.getLogger("helpers.runner")

#: Where executed notebooks go (referenced by ``_toc.yml``), relative to the root.
EXECUTED = Path("build/notebooks")
FAILED = Path("build/failed")
#: The notebook sources as executed (cells for other data dropped), kept for inspection.
SELECTED = Path("build/selected")
#: Keys of the params file used by the runner itself, not by notebooks.
RUNNER_KEYS = {"twin_participants", "twin_config", "execution_timeout"}
#: Marker of a book build that did not finish (failed or killed): the next build renders every page.
INCOMPLETE = Path("_build/.incomplete")
#: Cell tags that keep a cell only for some data: tag → the condition (on the run's
#: :func:`run_conditions`) under which the cell stays. The others are dropped before execution,
#: so they neither run nor appear.
CELL_CONDITIONS = {
    "twin-only": "twin",
    "user-data-only": "user_data",
    "our-preprocessing-only": "our_preprocessing",
    "no-preprocessing-only": "no_preprocessing",
    "parcellation-only": "parcellation",
}


class NotebookFailed(RuntimeError):
    """A notebook raised an error while executing."""


def load_params(path: str | Path) -> dict:
    """Read a flat YAML params file (:func:`helpers.params.load_params_file`); an empty file gives ``{}``.

    Parameters
    ----------
    path : path-like
        The params file (e.g. ``notebooks/params/default.yml``).

    Returns
    -------
    dict
        Parameter name → value.

    Raises
    ------
    ValueError, TypeError
        The file is missing, is not valid YAML, is not a mapping of name: value, or a value breaks
        its rule; the message names the file, the line and the rule.
    """
    return load_params_file(path)


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                out.extend(_toc_files(child))
    return out


def toc_files(root: Path) -> list[str]:
    """Every ``file`` entry of ``_toc.yml`` (including the root), in book order.

    Parameters
    ----------
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).

    Returns
    -------
    list of str
        The entries as written in ``_toc.yml`` (paths relative to ``root``).
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"], *_toc_files(toc)]


def book_notebooks(root: Path | None = None) -> list[str]:
    """Stems of the notebooks the book shows, in the book's order (from ``_toc.yml``).

    Parameters
    ----------
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Returns
    -------
    list of str
        Stems of the ``_toc.yml`` entries under :data:`EXECUTED`.
    """
    root = root or project_root()
    prefix = EXECUTED.as_posix() + "/"
    return [f[len(prefix) :] for f in toc_files(root) if f.startswith(prefix)]


def declared_parameters(notebook: Path) -> dict:
    """The parameters a notebook's ``parameters`` cell declares: name → inferred type name.

    Parameters
    ----------
    notebook : pathlib.Path
        The source notebook (read with ``papermill.inspect_notebook``).

    Returns
    -------
    dict of str to str
        Name → type name inferred from the default (e.g. ``"int"``, ``"str"``).

    Raises
    ------
    ValueError
        The notebook has no cell tagged ``parameters``.
    """
    import papermill as pm

    info = pm.inspect_notebook(str(notebook))
    if not info:
        raise ValueError(
            f"{notebook}: no cell tagged 'parameters' (every chapter must declare its parameters)"
        )
    return {name: _type_name(spec) for name, spec in info.items()}


def _type_name(spec: dict) -> str:
    """Papermill infers types only from annotations; otherwise use the default literal's type."""
    if spec["inferred_type_name"] != "None":
        return spec["inferred_type_name"]
    try:
        return type(ast.literal_eval(spec["default"])).__name__
    except (ValueError, SyntaxError):
        return "None"


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}


def params_for(notebook: Path, params: dict) -> dict:
    """The subset of ``params`` that ``notebook`` declares, validated.

    Names declared in :data:`helpers.params.SCHEMA` are checked against it; any other name is
    type-checked against the notebook's default (``None`` defaults accept anything).

    Parameters
    ----------
    notebook : pathlib.Path
        The source notebook.
    params : dict
        The resolved parameters of the run.

    Returns
    -------
    dict
        The declared names present in ``params``, with their values.

    Raises
    ------
    TypeError
        A value of the wrong type.
    ValueError
        A value outside the schema's allowed values or range, or the notebook declares no parameters.
    """
    declared = declared_parameters(notebook)
    chosen = {}
    for name, type_name in declared.items():
        if name not in params:
            continue
        value = params[name]
        if name in SCHEMA:
            validate_value(name, value, f"parameters for {notebook.name}")
            chosen[name] = value
            continue
        expected = _TYPES.get(type_name)
        if (
            expected is not None
            and value is not None
            and (
                not isinstance(value, expected) or (type_name in ("int", "float") and isinstance(value, bool))
            )
        ):
            raise TypeError(
                f"parameter {name!r} for {notebook.name}: expected {type_name} "
                f"(the notebook's default), got {type(value).__name__} {value!r}"
            )
        chosen[name] = value
    return chosen


def check_unknown_keys(params: dict, notebooks: list[Path], source: str) -> None:
    """Refuse keys that no notebook declares (usually a typo).

    Keys the runner itself uses or resolves (:data:`RUNNER_KEYS`, :data:`helpers.params.RESOLVED_KEYS`)
    are always known.

    Parameters
    ----------
    params : dict
        The parameters as given in the params file.
    notebooks : list of pathlib.Path
        The book's source notebooks.
    source : str
        Name of the params file for the message.

    Raises
    ------
    ValueError
        A key is neither declared by a notebook nor used by the runner (the message lists the known keys).
    """
    known = set(RUNNER_KEYS) | set(RESOLVED_KEYS)  # the runner resolves these (helpers.params.resolve_params)
    for nb in notebooks:
        known |= set(declared_parameters(nb))
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"params file {source}: unknown key(s) {', '.join(unknown)}; "
            f"known keys are {', '.join(sorted(known))}"
        )


#: Files whose content defines the code's behaviour (sources and packaged configuration).
CODE_PATTERNS = ("*.py", "*.yml", "*.yaml")


def _tree_hash(folder: Path, patterns: tuple[str, ...] = CODE_PATTERNS) -> str:
    h = hashlib.sha256()
    for f in sorted({f for pattern in patterns for f in folder.rglob(pattern)}):
        if "__pycache__" in f.parts:
            continue
        h.update(f.relative_to(folder).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def code_version(root: Path) -> str:
    """Hash of the helpers package's source (Python files and packaged data).

    Parameters
    ----------
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).

    Returns
    -------
    str
        Hash of the tree ``root/src/helpers``.
    """
    return _tree_hash(root / "src" / "helpers")


def _hide_parameter_cells(path: Path) -> None:
    """Collapse Papermill's injected cell (actual values); drop the defaults cell from the page;
    hide the bookkeeping cells and fold long plotting code (:func:`helpers.cell_tags.tag_cells`)."""
    import nbformat

    from .cell_tags import tag_cells

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-cell" not in tags:
            tags.append("hide-cell")
        elif "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    tag_cells(nb)
    nbformat.write(nb, path)


def _failing_cell(path: Path) -> str:
    """The failing cell, named by its first line (cell numbers differ between the source, the cells kept
    for this data and the executed copy with its injected parameters)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            return f"the cell starting {cell.source.strip().splitlines()[0][:60]!r}"
    return "an unknown cell"


def run_conditions(params: dict, root: Path) -> dict[str, bool]:
    """Which data this run analyses, for :data:`CELL_CONDITIONS`.

    ``twin`` / ``user_data``: the params ask for the twin or not. ``our_preprocessing``: our
    preprocessing runs, or its output is what the connectivity chapter analyses, or (the twin) its
    derivatives are already in ``preproc_dir`` to inspect; otherwise the chapters read someone
    else's derivatives, e.g. fMRIPrep's (``no_preprocessing``) — and an earlier run's preprocessing
    of the same data is not shown as if it were analysed. ``parcellation``: the params request one.

    Parameters
    ----------
    params : dict
        The resolved parameters (``run_preprocessing``, ``preproc_dir``, ``derivatives_dir`` are read).
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).

    Returns
    -------
    dict of str to bool
        ``twin``, ``user_data``, ``our_preprocessing``, ``no_preprocessing``; ``parcellation``: an atlas
        parcellation is requested (the connectivity chapter's whole-brain figures exist only then).
    """
    twin = twin_requested(params)
    preproc = root / str(params.get("preproc_dir", "build/data/preproc"))
    analysed = params.get("derivatives_dir") is not None and Path(params["derivatives_dir"]) == Path(
        params.get("preproc_dir", "")
    )
    inspect = twin and preproc.is_dir() and any(preproc.glob("sub-*"))
    ours = bool(params.get("run_preprocessing", True)) or analysed or inspect
    return {
        "twin": twin,
        "user_data": not twin,
        "our_preprocessing": ours,
        "no_preprocessing": not ours,
        "parcellation": params.get("parcellation") is not None,
    }


def select_cells(nb, conditions: dict[str, bool]):
    """Drop the cells of ``nb`` whose :data:`CELL_CONDITIONS` tags do not hold; returns ``nb``.

    A cell with several such tags stays only when every one holds.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (modified in place).
    conditions : dict of str to bool
        The result of :func:`run_conditions`.

    Returns
    -------
    nbformat.NotebookNode
        ``nb``.
    """

    def keep(cell) -> bool:
        tags = cell.get("metadata", {}).get("tags", [])
        return all(conditions[CELL_CONDITIONS[t]] for t in tags if t in CELL_CONDITIONS)

    nb.cells = [cell for cell in nb.cells if keep(cell)]
    return nb


#: A glue reference in Markdown: ``{glue:text}`key:fmt```, ``{glue}`key```, ```{glue:figure} key``; a
#: reference to another page's key (``path::key``) is checked by Sphinx, not here.
GLUE_REF = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`|```\{glue:(?:figure|math|md)\}\s+(\S+)")


def missing_glue_keys(nb) -> list[tuple[str, str]]:
    """(first line of the Markdown cell, key) of every glue reference in ``nb`` that no output glued.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook; references are found with :data:`GLUE_REF` (cross-notebook ``::`` ones
        are skipped).

    Returns
    -------
    list of (str, str)
        Empty when every reference was glued.
    """
    glued = {
        out.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in nb.cells
        for out in cell.get("outputs", [])
    }
    refs = [
        (cell.source.strip().splitlines()[0][:50], a or b)
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for a, b in GLUE_REF.findall(cell.source)
    ]
    keys = [(line, target.split(":")[0]) for line, target in refs if "::" not in target]
    return [(line, key) for line, key in keys if key not in glued]


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


def ensure_twin(params: dict, root: Path) -> None:
    """Generate the digital twin at ``bids_dir`` when the params ask for it and it is out of date.

    Nothing happens unless ``twin_participants`` is set.  The twin is current when its stamp (the
    simulator's code with ``atlas.py`` and ``resample.py``, ``twin_participants``, ``seed``,
    ``twin_config`` and that file's text) is unchanged.

    Parameters
    ----------
    params : dict
        The resolved parameters (``twin_participants``, ``bids_dir``, ``seed`` (default 2018),
        ``twin_config``).
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).
    """
    n = params.get("twin_participants")
    if not n:
        return
    from .simulate import simulate

    out = root / params.get("bids_dir", "build/data/twin")
    seed = params.get("seed", 2018)
    config = params.get("twin_config")
    key = hashlib.sha256(
        json.dumps(
            [
                _tree_hash(root / "src" / "helpers" / "simulate"),
                _tree_hash(root / "src" / "helpers", ("atlas.py", "resample.py")),
                n,
                seed,
                config,
                (root / config).read_text() if config else None,
            ]
        ).encode()
    ).hexdigest()
    stamp_file = out.parent / f".{out.name}.stamp"
    if out.is_dir() and stamp_file.is_file() and stamp_file.read_text().strip() == key:
        log.info("twin at %s is current", out)
        return
    log.info("generating the digital twin (%s participants, seed %s) at %s", n, seed, out)
    simulate(out, participants=int(n), seed=int(seed), config=(root / config) if config else None)
    stamp_file.write_text(key + "\n")


def data_fingerprint(folder: Path) -> str:
    """Cheap fingerprint of a dataset: every file's relative path, size and modification time.

    Parameters
    ----------
    folder : pathlib.Path
        The dataset; a missing folder gives the hash of nothing.

    Returns
    -------
    str
        SHA-256 (hex).
    """
    h = hashlib.sha256()
    if folder.is_dir():
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


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


def _upstream(stem: str, deps: list[str] | None, stamps: dict[str, str], order: list[str]) -> list[str]:
    """Stamps of the chapters ``stem`` depends on (all earlier ones when undeclared)."""
    if deps is None:
        return list(stamps.values())
    late = [d for d in deps if d in order and d not in stamps]
    if late:
        raise ValueError(
            f"notebooks/{stem}.ipynb depends on {', '.join(late)}, which _toc.yml lists after it"
        )
    return [stamps[d] for d in deps if d in stamps]  # a dependency left out of this book is ignored


def execute_all(params_file: str | Path, root: Path | None = None) -> list[str]:
    """Resolve the parameters, run the data step and every book notebook in order; returns the stems executed.

    A notebook re-executes when the data change or when a chapter whose outputs it reads re-executed
    (:func:`declared_dependencies`).

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
    stamps: dict[str, str] = {}
    executed = []
    for stem in stems:
        deps = declared_dependencies(root / "notebooks" / f"{stem}.ipynb")
        upstream = json.dumps([data, _upstream(stem, deps, stamps, stems)])
        stamps[stem], ran = execute_notebook(stem, params, root, timeout, upstream, conditions)
        if ran:
            executed.append(stem)
    return executed


def expected_pages(root: Path | None = None) -> list[Path]:
    """The HTML page every ``_toc.yml`` entry must produce.

    Parameters
    ----------
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Returns
    -------
    list of pathlib.Path
        ``root/_build/html/<entry>.html`` for each entry of :func:`toc_files`.
    """
    root = root or project_root()
    return [root / "_build" / "html" / f"{f}.html" for f in toc_files(root)]


def build_book(root: Path | None = None) -> None:
    """``jupyter-book build`` with warnings as errors; then check every page exists.

    Sphinx re-reads only the pages whose source changed, so a page that failed once (a warning
    turned error, a killed build) would be published as it was after a rebuild that exits 0. A
    marker (:data:`INCOMPLETE`) is written before the build and removed only after a complete one;
    while it exists, the next build renders every page (``--all``).

    Parameters
    ----------
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Raises
    ------
    RuntimeError
        The build failed, or a page of :func:`expected_pages` is missing.
    """
    root = root or project_root()
    marker = root / INCOMPLETE
    full = marker.is_file()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("a book build started and has not finished; the next build renders every page\n")
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(root),
        "--warningiserror",
        "--keep-going",
    ]
    if full:
        log.info("the last book build did not finish: rendering every page")
        cmd.append("--all")
    result = subprocess.run(cmd, cwd=root)
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    missing = [str(p.relative_to(root)) for p in expected_pages(root) if not p.is_file()]
    if missing:
        raise RuntimeError(f"the book build left out pages: {', '.join(missing)}")
    marker.unlink()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.runner {execute,build,book} [--params FILE]``.

    Parameters
    ----------
    argv : list of str, default None
        Arguments; default None: ``sys.argv[1:]``.  ``--params`` defaults to
        ``notebooks/params/default.yml``.

    Returns
    -------
    int
        Exit status: 0, or 1 after logging a failed notebook, invalid parameters or a failed build.
    """
    parser = argparse.ArgumentParser(prog="python -m helpers.runner", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["execute", "build", "book"], help="execute notebooks, build the HTML, or both"
    )
    parser.add_argument("--params", default="notebooks/params/default.yml", help="flat YAML params file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        if args.command in ("execute", "book"):
            ran = execute_all(args.params)
            log.info("executed %d notebook(s): %s", len(ran), ", ".join(ran) or "none (all current)")
        if args.command in ("build", "book"):
            build_book()
            log.info("book built: %s", project_root() / "_build" / "html" / "index.html")
    except (NotebookFailed, ValueError, TypeError, RuntimeError) as err:
        log.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
