"""The names a user gives: a scale (column or the paper's label), an ROI pair, the tail of a test.

The accepted values and the paper's defaults (:data:`ALTERNATIVES`, :data:`DEFAULT_MEASURE`) live
beside the functions that resolve them, so the rest of :mod:`helpers.stats` works with column names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import paper

#: Accepted values of ``alternative`` ("directional" = the paper's hypothesis for the scale).
ALTERNATIVES = ("directional", "less", "greater", "two-sided")


#: The paper's connectivity measure (CONN's HRF-weighted condition-specific correlation).
DEFAULT_MEASURE = "weighted_hrf"


# Names in messages (helpers.layout.outputs has the paths).
_SCORES = "scores.tsv"


_CONN = "connectivity.tsv"


def resolve_scale(scale: str, columns: Iterable[str] | None = None) -> str:
    """Map a scale name to its ``scores.tsv`` column.

    Accepts the column name itself (``"common_humanity"``) or the paper's label,
    case-insensitively (``"Common humanity"``, ``"Self-compassion mean"``); spaces and hyphens
    in other names become underscores.

    Parameters
    ----------
    scale : str
        Column name or the paper's label (:data:`helpers.paper.SCALES`).
    columns : iterable of str, default None
        The available columns; default None: the paper's seven scales.

    Returns
    -------
    str
        The column name.

    Raises
    ------
    ValueError
        ``scale`` matches none of ``columns`` (the message lists them).
    """
    candidates = list(columns) if columns else list(paper.SCALE_LABELS)
    if scale in candidates:
        return scale
    key = str(scale).strip().lower()
    by_label = {label.lower(): col for col, label in paper.SCALES}
    col = by_label.get(key, key.replace(" ", "_").replace("-", "_"))
    if col in candidates:
        return col
    raise ValueError(f"{_SCORES}: unknown scale {scale!r}; columns are {sorted(candidates)}")


def resolve_pair(pair: str | Sequence[str]) -> tuple[str, str]:
    """``("vmpfc", "amygdala_r")`` or ``"vmpfc-amygdala_r"`` → ``("vmpfc", "amygdala_r")``.

    Parameters
    ----------
    pair : str or sequence of str
        ``(source, target)`` or ``"source-target"`` (ROI names must not contain ``-``).

    Returns
    -------
    tuple of str
        ``(source, target)``.

    Raises
    ------
    ValueError
        Not exactly two non-empty names.
    """
    parts = pair.split("-") if isinstance(pair, str) else list(pair)
    if len(parts) != 2 or not all(isinstance(p, str) and p for p in parts):
        raise ValueError(f"ROI pair must be (source, target) or 'source-target', got {pair!r}")
    return parts[0], parts[1]


def resolve_alternative(alternative: str, scale: str) -> str:
    """Turn ``"directional"`` into the paper's hypothesised direction for ``scale``.

    Parameters
    ----------
    alternative : {"directional", "less", "greater", "two-sided"}
        The requested test; any value but ``"directional"`` is returned unchanged.
    scale : str
        Column name of the scale (:func:`resolve_scale`); a scale without a hypothesised
        direction in :data:`helpers.paper.HYPOTHESISED_DIRECTION` gets ``"two-sided"``.

    Returns
    -------
    str
        ``"less"``, ``"greater"`` or ``"two-sided"``.

    Raises
    ------
    ValueError
        ``alternative`` is not one of :data:`ALTERNATIVES`.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if alternative == "directional":
        return paper.HYPOTHESISED_DIRECTION.get(scale, "two-sided")
    return alternative
