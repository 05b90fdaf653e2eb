"""Content-addressed cache of per-participant results: inputs + parameters + code → result.

A result is stored under a key that hashes everything it depends on:

* its **input files** — :func:`file_fingerprint`: path, size and modification time (cheap,
  the default) or the SHA-256 of the bytes (``content=True``);
* its **parameters** — any JSON-like value (tuples, paths, numpy scalars and arrays,
  ``SeedSequence``, dataclasses are canonicalised by :func:`make_key`);
* the **code** that computes it — :func:`code_fingerprint`: the source files of the given
  modules (or of every helpers module a stage's root module imports, :func:`imported_modules`)
  and the versions of the numerical packages.

After a parameter or code change only the results whose key changed are recomputed;
unchanged participants are read back.  Entries are pickles under
``build/cache/<namespace>/<key[:2]>/<key>.pkl``, written atomically
(:func:`helpers.io.atomic_path`), so a killed run never leaves a truncated entry; an entry
that cannot be read (e.g. written by an incompatible pandas) counts as a miss.

:class:`Cache` is one of the stores of the stage skeleton (:func:`helpers.participant_stage.run_stage`),
which looks results up, sends only the misses to the workers and stores each as soon as it is done.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import logging
import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .io import atomic_path
from .paths import build_dir

__all__ = [
    "NUMERIC_PACKAGES",
    "file_fingerprint",
    "imported_modules",
    "code_fingerprint",
    "make_key",
    "Cache",
]

log = logging.getLogger(__name__)

#: Packages whose versions are part of every code fingerprint (results may change with them).
NUMERIC_PACKAGES = ("numpy", "scipy", "pandas", "nibabel", "nilearn")


def file_fingerprint(path: str | os.PathLike, content: bool = False) -> str:
    """Fingerprint of one input file.

    Parameters
    ----------
    path : path-like
        The input file.
    content : bool, default False
        False: ``"<absolute path>:<size>:<mtime in ns>"`` (no read; rewriting or touching the file
        changes it).  True: the SHA-256 of its bytes (independent of path and time, costs one read).

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"cache: input file {p} does not exist")
    if content:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    st = p.stat()
    return f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def imported_modules(root: ModuleType | str, package: str | None = None) -> list[str]:
    """``root`` and every module of ``package`` it imports, directly or through one another, sorted.

    The imports are read from the source files (:mod:`ast`: ``import``/``from … import`` anywhere,
    inside functions too, relative ones resolved), so the answer does not depend on what happens
    to be loaded; the packages above each module (their ``__init__``, which runs on import) are
    included.

    Parameters
    ----------
    root : module or str
        The module whose code a result depends on (e.g. ``"helpers.firstlevel.stage"``).
    package : str, default None
        Only imports of this package's modules are followed; default None: the top-level package
        of ``root`` (``helpers``).

    Returns
    -------
    list of str
        Module names, sorted.
    """
    root = root.__name__ if isinstance(root, ModuleType) else root
    package = package or root.split(".")[0]
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # enclosing packages run on import
        is_package = Path(spec.origin).name == "__init__.py"
        for node in ast.walk(ast.parse(Path(spec.origin).read_text(), spec.origin)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = parts if is_package else parts[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            todo += [t for t in targets if (t == package or t.startswith(package + ".")) and _is_module(t)]
    return sorted(seen)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # "pkg.attribute": the parent is a module, not a package
        return False


def code_fingerprint(
    *modules: ModuleType | str, packages: Sequence[str] = NUMERIC_PACKAGES, follow_imports: bool = False
) -> str:
    """SHA-256 of the source files of ``modules`` and the installed versions of ``packages``.

    Parameters
    ----------
    *modules : module or str
        Every module whose code determines the result.  Without ``follow_imports``, pass the
        function's own module and the helpers modules it calls; a package's ``__init__`` stands
        for the package's whole folder.
    packages : sequence of str, default :data:`NUMERIC_PACKAGES`
        Packages whose installed versions enter the fingerprint.
    follow_imports : bool, default False
        True: each module stands for itself and every module of its top-level package (``helpers``)
        it imports, transitively
        (:func:`imported_modules`), each hashed as its own file; a stage passes its root module
        and the list can never go stale.

    Returns
    -------
    str
        SHA-256 (hex).
    """
    h = hashlib.sha256()
    if follow_imports:
        names = sorted({n for m in modules for n in imported_modules(m)})
        for name in names:
            source = Path(importlib.util.find_spec(name).origin)
            h.update(f"{name}\n".encode())
            h.update(_code_bytes(source))
    for module in modules if not follow_imports else ():
        if isinstance(module, str):
            module = importlib.import_module(module)
        source = Path(inspect.getfile(module))
        files = [source]
        if source.name == "__init__.py":
            files = sorted(f for pattern in ("*.py", "*.yaml") for f in source.parent.rglob(pattern))
        for f in files:
            if "__pycache__" not in f.parts:
                h.update(f"{module.__name__}/{f.relative_to(source.parent)}\n".encode())
                h.update(_code_bytes(f))
    for name in packages:
        try:
            h.update(f"{name}=={importlib.metadata.version(name)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{name} absent\n".encode())
    return h.hexdigest()


def _code_bytes(path: Path) -> bytes:
    """What of a source file can change a result: a ``.py`` file's syntax tree without docstrings
    (comments and docstrings never reach the tree), other files (YAML configurations) byte for byte.
    So editing documentation does not make 19 participants' cached work stale."""
    if path.suffix != ".py":
        return path.read_bytes()
    tree = ast.parse(path.read_bytes())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def _canonical(value: Any):
    """JSON-serialisable, order-stable form of a parameter value."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.ndarray):
        return {
            "ndarray": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest(),
            "dtype": str(value.dtype),
            "shape": list(value.shape),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.random.SeedSequence):
        return {"SeedSequence": [_canonical(value.entropy), list(value.spawn_key), value.pool_size]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: _canonical(dataclasses.asdict(value))}
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(
        f"cache key: cannot canonicalise a {type(value).__name__} ({value!r}); "
        "pass plain values, paths, arrays or dataclasses"
    )


def make_key(*parts: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``parts`` (equal values → equal keys).

    Parameters
    ----------
    *parts : object
        JSON-like values; dicts are sorted by key, tuples become lists, sets are sorted, paths become
        strings, arrays their SHA-256 with dtype and shape, and ``SeedSequence`` objects and dataclasses
        their fields; non-finite floats their ``repr``.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        A value of another type (the message names it).
    """
    text = json.dumps(_canonical(list(parts)), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Pickled results under ``folder/<namespace>``, addressed by :func:`make_key` keys.

    Parameters
    ----------
    namespace : str
        Sub-folder (one per stage, e.g. ``"connectivity"``).
    folder : path-like, optional
        Cache root; default ``build/cache`` under the project root.
    enabled : bool, default True
        False: every lookup misses and nothing is stored (``cache=False`` in the pipelines).

    Attributes
    ----------
    hits, misses : int
        Lookups answered from / missing in the cache since creation.
    """

    def __init__(self, namespace: str, folder: str | os.PathLike | None = None, enabled: bool = True):
        self.folder = Path(folder) if folder is not None else build_dir() / "cache"
        self.namespace = namespace
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        """Where the entry of ``key`` lives.

        Parameters
        ----------
        key : str
            A :func:`make_key` key.

        Returns
        -------
        pathlib.Path
            ``<folder>/<namespace>/<key[:2]>/<key>.pkl``.
        """
        return self.folder / self.namespace / key[:2] / f"{key}.pkl"

    def get(self, key: str, participant: str | None = None) -> tuple[bool, Any]:
        """``(True, value)`` for a stored key, else ``(False, None)``.

        An entry that cannot be read counts as a miss (logged).  Counts :attr:`hits` and :attr:`misses`.

        Parameters
        ----------
        key : str
            A :func:`make_key` key.
        participant : str, default None
            Unused: an entry is addressed by its key alone (the stage skeleton's store interface,
            :class:`helpers.participant_stage.ProvenanceStore`, needs it).

        Returns
        -------
        tuple of (bool, object)
        """
        path = self.path(key)
        if self.enabled and path.is_file():
            try:
                with open(path, "rb") as fh:
                    value = pickle.load(fh)
            except Exception as err:  # unreadable entry (partial copy, incompatible library): recompute
                log.warning("cache entry %s unreadable (%s); recomputing", path, err)
            else:
                self.hits += 1
                return True, value
        self.misses += 1
        return False, None

    def put(self, key: str, value: Any, participant: str | None = None) -> None:
        """Store ``value`` under ``key`` atomically (no-op when disabled).

        Parameters
        ----------
        key : str
            A :func:`make_key` key.
        value : object
            Any picklable result.
        participant : str, default None
            Unused (as for :meth:`get`).
        """
        if not self.enabled:
            return
        with atomic_path(self.path(key)) as tmp, open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """The value stored under ``key``, or ``compute()`` stored there first.

        For derived data that many processes need and each would otherwise recompute (a template,
        a distance map, a reference registration); ``key`` should hold the code that computes it.

        Parameters
        ----------
        key : str
            A :func:`make_key` key.
        compute : callable
            Returns the value (no arguments).

        Returns
        -------
        object
        """
        found, value = self.get(key)
        if not found:
            value = compute()
            self.put(key, value)
        return value
