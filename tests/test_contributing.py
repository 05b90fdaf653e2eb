"""CONTRIBUTING.md names modules, functions and test files: each must exist, so the page cannot go stale.

Every backticked dotted name in the package (``helpers.x.y`` or ``x.y``) must import (a module) or
resolve (an attribute of one); every backticked module name in the table of modules must be a module
or package of ``src/helpers``; every ``tests/...`` path must exist.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "CONTRIBUTING.md").read_text()
SRC = ROOT / "src" / "helpers"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_dotted_name_exists():
    """``helpers.x.y`` and ``x.y`` where ``x`` is a module of the package (``cache.make_key``)."""
    dotted = {n for n in re.findall(r"`((?:\w+\.)+\w+)", TEXT) if not n.endswith((".tsv", ".json"))}
    names = sorted(
        n if n.startswith("helpers.") else f"helpers.{n}"
        for n in dotted
        if n.startswith("helpers.")
        or (SRC / n.split(".")[0]).is_dir()
        or (SRC / f"{n.split('.')[0]}.py").is_file()
    )
    assert len(names) >= 10, names  # the page names the skeleton, stores, schema, layout, ...
    assert [n for n in names if not _resolves(n)] == []


def test_every_module_in_the_table_exists():
    table = [line for line in TEXT.splitlines() if line.startswith("| ") and "concern" not in line]
    modules = {m for line in table for m in re.findall(r"`(\w+)`", line.split("|")[2])}
    assert len(modules) >= 40, modules
    missing = [m for m in modules if not ((SRC / m).is_dir() or (SRC / f"{m}.py").is_file())]
    nested = [m for m in missing if list(SRC.glob(f"*/{m}.py"))]  # preprocess.participant, firstlevel.stage …
    assert sorted(set(missing) - set(nested)) == []


def test_every_test_file_named_exists():
    paths = sorted(set(re.findall(r"`?(tests/[\w/]+\.py)", TEXT)))
    assert paths and [p for p in paths if not (ROOT / p).is_file()] == []
