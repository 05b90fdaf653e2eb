"""Numpydoc docstrings of the public functions in the modules listed below (issue 16, item 5).

For every public module-level function (and public method of a public class) that takes arguments
(``self`` aside): a ``Parameters`` section that names exactly its arguments in the signature's order,
and, for each argument with a default in the signature, a documented ``default X`` that equals the
signature's default when that default is a simple literal.  A small parser (numpydoc is not a
dependency) reads the section the way numpydoc's ``docscrape`` does: parameter lines start at column 0
as ``name : type``; descriptions are indented.  The docstring is read from the source; a docstring with
an ``{execution_parameters}`` placeholder is read from the imported function, after
:func:`helpers.execution.execution_doc` has inserted the shared text.  Every module under
``src/helpers`` is checked.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from helpers.execution import EXECUTION_PARAMETERS, execution_doc, map_participants

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"
MODULES = sorted(SRC.rglob("*.py"))  # every module of the package: a new module is checked at once

_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.M)
_DEFAULT = re.compile(r"\bdefault(?:\s*=\s*|\s*:\s*|\s+)(.+)$")


def _arg_names(fn: ast.FunctionDef, method: bool = False) -> list[str]:
    """Arguments in the signature's order (``*args`` before keyword-only ones), ``self`` aside."""
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args]
    names += [f"*{a.vararg.arg}"] if a.vararg else []
    names += [x.arg for x in a.kwonlyargs]
    names += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return names[1:] if method else names


