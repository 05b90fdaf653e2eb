"""Every public function of the listed modules has a numpydoc ``Parameters`` section that names exactly
its arguments, states each default on the type line, and each documented ``default X`` equals the
signature's default when that is a literal (issue 16, item 5).

The docstring is read from the imported function (so text inserted by
:func:`helpers.execution.execution_doc` counts); the arguments and defaults from the source (ast), so a
decorator's wrapper signature cannot hide them.  Extend ``FILES`` as more modules are documented.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from helpers.execution import EXECUTION_PARAMETERS, execution_doc, map_participants

SRC = Path(__file__).resolve().parents[1] / "src"
FILES = sorted(
    [str(p.relative_to(SRC)) for pattern in ("helpers/bids/*.py", "helpers/layout/*.py")
     for p in SRC.glob(pattern)]
    + [f"helpers/{m}.py" for m in (
        "cache", "cell_tags", "exclusions", "execution", "figures", "findings", "io", "mdtable",
        "methods_text", "paths", "provenance", "reliability", "runner", "scs", "stats", "style", "tables")]
    + ["helpers/catalogue/__init__.py"])

_NO_DEFAULT = object()


def _public_functions(relpath: str) -> list[tuple[str, list[str], dict]]:
    """``(name, argument names, {argument: literal default})`` of each public module-level function."""
    tree = ast.parse((SRC / relpath).read_text())
    found = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("_"):
            continue
        a = node.args
        positional = a.posonlyargs + a.args
        names = [x.arg for x in positional + a.kwonlyargs]
        names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
        defaults = dict(zip([x.arg for x in positional][len(positional) - len(a.defaults):], a.defaults))
        defaults.update({x.arg: d for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        literal = {}
        for arg, node_default in defaults.items():
            try:
                literal[arg] = ast.literal_eval(node_default)
            except ValueError:  # a name or call (e.g. a module constant): not compared
                literal[arg] = _NO_DEFAULT
        if names:
            found.append((node.name, names, literal))
    return found


def _module_name(relpath: str) -> str:
    return relpath.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def parameters_section(doc: str) -> dict[str, str]:
    """``{name: type line}`` of a numpydoc docstring's Parameters section (``a, b : int`` gives two names)."""
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = next(i for i in range(len(lines) - 1)
                     if lines[i].strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"})
    except StopIteration:
        return {}
    entries = {}
    for i in range(start + 2, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and set(lines[i + 1].strip()) == {"-"}:
            break  # the next section's header
        if line and not line[0].isspace():
            names, _, kind = line.partition(" : ")
            for name in names.split(","):
                entries[name.strip().lstrip("*")] = kind.strip()
    return entries


def documented_default(kind: str):
    """The literal after ``default`` (or ``default=``) on a type line; ``_NO_DEFAULT`` if none."""
    match = re.search(r"\bdefault[ =]\s*(.+)$", kind)
    if match is None:
        return _NO_DEFAULT
    text = match.group(1).strip()
    for candidate in (text, text.split(" ")[0].rstrip(",;:")):  # "default 3" or "default 3 (three seconds)"
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError):
            continue
    return _NO_DEFAULT


CASES = [(f, name, args, defaults) for f in FILES for name, args, defaults in _public_functions(f)]


@pytest.mark.parametrize("relpath, name, args, defaults", CASES,
                         ids=[f"{_module_name(f)}.{n}" for f, n, _, _ in CASES])
def test_parameters_documented(relpath, name, args, defaults):
    func = getattr(importlib.import_module(_module_name(relpath)), name)
    documented = parameters_section(func.__doc__ or "")
    assert documented, f"{relpath}: {name} has no numpydoc Parameters section"
    assert set(documented) == set(args), (
        f"{relpath}: {name} documents {sorted(set(documented) - set(args))} that are not arguments and "
        f"misses {sorted(set(args) - set(documented))}")
    for arg, default in defaults.items():
        assert re.search(r"\b(default|optional)\b", documented[arg]), (
            f"{relpath}: {name}: the type line of {arg!r} ({documented[arg]!r}) does not state its default "
            "(numpydoc: 'int, default 3', or 'optional' when the default is None)")
        shown = documented_default(documented[arg])
        if default is not _NO_DEFAULT and shown is not _NO_DEFAULT:
            assert shown == default and type(shown) is type(default), (
                f"{relpath}: {name}({arg}=...) documents default {shown!r}, the signature has {default!r}")


def test_parser_reads_combined_names_and_defaults():
    doc = """Summary.

    Parameters
    ----------
    a, b : int, default 3
        Two.
    *rest : str
    c : {"x", "y"}, default "y"
        Choice.
    d : float, default=0.5

    Returns
    -------
    e : int
    """
    entries = parameters_section(doc)
    assert list(entries) == ["a", "b", "rest", "c", "d"]
    assert [documented_default(entries[k]) for k in ("a", "c", "d")] == [3, "y", 0.5]
    assert documented_default(entries["rest"]) is _NO_DEFAULT


def test_execution_doc_inserts_shared_text_with_each_functions_defaults():
    @execution_doc("on_error", "backend", "cache_dir")
    def stage(items, backend="processes", cache_dir=None, on_error="skip"):
        """Run a stage.

        Parameters
        ----------
        items : list
            What to run.
        {execution_parameters}

        Returns
        -------
        list
        """

    doc = stage.__doc__
    assert "{execution_parameters}" not in doc
    entries = parameters_section(doc)
    assert list(entries) == ["items", "on_error", "backend", "cache_dir"]  # order of the decorator's names
    assert entries["backend"] == '{"serial", "processes", "dask"}, default "processes"'
    assert entries["on_error"] == '{"stop", "skip"}, default "skip"'
    assert entries["cache_dir"] == "path-like or None, default None"
    # the shared description, re-wrapped at the placeholder's indentation + 4
    body = " ".join(line.strip() for line in inspect.cleandoc(doc).split("cache_dir : ")[0]
                    .split("backend : ")[1].splitlines()[1:])
    assert body == EXECUTION_PARAMETERS["backend"][1]
    assert doc.endswith("\n\n        Returns\n        -------\n        list\n        ")  # the rest is kept


def test_execution_doc_used_by_map_participants():
    entries = parameters_section(map_participants.__doc__)
    assert entries["backend"].endswith('default "serial"') and entries["n_jobs"] == "int, default 1"
    assert EXECUTION_PARAMETERS["scheduler"][1].split()[:4] == ["Dask", "only:", "a", "scheduler"]
    assert "Dask only: a scheduler address" in map_participants.__doc__


@pytest.mark.parametrize("names, func, message", [
    (("speed",), lambda backend="serial": None, "unknown parameter"),
    (("backend",), lambda n_jobs=1: None, "has no parameter"),
])
def test_execution_doc_rejects_unknown_or_absent_names(names, func, message):
    func.__doc__ = "Summary.\n\n    {execution_parameters}\n"
    with pytest.raises(ValueError, match=message):
        execution_doc(*names)(func)


def test_execution_doc_requires_the_placeholder():
    def run(backend="serial"):
        """No placeholder here."""

    with pytest.raises(ValueError, match="no {execution_parameters} line"):
        execution_doc("backend")(run)
