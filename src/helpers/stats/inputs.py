"""The group sample: reading the two tables and pairing each participant's score with their connectivity.

:func:`read_inputs` reads ``scores.tsv`` and ``connectivity.tsv`` without the excluded participants;
:func:`paired_values` checks the tables (columns, numbers, one row per participant) and pairs one score
with one connectivity value.  Anyone present in only one table, or with a missing value, is excluded
*with a warning* and listed, never dropped silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence

import pandas as pd

from .names import _CONN, _SCORES, DEFAULT_MEASURE, resolve_pair, resolve_scale
from .roles import _in_roles


def _require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    if (
        "participant_id" in columns
        and "participant_id" not in df.columns
        and df.index.name == "participant_id"
    ):
        raise ValueError(f"{name}: participant_id is the index; pass df.reset_index()")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; present: {list(df.columns)}")


def _numeric(values: pd.Series, name: str, column: str) -> pd.Series:
    """``values`` as floats; non-numeric entries raise, naming the participants (missing stays NaN)."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() & values.notna()]
    if not bad.empty:
        listed = ", ".join(f"{pid} ({val!r})" for pid, val in bad.items())
        raise ValueError(f"{name}: column {column} must be numeric; participant(s) {listed}")
    return numbers.astype(float)


def _unique_ids(ids: pd.Series, name: str, what: str) -> None:
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"{name}: participant(s) {dup} appear more than once ({what})")