def _defaults(fn: ast.FunctionDef) -> dict[str, ast.expr]:
    a = fn.args
    positional = a.posonlyargs + a.args
    out = dict(zip([x.arg for x in positional[len(positional) - len(a.defaults) :]], a.defaults))
    out.update({x.arg: d for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
    return out


def parameters_section(doc: str) -> dict[str, str]:
    """``{name: type text}`` of a numpydoc docstring's Parameters section (``a, b : int`` gives two)."""
    heads = list(_HEADER.finditer(doc))
    for i, head in enumerate(heads):
        if head.group(1).strip() == "Parameters":
            end = heads[i + 1].start() if i + 1 < len(heads) else len(doc)
            body = doc[head.end() : end]
            break
    else:
        return {}
    params = {}
    for line in body.splitlines():
        if not line.strip() or line[0].isspace():
            continue
        names, _, kind = line.partition(" : ")
        for name in names.split(","):
            params[name.strip()] = kind.strip()
    return params


def _docstring(path: Path, fn: ast.FunctionDef, owner: str | None) -> str:
    """The source docstring, or the imported one when ``execution_doc`` completes it at import."""
    doc = ast.get_docstring(fn) or ""
    if "{execution_parameters" not in doc:
        return doc
    module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
    obj = importlib.import_module(module)
    for name in ([owner] if owner else []) + [fn.name]:
        obj = getattr(obj, name)
    return inspect.cleandoc(obj.__doc__ or "")


def _public_functions():
    """Public module-level functions and public methods of public classes, with arguments."""
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and _arg_names(node):
                yield pytest.param(path, node, None, id=f"{path.relative_to(SRC)}::{node.name}")
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for meth in node.body:
                    if (
                        isinstance(meth, ast.FunctionDef)
                        and not meth.name.startswith("_")
                        and _arg_names(meth, method=True)
                    ):
                        yield pytest.param(
                            path, meth, node.name, id=f"{path.relative_to(SRC)}::{node.name}.{meth.name}"
                        )


@pytest.mark.parametrize(("path", "fn", "owner"), list(_public_functions()))
def test_parameters_listed_with_defaults(path, fn, owner):
    method = owner is not None
    params = parameters_section(_docstring(path, fn, owner))
    assert list(params) == _arg_names(fn, method), (
        f"{fn.name}: Parameters section lists {list(params)}, the signature has {_arg_names(fn, method)}"
    )
    for name, default in _defaults(fn).items():
        match = _DEFAULT.search(params[name])
        assert match, (
            f"{fn.name}: parameter {name!r} has a default but its type line {params[name]!r} "
            "does not document it as 'default X'"
        )
        try:
            expected = ast.literal_eval(default)
        except ValueError:
            continue  # a computed default (a constant's name, a call): documented in words
        documented = match.group(1).strip()
        try:
            value = ast.literal_eval(documented)
        except (ValueError, SyntaxError):
            pytest.fail(f"{fn.name}: {name} documents default {documented!r}, the signature {expected!r}")
        assert value == expected and type(value) is type(expected), (
            f"{fn.name}: {name} documents default {documented!r}, the signature has {expected!r}"
        )


def test_parser_reads_numpydoc():
    doc = (
        "Sum.\n\nParameters\n----------\na, b : int\n    Terms.\nc : float, default 0.5\n    Scale.\n\n"
        "Returns\n-------\nint\n"
    )
    assert parameters_section(doc) == {"a": "int", "b": "int", "c": "float, default 0.5"}
    assert _DEFAULT.search("float, default 0.5").group(1) == "0.5"
    assert _DEFAULT.search("str, default='hrf'").group(1) == "'hrf'"


def test_signature_order_puts_star_args_before_keyword_only():
    fn = ast.parse("def f(a, *rest, b=1, **kw): pass").body[0]
    assert _arg_names(fn) == ["a", "*rest", "b", "**kw"]


# --------------------------------------------------------------------------- the shared execution text
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

    doc = inspect.cleandoc(stage.__doc__)
    assert "{execution_parameters" not in doc
    entries = parameters_section(doc)
    assert list(entries) == ["items", "on_error", "backend", "cache_dir"]  # order of the decorator's names
    assert entries["backend"] == '{"serial", "processes", "dask"}, default "processes"'
    assert entries["on_error"] == '{"stop", "skip"}, default "skip"'
    assert entries["cache_dir"] == "path-like or None, default None"
    # the shared description, re-wrapped at the placeholder's indentation + 4
    backend = doc.split("cache_dir : ")[0].split("backend : ")[1]
    body = " ".join(line.strip() for line in backend.splitlines()[1:])
    assert body == EXECUTION_PARAMETERS["backend"][1]
    assert doc.endswith("\n\nReturns\n-------\nlist")  # the rest is kept


def test_named_placeholders_follow_the_signature_order():
    @execution_doc("n_jobs", "progress", "cache")
    def stage(items, n_jobs=2, label="x", progress=False, cache=True):
        """Run.

        Parameters
        ----------
        items : list
            What to run.
        {execution_parameters:n_jobs}
        label : str, default "x"
            A label.
        {execution_parameters}
        """

    entries = parameters_section(inspect.cleandoc(stage.__doc__))
    assert list(entries) == ["items", "n_jobs", "label", "progress", "cache"]
    assert [entries[k] for k in ("n_jobs", "progress", "cache")] == [
        "int, default 2",
        "bool or None, default False",
        "bool, default True",
    ]


def test_execution_doc_used_by_map_participants():
    entries = parameters_section(inspect.cleandoc(map_participants.__doc__))
    assert list(entries) == [
        "func",
        "items",
        "ids",
        "backend",
        "n_jobs",
        "scheduler",
        "desc",
        "progress",
        "shared",
    ]
    assert entries["backend"].endswith('default "serial"') and entries["n_jobs"] == "int, default 1"
    assert "Dask only: a scheduler address" in map_participants.__doc__


@pytest.mark.parametrize(
    "names, func, doc, message",
    [
        (("speed",), lambda backend="serial": None, "{execution_parameters}", "unknown parameter"),
        (("backend",), lambda n_jobs=1: None, "{execution_parameters}", "has no parameter"),
        (("backend",), lambda backend="serial": None, "No placeholder here.", "needs one"),
        (("backend",), lambda backend="serial", n_jobs=1: None, "{execution_parameters:n_jobs}", "not among"),
        (
            ("backend",),
            lambda backend="serial": None,
            "{execution_parameters:backend}\n    {execution_parameters:backend}",
            "placed twice",
        ),
    ],
)
def test_execution_doc_rejects_misplaced_names(names, func, doc, message):
    func.__doc__ = f"Summary.\n\n    {doc}\n"
    with pytest.raises(ValueError, match=message):
        execution_doc(*names)(func)
