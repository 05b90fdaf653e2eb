"""SCS scores: the six subscales and the total (two rules), the short form's total, missing answers.

Subscale score = mean of the subscale's **raw** items (negative subscales are *not* reversed, as in
Parrish et al. 2018, Table 1). Total, rule ``"subscale_mean"`` (the default): mean of the six
subscale means after reversing the negative ones as ``6 − x``; rule ``"item_mean"``: mean of the 26
items after reversing the negative items (``book/spec_scs.md``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .items import _as_frame, _participants, item_matrix
from .key import NEGATIVE_SUBSCALES, SCS_KEY, SCS_SF_KEY, SUBSCALES

#: The two rules for the total score (see the module docstring).
TOTAL_RULES = ("subscale_mean", "item_mean")


class MissingItemsWarning(UserWarning):
    """A score was set to NaN (or prorated) because a participant skipped items."""


def _max_missing(missing: str | int) -> int:
    if missing == "complete":
        return 0
    if isinstance(missing, (int, np.integer)) and not isinstance(missing, bool) and missing >= 0:
        return int(missing)
    raise ValueError(f"missing must be 'complete' or a non-negative integer, not {missing!r}")


def _prorated_means(
    items: pd.DataFrame, key: Mapping[str, Sequence[int]], k: int, ids: pd.Series
) -> pd.DataFrame:
    """Mean of each scale's answered items if at most ``k`` are missing, else NaN (with a warning)."""
    out = {}
    for scale, numbers in key.items():
        block = items[list(numbers)]
        n_missing = block.isna().sum(axis=1).to_numpy()
        out[scale] = block.mean(axis=1, skipna=True).where(n_missing <= k)
        for row in np.flatnonzero(n_missing):
            skipped = [i for i in numbers if np.isnan(block.iloc[row][i])]
            action = "prorated from the answered items" if n_missing[row] <= k else "set to NaN"
            warnings.warn(
                f"participant {ids.iloc[row]}: {n_missing[row]} of {len(numbers)} items missing in "
                f"{scale} (items {skipped}); {scale} score {action} "
                f"(missing={k if k else 'complete'!r})",
                MissingItemsWarning,
                stacklevel=3,
            )
    return pd.DataFrame(out, index=items.index)


