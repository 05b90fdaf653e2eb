"""Reading a params file typed by hand: every mistake stops with the file, the line and the rule."""

from __future__ import annotations

import os

from .schema import SCHEMA
from .validation import validate_value


def load_params_file(path: str | os.PathLike) -> dict:
    """Read a flat YAML params file and check every declared key; ``{}`` for an empty file.

    Everything a person typing the file can get wrong stops here with one message naming the
    file, the line and the rule — never a bare YAML traceback:

    * a tab in the indentation (YAML indents with spaces only);
    * a syntax error (bad indentation, an unclosed bracket or quote), with YAML's own description;
    * a top level that is not ``name: value`` lines, or a name given twice;
    * a value of the wrong type or outside its rule (:data:`SCHEMA`), e.g. ``conditions: face, house``
      (one string where a list is expected: ``conditions: [face, house]``).

    Keys not in :data:`SCHEMA` are returned unchecked (the runner checks them against the
    notebooks' parameters cells).

    Parameters
    ----------
    path : path-like
        The YAML file.

    Returns
    -------
    dict
        Parameter name → value.

    Raises
    ------
    ValueError, TypeError
        As above; the message starts with ``params file <path>, line <n>``.
    """
    import yaml

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"params file {path} does not exist")
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise ValueError(
                f"params file {path}, line {number}: the line is indented with a tab "
                "(rule: YAML indents with spaces only; replace the tab by spaces)"
            )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(x) for x in (err.context, err.problem) if x)
        raise ValueError(
            f"params file {path}{where}: not valid YAML ({what}) (rule: one 'name: value' per "
            "line, lists as [a, b], text with ':' or '#' in quotes, indentation with spaces)"
        ) from None
    except yaml.YAMLError as err:
        raise ValueError(f"params file {path}: not valid YAML ({err})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"params file {path}: expected a mapping of name: value, got {type(data).__name__} "
            "(rule: one 'name: value' per line)"
        )
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key, line = key_node.value, key_node.start_mark.line + 1
        if key in lines:
            raise ValueError(
                f"params file {path}, line {line}: {key!r} is given twice (also on line {lines[key]}) "
                "(rule: each name once)"
            )
        lines[key] = line
    for key, value in data.items():
        if key in SCHEMA:
            validate_value(key, value, f"params file {path}, line {lines.get(str(key), '?')}")
    return data