def read_inputs(
    output_dir: str | os.PathLike, min_participants: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The group sample: ``scores.tsv`` and ``connectivity.tsv`` without the excluded participants.

    Reads the two tables and ``exclusions.tsv`` (if present) from ``output_dir``; when the study's
    conditions have other labels than the paper's, ``conditions.json`` (:func:`record_roles`) says
    which plays each of the paper's roles and the connectivity conditions are renamed to those roles
    (so Table 1's Neg − Neu is, e.g., face − house). Then it applies the one exclusion decision
    (:func:`helpers.exclusions.apply`): every participant-level row of ``exclusions.tsv`` (failures, QC
    flags, the motion rule, your exclusions file) and anyone present in only one of the two tables is
    left out. ``n/a`` is read as missing (BIDS). Column checks happen where the tables are used
    (:func:`paired_values`).

    Parameters
    ----------
    output_dir : path-like
        The book's output folder (:func:`helpers.layout.outputs` names the files in it).
    min_participants : int or None, default None
        Fewest participants the group must keep (in both tables); None: no check. The results
        chapters ask for 3, the fewest a correlation's test needs: with fewer, they stop here with
        the reasons rather than at their first correlation.

    Returns
    -------
    scores, connectivity : DataFrame
        The included participants' rows.
    left_out : DataFrame
        Who was left out: ``participant_id, stage, reason`` (empty when nobody).

    Raises
    ------
    FileNotFoundError
        ``scores.tsv`` or ``connectivity.tsv`` is missing (the message names the chapter that writes it).
    ValueError
        Fewer than ``min_participants`` are left; the message names them and who was left out, why.
    """
    from .. import exclusions
    from ..layout import outputs

    out = outputs(output_dir)
    tables = {}
    for path, writer in ((out.scores, "01_questionnaire"), (out.connectivity, "03_connectivity")):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: not found (written by the {writer} chapter; run it first "
                "or point output_dir at a folder holding it)"
            )
        tables[path] = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    if out.conditions.is_file():
        import json

        tables[out.connectivity] = _in_roles(tables[out.connectivity], json.loads(out.conditions.read_text()))
    scores, connectivity, left_out = exclusions.apply(
        tables[out.scores], tables[out.connectivity], exclusions.read_exclusions(out.exclusions)
    )
    group = sorted(set(scores["participant_id"]) & set(connectivity["participant_id"]))
    if min_participants is not None and len(group) < min_participants:
        reasons = "; ".join(f"{r.participant_id} ({r.stage}: {r.reason})" for r in left_out.itertuples())
        kept = ", ".join(group) or "none"
        raise ValueError(
            f"{output_dir}: {len(group)} participant(s) left for the group analysis ({kept}); "
            f"it needs at least {min_participants}. Left out ({out.exclusions.name} and the two tables): "
            f"{reasons or 'nobody'}"
        )
    return scores, connectivity, left_out


def paired_values(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str,
    contrast: str,
    pair: str | Sequence[str],
    *,
    measure: str = DEFAULT_MEASURE,
    value: str = "z",
) -> pd.DataFrame:
    """One row per participant: the scale score ``x`` and the connectivity value ``y``.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` as read by pandas.
    scale : str
        ``scores.tsv`` column or the paper's label (see :func:`resolve_scale`).
    contrast : str
        A ``condition`` of ``connectivity.tsv``: ``"negative-neutral"``, ``"negative"`` …
    pair : (source, target) or "source-target"
        The ordered ROI pair (``source``/``target`` columns).
    measure : str, default "weighted_hrf"
        ``measure`` of ``connectivity.tsv`` (:data:`DEFAULT_MEASURE`, the paper's).
    value : str, default "z"
        Column of ``connectivity.tsv`` to use (``"z"``: Fisher z, the paper's).

    Returns
    -------
    DataFrame
        Columns ``participant_id, x, y`` sorted by participant.  ``.attrs["excluded"]``
        maps every excluded participant to the reason (also emitted as a warning).

    Raises
    ------
    ValueError
        Missing columns, duplicated participants, or a measure/condition/pair absent
        from ``connectivity.tsv`` (the message lists what is present).
    """
    _require(scores, ["participant_id"], _SCORES)
    _require(connectivity, ["participant_id", "measure", "condition", "source", "target", value], _CONN)
    col = resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    source, target = resolve_pair(pair)
    conn = connectivity
    for field, wanted in (("measure", measure), ("condition", contrast)):
        present = sorted(conn[field].dropna().unique().tolist())
        if wanted not in present:
            raise ValueError(f"{_CONN}: {field} {wanted!r} not found; present: {present}")
        conn = conn[conn[field] == wanted]
    conn = conn[(conn["source"] == source) & (conn["target"] == target)]
    if conn.empty:
        pairs = sorted(set(zip(connectivity["source"], connectivity["target"])))
        raise ValueError(
            f"{_CONN}: no rows for pair {source}→{target} "
            f"(measure {measure!r}, condition {contrast!r}); pairs present: {pairs}"
        )
    _unique_ids(scores["participant_id"], _SCORES, "column participant_id")
    _unique_ids(conn["participant_id"], _CONN, f"measure {measure}, condition {contrast}, {source}→{target}")

    x = _numeric(scores.set_index("participant_id")[col], _SCORES, col)
    y = _numeric(conn.set_index("participant_id")[value], _CONN, value)
    excluded: dict[str, str] = {}
    for pid in sorted(set(x.index) - set(y.index)):
        excluded[pid] = f"not in {_CONN} ({measure}, {contrast}, {source}→{target})"
    for pid in sorted(set(y.index) - set(x.index)):
        excluded[pid] = f"not in {_SCORES}"
    common = sorted(set(x.index) & set(y.index))
    both = pd.DataFrame({"x": x.loc[common], "y": y.loc[common]})
    for pid in both.index[both["x"].isna()]:
        excluded[pid] = f"{_SCORES}: column {col} is missing"
    for pid in both.index[both["y"].isna()]:
        excluded.setdefault(
            pid, f"{_CONN}: column {value} is missing ({measure}, {contrast}, {source}→{target})"
        )
    if excluded:
        warnings.warn(
            f"{col} × {source}→{target} ({measure}, {contrast}): excluded "
            f"{len(excluded)} participant(s): " + "; ".join(f"{k}: {v}" for k, v in excluded.items()),
            stacklevel=2,
        )
    out = both.dropna().rename_axis("participant_id").reset_index()
    out.attrs["excluded"] = excluded
    return out