def score_scs(
    responses,
    item_columns=None,
    total: str = "subscale_mean",
    *,
    pattern: str | None = None,
    missing: str | int = "complete",
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Score the 26-item Self-Compassion Scale (Neff 2003; key and rules in book/spec_scs.md).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); ``None`` detects them with ``pattern``.
    total : {"subscale_mean", "item_mean"}, default "subscale_mean"
        ``"subscale_mean"``: total = (SK + (6 − SJ) + CH + (6 − IS) + MI + (6 − OI)) / 6.
        ``"item_mean"``: total = mean over the 26 items of x (positive items) or 6 − x (negative items).
    pattern : str or None, default None
        Regular expression with one group capturing the item number (:func:`resolve_item_columns`);
        None means :data:`DEFAULT_PATTERN`.
    missing : "complete" or int, default "complete"
        ``"complete"``: a subscale score needs all its items, otherwise it is NaN.
        An integer k: a subscale may lack up to k items and is then the mean of the answered items
        (prorating).  Either way a :class:`MissingItemsWarning` names each participant and subscale
        with missing answers.  The total is NaN whenever any subscale score is NaN; under
        ``"item_mean"`` it is otherwise the mean of the answered (reversed) items.
    source : str, default None
        A file name for error messages (defaults to ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Indexed like ``responses``; columns :data:`SUBSCALES` (means of raw items, negative
        subscales *not* reversed) and ``total``.

    Raises
    ------
    ValueError
        Unknown ``total`` or ``missing``, or invalid responses or item columns (:func:`item_matrix`).
    """
    if total not in TOTAL_RULES:
        raise ValueError(f"total must be one of {TOTAL_RULES}, not {total!r}")
    k = _max_missing(missing)
    responses, source = _as_frame(responses, source)
    items = item_matrix(responses, 26, item_columns, pattern, source, id_column)
    scores = _prorated_means(items, SCS_KEY, k, _participants(responses, id_column))
    if total == "subscale_mean":
        oriented = pd.DataFrame(
            {s: 6 - scores[s] if s in NEGATIVE_SUBSCALES else scores[s] for s in SUBSCALES}
        )
        scores["total"] = oriented.mean(axis=1, skipna=False)
    else:
        reversed_items = _reverse(items, SCS_KEY)
        scores["total"] = reversed_items.mean(axis=1, skipna=True).where(
            scores[list(SUBSCALES)].notna().all(axis=1)
        )
    return scores[[*SUBSCALES, "total"]]


def _reverse(items: pd.DataFrame, key: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Items with the negatively keyed ones reversed as 6 − x."""
    neg = [i for s in NEGATIVE_SUBSCALES for i in key[s]]
    out = items.copy()
    out[neg] = 6 - out[neg]
    return out


def score_scs_sf(
    responses,
    item_columns=None,
    *,
    pattern: str | None = None,
    missing: str | int = "complete",
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Score the 12-item short form SCS-SF (Raes et al. 2011; key in book/spec_scs.md): total only.

    total = mean over the 12 items of x (positive items) or 6 − x (items 1, 4, 8, 9, 11, 12).
    Subscale scores are not computed: Raes et al. advise against them for the short form.

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    pattern : str or None, default None
        Regular expression with one group capturing the item number; None means :data:`DEFAULT_PATTERN`.
    missing : "complete" or int, default "complete"
        Applies to the 12 items as a whole: ``"complete"`` needs all 12, otherwise the total is NaN;
        an integer k allows up to k missing items (the total is then the mean of the answered ones).
    source : str or None, default None
        A file name for error messages (default: ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Indexed like ``responses`` with the single column ``total``.

    Raises
    ------
    ValueError
        Invalid responses or item columns (:func:`item_matrix`), or an invalid ``missing``.
    """
    k = _max_missing(missing)
    responses, source = _as_frame(responses, source)
    items = item_matrix(responses, 12, item_columns, pattern, source, id_column)
    reversed_items = _reverse(items, SCS_SF_KEY)
    return _prorated_means(
        reversed_items, {"total": tuple(range(1, 13))}, k, _participants(responses, id_column)
    )


def missing_report(
    responses,
    item_columns=None,
    *,
    pattern: str | None = None,
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Every participant × subscale with skipped items (validated like :func:`score_scs`).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    pattern : str or None, default None
        Regular expression with one group capturing the item number; None means :data:`DEFAULT_PATTERN`.
    source : str or None, default None
        A file name for error messages (default: ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Columns participant_id, subscale, n_missing, n_items, items (the skipped item numbers);
        empty if every item was answered.

    Raises
    ------
    ValueError
        Invalid responses or item columns (:func:`item_matrix`).
    """
    responses, source = _as_frame(responses, source)
    items = item_matrix(responses, 26, item_columns, pattern, source, id_column)
    ids = _participants(responses, id_column)
    rows = []
    for row in np.flatnonzero(items.isna().any(axis=1).to_numpy()):
        for scale in SUBSCALES:
            skipped = [i for i in SCS_KEY[scale] if np.isnan(items.iloc[row][i])]
            if skipped:
                rows.append(
                    {
                        "participant_id": ids.iloc[row],
                        "subscale": scale,
                        "n_missing": len(skipped),
                        "n_items": len(SCS_KEY[scale]),
                        "items": ", ".join(map(str, skipped)),
                    }
                )
    return pd.DataFrame(rows, columns=["participant_id", "subscale", "n_missing", "n_items", "items"])


def compare_total_rules(responses, item_columns=None, **kwargs) -> pd.DataFrame:
    """Both totals side by side: columns ``subscale_mean``, ``item_mean`` and ``difference``.

    ``difference`` is ``subscale_mean − item_mean``; the two rules are those of :func:`score_scs`
    (``total="subscale_mean"`` and ``total="item_mean"``).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    **kwargs
        Passed to :func:`score_scs` (``pattern``, ``missing``, ``source``, ``id_column``).

    Returns
    -------
    DataFrame
        Indexed like ``responses``.
    """
    a = score_scs(responses, item_columns, total="subscale_mean", **kwargs)["total"]
    with warnings.catch_warnings():  # the first call already warned about missing items
        warnings.simplefilter("ignore", MissingItemsWarning)
        b = score_scs(responses, item_columns, total="item_mean", **kwargs)["total"]
    return pd.DataFrame({"subscale_mean": a, "item_mean": b, "difference": a - b})


def summarise_total_rules(comparison: pd.DataFrame) -> dict[str, float]:
    """Numbers describing how much the total rule matters (complete cases of :func:`compare_total_rules`).

    Parameters
    ----------
    comparison : DataFrame
        The result of :func:`compare_total_rules`; rows with a missing value are dropped.

    Returns
    -------
    dict
        ``n``, ``mean_difference`` and ``max_abs_difference`` (subscale_mean − item_mean), ``pearson_r``
        and ``spearman_rho`` between the two totals (NaN for 2 or fewer participants), and
        ``rank_changes``: the number of participants whose rank (average ranks for ties) differs between
        the two totals.
    """
    c = comparison.dropna()
    ranks = c[["subscale_mean", "item_mean"]].rank()
    enough = len(c) > 2
    r = c["subscale_mean"].corr(c["item_mean"]) if enough else float("nan")
    rho = ranks["subscale_mean"].corr(ranks["item_mean"]) if enough else float("nan")
    return {
        "n": len(c),
        "mean_difference": float(c["difference"].mean()),
        "max_abs_difference": float(c["difference"].abs().max()),
        "pearson_r": float(r),
        "spearman_rho": float(rho),
        "rank_changes": int((ranks["subscale_mean"] != ranks["item_mean"]).sum()),
    }
