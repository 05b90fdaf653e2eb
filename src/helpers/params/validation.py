"""Checking values against the schema (:func:`validate_params`, :func:`validate_value`) and the output
folder (:func:`check_output_dir`); every message names the source, the key, the value and the rule."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from .declaration import Param
from .schema import SCHEMA

log = logging.getLogger(__package__)

_NAMES = {
    "str": "str",
    "path": "str",
    "int": "int",
    "float": "float (or int)",
    "bool": "bool",
    "list[str]": "list of str",
    "str|dict": "str or mapping",
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, (int, float))
    if kind == "path":
        return isinstance(value, (str, os.PathLike))
    if kind == "list[str]":
        return isinstance(value, (list, tuple))
    if kind == "str|dict":
        return isinstance(value, (str, dict))
    return isinstance(value, str)


def _problem(spec: Param, value: Any) -> tuple[type[Exception], str] | None:
    """(exception type, what is wrong) for ``value`` under ``spec``, or None if it is allowed."""
    if value is None:
        return None if spec.nullable else (TypeError, "is None")
    if spec.kind == "list[str]" and isinstance(value, str):
        items = [v.strip() for v in re.split(r"[,\s]+", value) if v.strip()]
        return TypeError, f"is one string, expected list of str (write a list: [{', '.join(items)}])"
    if not _type_ok(spec.kind, value):
        return TypeError, f"has type {type(value).__name__}, expected {_NAMES[spec.kind]}"
    if spec.kind == "list[str]":
        if not value:
            return ValueError, "is empty"
        wrong = [v for v in value if not isinstance(v, str)]
        if wrong:
            return TypeError, f"holds {wrong[0]!r} of type {type(wrong[0]).__name__}, expected str"
        if len(set(value)) != len(value):
            return ValueError, "repeats a value"
    if spec.kind == "path" and not str(value).strip():
        return ValueError, "is empty"
    if spec.choices is not None and value not in spec.choices:
        return ValueError, "is not allowed"
    if spec.low is not None and value < spec.low or spec.high is not None and value > spec.high:
        return ValueError, "is out of range"
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            return ValueError, problem
    return None


def validate_value(name: str, value: Any, source: str = "parameters") -> None:
    """Check one declared parameter; see :func:`validate_params`.

    Parameters
    ----------
    name : str
        A key of :data:`SCHEMA`.
    value : Any
        Its value.
    source : str, default "parameters"
        Where the value comes from; it starts the message.

    Raises
    ------
    TypeError, ValueError
        The value has the wrong type or breaks its rule; the message names the source, the
        parameter, the value and the rule.
    """
    spec = SCHEMA[name]
    found = _problem(spec, value)
    if found:
        exc, what = found
        raise exc(
            f"{source}: parameter {name!r} = {value!r} {what} (rule: {spec.rule()}); "
            f"{name}: {spec.description}"
        )


def validate_params(params: dict, source: str = "parameters", unknown: str = "error") -> dict:
    """Check parameters against :data:`SCHEMA`; return them unchanged.

    Parameters
    ----------
    params : dict
        Parameter name → value.
    source : str, default "parameters"
        Where the parameters come from (``"params file notebooks/params/default.yml"``,
        ``"notebook 03_connectivity"``); it starts every message.
    unknown : {"error", "warn", "ignore"}, default "error"
        What a name not in the schema does: ``ValueError`` (listing the close matches),
        a logged warning, or nothing (the caller checks it some other way).

    Raises
    ------
    TypeError
        A value of the wrong type (the message names the key, the value and the expected type).
    ValueError
        A value outside the allowed choices or range, or breaking the parameter's extra rule,
        or (``unknown="error"``) an undeclared name.
    """
    if not isinstance(params, dict):
        raise TypeError(f"{source}: parameters must be a mapping of name: value, got {type(params).__name__}")
    if unknown not in ("error", "warn", "ignore"):
        raise ValueError(f"unknown must be 'error', 'warn' or 'ignore', got {unknown!r}")
    for name, value in params.items():
        if name in SCHEMA:
            validate_value(name, value, source)
        elif unknown == "error":
            import difflib

            close = difflib.get_close_matches(str(name), SCHEMA, n=3)
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else "see helpers.params.SCHEMA for the known names"
            )
            raise ValueError(
                f"{source}: unknown parameter {name!r} (rule: every parameter is declared in "
                f"helpers.params.SCHEMA); {hint}"
            )
        elif unknown == "warn":
            log.warning(
                "%s: parameter %r is not declared in helpers.params.SCHEMA (not validated)", source, name
            )
    return params


def check_output_dir(path: str | os.PathLike, name: str = "output_dir", source: str = "parameters") -> None:
    """Create the output folder ``path`` if needed and check that it is writable.

    Parameters
    ----------
    path : path-like
        The output folder.
    name : str, default "output_dir"
        The parameter's name, for the message.
    source : str, default "parameters"
        Where the value comes from; it starts the message.

    Raises
    ------
    PermissionError
        The folder cannot be created (a regular file is in the way, or no permission) or is not
        writable; the message names the parameter, the folder and how to fix it.
    """
    folder = os.fspath(path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise PermissionError(
            f"{source}: parameter {name!r} = {folder!r}: cannot create the output folder "
            f"({err.strerror}); point {name} at a writable folder"
        ) from err
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"{source}: parameter {name!r} = {folder!r}: the output folder is not writable; "
            f"point {name} at a writable folder"
        )
