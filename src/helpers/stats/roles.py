"""The paper's three condition roles (negative, neutral, positive) in a study's own labels.

A study may name its conditions anything (``face, house, scrambled``): the ``conditions`` parameter lists
them in the order of :data:`ROLES`, :func:`record_roles` writes the mapping beside the outputs, and
:func:`helpers.stats.read_inputs` renames the connectivity conditions back to the roles.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from .names import _CONN

#: The paper's three conditions, in the order the ``conditions`` parameter lists a study's own labels:
#: the feedback of interest, the baseline, the other one (Table 1 is the first minus the second).
ROLES = ("negative", "neutral", "positive")


def role_contrasts(conditions: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The paper's contrasts (Neg − Neu, Pos − Neu) in a study's own labels.

    Parameters
    ----------
    conditions : sequence of str
        The study's three condition labels in the order of :data:`ROLES` (negative, neutral, positive).

    Returns
    -------
    tuple of (str, str)
        ``((first, second), (third, second))``: the minuend and subtrahend of each contrast.

    Raises
    ------
    ValueError
        ``conditions`` does not hold exactly three labels.

    Examples
    --------
    >>> role_contrasts(["face", "house", "scrambled"])
    (('face', 'house'), ('scrambled', 'house'))
    """
    if len(conditions) != len(ROLES):
        raise ValueError(
            f"conditions {list(conditions)}: the paper's analysis needs {len(ROLES)} conditions, "
            f"listed in the order of its roles {', '.join(ROLES)} (rule: parameter conditions)"
        )
    return (conditions[0], conditions[1]), (conditions[2], conditions[1])


def record_roles(conditions: Sequence[str], output_dir: str | os.PathLike) -> dict[str, str]:
    """Write which condition plays each of the paper's roles (``conditions.json``); returns role → label.

    Parameters
    ----------
    conditions : sequence of str
        The study's three condition labels in the order of :data:`ROLES`.
    output_dir : path-like
        The book's output folder (:func:`helpers.layout.outputs`); the file is written atomically.

    Returns
    -------
    dict of str to str
        ``{"negative": conditions[0], "neutral": conditions[1], "positive": conditions[2]}``.

    Raises
    ------
    ValueError
        ``conditions`` does not hold exactly three labels (:func:`role_contrasts`).
    """
    from ..io import write_json
    from ..layout import outputs

    role_contrasts(conditions)  # checks the number of conditions
    roles = dict(zip(ROLES, conditions))
    write_json(roles, outputs(output_dir).conditions)
    return roles


def _in_roles(connectivity: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """``connectivity`` with a study's labels replaced by the paper's roles.

    E.g. ``face-house`` → ``negative-neutral``.
    """
    names = {label: role for role, label in roles.items()}
    names.update({f"{a}-{b}": f"{names[a]}-{names[b]}" for a, b in role_contrasts([roles[r] for r in ROLES])})
    unknown = sorted(set(connectivity["condition"]) - set(names))
    if unknown:
        raise ValueError(
            f"{_CONN}: condition(s) {unknown} are not among the recorded roles {roles} "
            "(rule: connectivity.tsv and conditions.json come from the same run of 03_connectivity)"
        )
    return connectivity.assign(condition=connectivity["condition"].map(names))
