"""The numpydoc text of the execution parameters every per-participant stage shares, written once.

:data:`EXECUTION_PARAMETERS` holds each shared parameter's type and description;
:func:`execution_doc` inserts them into a stage's docstring with the stage's own defaults.
Re-exported by :mod:`helpers.execution`.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

__all__ = ["EXECUTION_PARAMETERS", "execution_doc"]

#: The numpydoc entries of the execution parameters every per-participant stage shares, written once:
#: name -> (type, description).  :func:`execution_doc` inserts them, with each function's own default.
EXECUTION_PARAMETERS: dict[str, tuple[str, str]] = {
    "backend": (
        '{"serial", "processes", "dask"}',
        "Where the participants are computed (:func:`helpers.execution.map_participants`): a loop "
        "in this process, ``n_jobs`` local worker processes (joblib), or a Dask cluster "
        "(``scheduler``).  The results do not depend on it.",
    ),
    "n_jobs": (
        "int",
        'Worker processes for ``"processes"`` and for the local Dask cluster (-1: every core); '
        'ignored by ``"serial"`` and by an existing Dask scheduler.',
    ),
    "scheduler": (
        "str or distributed.Client",
        'Dask only: a scheduler address (``"tcp://host:8786"``), a scheduler file '
        '(``*.json``) or a client; ``""`` starts a ``LocalCluster`` of ``n_jobs`` '
        "single-threaded workers for the call.",
    ),
    "progress": (
        "bool or None",
        "Show a tqdm progress bar that advances as participants finish (None: only on a "
        "terminal or in a notebook).",
    ),
    "on_error": (
        '{"stop", "skip"}',
        'What a failing participant does (:data:`helpers.execution.ON_ERROR`): ``"stop"`` '
        "raises :class:`helpers.execution.ParticipantError`, whose message starts with the "
        'participant\'s id; ``"skip"`` leaves the participant out and records it, with the '
        "error as reason, in ``exclusions.tsv`` (:func:`helpers.execution.record_exclusions`).",
    ),
    "cache": (
        "bool",
        "Reuse per-participant results whose inputs, parameters and code are unchanged "
        "(:class:`helpers.cache.Cache`); False computes every participant and stores nothing.",
    ),
    "cache_dir": (
        "path-like or None",
        "Root of the cache (None: ``build/cache`` under the project root); one sub-folder per stage.",
    ),
}

_PLACEHOLDER = re.compile(r"^([ \t]*)\{execution_parameters(?::([\w, ]+))?\}[ \t]*$", re.MULTILINE)


def _wrap(text: str, indent: str, width: int = 100) -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def execution_doc(*names: str) -> Callable[[Callable], Callable]:
    """Decorator: replace the ``{execution_parameters}`` lines of a docstring with shared entries.

    The entries come from :data:`EXECUTION_PARAMETERS`, each written as ``name : type, default X``
    with the default read from the decorated function's signature (so the text is written once and
    every stage still shows its own defaults).  A line ``{execution_parameters:a,b}`` inserts the
    entries of ``a`` and ``b`` there (so the Parameters section can follow the signature's order
    when the shared parameters are interleaved with others); one bare ``{execution_parameters}``
    line inserts every other name, in the order of ``names``.  A placeholder line's indentation is
    kept, the descriptions are indented four spaces more.

    Parameters
    ----------
    *names : str
        Keys of :data:`EXECUTION_PARAMETERS` to insert (e.g. ``"backend", "n_jobs"``).

    Returns
    -------
    callable
        A decorator that returns the function itself, with its ``__doc__`` completed.

    Raises
    ------
    ValueError
        A name is not in :data:`EXECUTION_PARAMETERS` or not a parameter of the function, a
        placeholder names a parameter not in ``names`` or one already placed, or a name has no
        placeholder to go to.

    Examples
    --------
    >>> @execution_doc("backend", "n_jobs")
    ... def run(items, backend="processes", n_jobs=1):
    ...     '''Run.
    ...
    ...     Parameters
    ...     ----------
    ...     items : list
    ...         What to run.
    ...     {execution_parameters}
    ...     '''
    >>> print(run.__doc__.splitlines()[6])
        backend : {"serial", "processes", "dask"}, default "processes"
    """
    unknown = [n for n in names if n not in EXECUTION_PARAMETERS]
    if unknown:
        raise ValueError(
            f"execution_doc: unknown parameter(s) {unknown}; known: {list(EXECUTION_PARAMETERS)}"
        )

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func).parameters
        absent = [n for n in names if n not in signature]
        if absent:
            raise ValueError(f"execution_doc: {func.__qualname__} has no parameter(s) {absent}")
        doc = func.__doc__ or ""
        matches = list(_PLACEHOLDER.finditer(doc))
        explicit = [n.strip() for m in matches if m.group(2) for n in m.group(2).split(",")]
        wrong = sorted({n for n in explicit if n not in names or explicit.count(n) > 1})
        if wrong:
            raise ValueError(
                f"execution_doc: {func.__qualname__}: placeholder name(s) {wrong} "
                f"not among {list(names)} or placed twice"
            )
        rest = [n for n in names if n not in explicit]
        bare = [m for m in matches if not m.group(2)]
        if len(bare) > 1 or (rest and not bare):
            raise ValueError(
                f"execution_doc: the docstring of {func.__qualname__} needs one "
                f"{{execution_parameters}} line (for {rest})"
            )
        for match in reversed(matches):  # from the end, so that earlier offsets stay valid
            chosen = [n.strip() for n in match.group(2).split(",")] if match.group(2) else rest
            indent = match.group(1)
            entries = []
            for name in chosen:
                kind, text = EXECUTION_PARAMETERS[name]
                default = signature[name].default
                shown = "" if default is inspect.Parameter.empty else f", default {_literal(default)}"
                entries.append(f"{indent}{name} : {kind}{shown}\n{_wrap(text, indent + '    ')}")
            doc = doc[: match.start()] + "\n".join(entries) + doc[match.end() :]
        func.__doc__ = doc
        return func

    return decorate


def _literal(value: Any) -> str:
    """A default as numpydoc shows it: strings in double quotes, everything else as ``repr``."""
    return '"' + value.replace('"', '\\"') + '"' if isinstance(value, str) else repr(value)
