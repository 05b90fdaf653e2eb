"""Numpydoc docstrings of the public functions in the modules listed below (issue 16, item 5).

For every public module-level function (and public method of a public class) that takes arguments
(``self`` aside): a ``Parameters`` section that names exactly its arguments, and, for each argument
with a default in the signature, a documented ``default X`` that equals the signature's default
when that default is a simple literal.  A small
parser (numpydoc is not a dependency) reads the section the way numpydoc's ``docscrape`` does:
parameter lines start at column 0 as ``name : type``; descriptions are indented.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"
MODULES = sorted(
    [SRC / "atlas.py", SRC / "denoise.py"]
    + [p for sub in ("preprocess", "simulate", "training") for p in (SRC / sub).glob("*.py")]
)

_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.M)
_DEFAULT = re.compile(r"\bdefault(?:\s*=\s*|\s*:\s*|\s+)(.+)$")


def _arg_names(fn: ast.FunctionDef, method: bool = False) -> list[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs][1 if method else 0:]  # not self
    names += [f"*{a.vararg.arg}"] if a.vararg else []
    names += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return names


def _defaults(fn: ast.FunctionDef) -> dict[str, ast.expr]:
    a = fn.args
    positional = a.posonlyargs + a.args
    out = dict(zip([x.arg for x in positional[len(positional) - len(a.defaults):]], a.defaults))
    out.update({x.arg: d for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
    return out


def parameters_section(doc: str) -> dict[str, str]:
    """``{name: type text}`` of a numpydoc docstring's Parameters section (``a, b : int`` gives two)."""
    heads = list(_HEADER.finditer(doc))
    for i, head in enumerate(heads):
        if head.group(1).strip() == "Parameters":
            end = heads[i + 1].start() if i + 1 < len(heads) else len(doc)
            body = doc[head.end():end]
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


def _public_functions():
    """Public module-level functions and public methods of public classes, with arguments."""
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and _arg_names(node):
                yield pytest.param(node, False, id=f"{path.relative_to(SRC)}::{node.name}")
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for meth in node.body:
                    if (isinstance(meth, ast.FunctionDef) and not meth.name.startswith("_")
                            and _arg_names(meth, method=True)):
                        yield pytest.param(meth, True, id=f"{path.relative_to(SRC)}::{node.name}.{meth.name}")


@pytest.mark.parametrize(("fn", "method"), _public_functions())
def test_parameters_listed_with_defaults(fn, method):
    doc = ast.get_docstring(fn) or ""
    params = parameters_section(doc)
    assert list(params) == _arg_names(fn, method), (
        f"{fn.name}: Parameters section lists {list(params)}, the signature has {_arg_names(fn, method)}"
    )
    for name, default in _defaults(fn).items():
        match = _DEFAULT.search(params[name])
        assert match, (f"{fn.name}: parameter {name!r} has a default but its type line {params[name]!r} "
                       "does not document it as 'default X'")
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
    doc = "Sum.\n\nParameters\n----------\na, b : int\n    Terms.\nc : float, default 0.5\n    Scale.\n\n" \
          "Returns\n-------\nint\n"
    assert parameters_section(doc) == {"a": "int", "b": "int", "c": "float, default 0.5"}
    assert _DEFAULT.search("float, default 0.5").group(1) == "0.5"
    assert _DEFAULT.search("str, default='hrf'").group(1) == "'hrf'"
