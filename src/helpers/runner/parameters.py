"""The parameters each notebook receives: the params file, what a notebook's ``parameters`` cell
declares, and the checks of the values against the schema or the notebook's defaults."""

from __future__ import annotations

import ast
from pathlib import Path

from ..params import RESOLVED_KEYS, SCHEMA, load_params_file, validate_value

#: Keys of the params file used by the runner itself, not by notebooks.
RUNNER_KEYS = {"twin_participants", "twin_config", "execution_timeout", "parallel_chapters"}


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
