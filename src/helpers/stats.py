"""Group statistics: self-compassion scores × ROI-to-ROI connectivity (pingouin underneath).

The paper (Parrish et al., 2018) computed Pearson correlations across its 19
participants between an SCS score and a VMPFC–amygdala connectivity value
(Fisher z, a condition or a contrast of conditions).  Its hypotheses were
directional and every p it prints matches a **one-tailed** test (see
:func:`audit_reported_correlations`), so the default here is the paper's
hypothesised direction for the scale (:data:`helpers.paper.HYPOTHESISED_DIRECTION`:
``"less"`` for the self-compassion mean and the positive subscales, ``"greater"``
for Self-judgment, Isolation and Over-identification).  Pass
``alternative="two-sided"`` for the conventional test.

Inputs are the project's two tables (data contract: ``book/your_data.md``):

* ``scores.tsv`` — ``participant_id`` + one column per scale (``total``, ``self_kindness`` …);
* ``connectivity.tsv`` — ``participant_id, measure, condition, source, target, r, z``.

Participants are matched by ``participant_id``; anyone present in only one table
(or with a missing value) is excluded *with a warning* and listed in the result,
never dropped silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats as sps

from . import paper

__all__ = [
    "ALTERNATIVES",
    "DEFAULT_MEASURE",
    "resolve_scale",
    "resolve_pair",
    "resolve_alternative",
    "paired_values",
    "correlate",
    "correlate_values",
    "correlation_table",
    "p_from_r",
    "r_from_p",
    "fisher_ci",
    "audit_reported_correlations",
    "read_inputs",
    "ROLES",
    "role_contrasts",
    "record_roles",
]

#: Accepted values of ``alternative`` ("directional" = the paper's hypothesis for the scale).
ALTERNATIVES = ("directional", "less", "greater", "two-sided")
#: The paper's connectivity measure (CONN's HRF-weighted condition-specific correlation).
DEFAULT_MEASURE = "weighted_hrf"

# Names in messages (helpers.layout.outputs has the paths).
_SCORES = "scores.tsv"
_CONN = "connectivity.tsv"


# --------------------------------------------------------------------------- resolving names
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


# --------------------------------------------------------------------------- the paper's roles
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
    from .io import write_json
    from .layout import outputs

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


# --------------------------------------------------------------------------- reading
def read_inputs(output_dir: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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
    """
    from . import exclusions
    from .layout import outputs

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
    return exclusions.apply(
        tables[out.scores], tables[out.connectivity], exclusions.read_exclusions(out.exclusions)
    )


# --------------------------------------------------------------------------- data matching
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


# --------------------------------------------------------------------------- r ↔ p
def p_from_r(r, n, alternative: str = "two-sided"):
    """p value of a Pearson r from the t distribution with df = n − 2.

    t = r √(df / (1 − r²));  ``"less"``: P(T ≤ t), ``"greater"``: P(T ≥ t),
    ``"two-sided"``: min(1, 2 P(T ≥ |t|))  (e.g. Cohen et al. 2003, §2.8).
    Works element-wise on arrays.

    Parameters
    ----------
    r : float or array_like
        Correlation coefficient(s).
    n : int or array_like
        Sample size(s), at least 3.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Tail of the test.

    Returns
    -------
    float or numpy.ndarray
        The p value(s); a float for scalar input.

    Raises
    ------
    ValueError
        ``n`` < 3, or an unknown ``alternative``.

    Examples
    --------
    >>> round(float(p_from_r(-0.402, 19, "less")), 3)
    0.044
    """
    r = np.asarray(r, dtype=float)
    df = np.asarray(n, dtype=float) - 2
    if np.any(df < 1):
        raise ValueError(f"p_from_r needs n ≥ 3, got n = {n}")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(df / (1 - r**2))
    if alternative == "less":
        p = sps.t.cdf(t, df)
    elif alternative == "greater":
        p = sps.t.sf(t, df)
    elif alternative == "two-sided":
        p = np.minimum(2 * sps.t.sf(np.abs(t), df), 1.0)
    else:
        raise ValueError(f"alternative must be 'less', 'greater' or 'two-sided', got {alternative!r}")
    return p if p.ndim else float(p)


def r_from_p(p, n, alternative: str = "two-sided"):
    """The |r| whose p value (df = n − 2) equals ``p``: inverse of :func:`p_from_r`.

    t = t_{df}⁻¹(1 − p) one-tailed or t_{df}⁻¹(1 − p/2) two-tailed; |r| = t / √(df + t²).
    For one-tailed tests this is the r in the tested direction.

    Parameters
    ----------
    p : float or array_like
        p value(s).
    n : int or array_like
        Sample size(s).
    alternative : {"two-sided", "one-sided", "less", "greater"}, default "two-sided"
        ``"less"``, ``"greater"`` and ``"one-sided"`` all mean one tail.

    Returns
    -------
    float or numpy.ndarray
        The magnitude of r; a float for scalar input.

    Raises
    ------
    ValueError
        Unknown ``alternative``.
    """
    p = np.asarray(p, dtype=float)
    df = np.asarray(n, dtype=float) - 2
    if alternative == "two-sided":
        t = sps.t.isf(p / 2, df)
    elif alternative in ("less", "greater", "one-sided"):
        t = sps.t.isf(p, df)
    else:
        raise ValueError(f"alternative must be 'one-sided' or 'two-sided', got {alternative!r}")
    r = t / np.sqrt(df + t**2)
    return r if r.ndim else float(r)


def fisher_ci(r, n, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided confidence interval of a Pearson r via Fisher's z.

    z = atanh(r), SE = 1/√(n − 3), CI = tanh(z ± z_{(1+c)/2} · SE)  (Fisher 1921);
    r is clipped to ±(1 − 1e-15) first, so r = ±1 gives a finite z.

    Parameters
    ----------
    r : float
        Correlation coefficient.
    n : int
        Sample size; below 4 the interval is ``(nan, nan)``.
    confidence : float, default 0.95
        Coverage c of the interval.

    Returns
    -------
    tuple of float
        ``(low, high)``.
    """
    if n < 4:
        return float("nan"), float("nan")
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    half = sps.norm.ppf((1 + confidence) / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


# --------------------------------------------------------------------------- correlations
def _pingouin_value(res: pd.DataFrame, *names: str):
    for name in names:
        if name in res.columns:
            return res[name].iloc[0]
    raise KeyError(f"pingouin result lacks {names}; columns {list(res.columns)}")


def correlate(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str,
    contrast: str,
    pair: str | Sequence[str] = ("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    value: str = "z",
    method: str = "pearson",
) -> dict:
    """Correlate an SCS score with one ROI-pair connectivity value across participants.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (formats in ``book/your_data.md``).
    scale : str
        ``"total"`` (the self-compassion mean) or a subscale column, or the paper's label.
    contrast : str
        ``"negative-neutral"``, ``"positive-neutral"`` or a single condition.
    pair : (source, target) or "source-target", default ("vmpfc", "amygdala_r")
        The ROI pair (:func:`resolve_pair`).
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        **"directional": the paper's one-tailed test in its hypothesised
        direction for the scale** (``"less"`` for the mean and positive subscales,
        ``"greater"`` for the negative ones; :data:`helpers.paper.HYPOTHESISED_DIRECTION`).
        ``"two-sided"`` gives the conventional test.  The resolved value is returned.
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`DEFAULT_MEASURE`, the paper's).
    value : str, default "z"
        ``connectivity.tsv`` column (Fisher z, as the paper).
    method : str, default "pearson"
        Passed to :func:`pingouin.corr` (``"pearson"``, ``"spearman"``, ``"shepherd"``,
        ``"skipped"``, ``"percbend"``, ``"bicor"``).

    Returns
    -------
    dict
        ``scale, contrast, source, target, measure, method, n, r, p, alternative,
        p_two_sided, ci95_low, ci95_high`` (two-sided Fisher-z 95 % CI), ``bf10``
        (Pearson only, matching ``alternative``) and ``excluded`` (participant → reason).

    Raises
    ------
    ValueError
        Unknown scale or ``alternative``, missing columns, duplicated participants, or fewer than 3
        participants with both values (:func:`paired_values`).
    """
    data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure, value=value)
    col = resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    source, target = resolve_pair(pair)
    if len(data) < 3:
        raise ValueError(
            f"{col} × {source}→{target} ({measure}, {contrast}): only {len(data)} participant(s) "
            "with both a score and a connectivity value; need at least 3"
        )
    res = correlate_values(data["x"], data["y"], resolve_alternative(alternative, col), method=method)
    return {
        "scale": col,
        "contrast": contrast,
        "source": source,
        "target": target,
        "measure": measure,
        **res,
        "excluded": dict(data.attrs["excluded"]),
    }


def correlate_values(x, y, alternative: str = "two-sided", *, method: str = "pearson") -> dict:
    """Correlation of two equal-length vectors (no name resolution, no matching).

    Parameters
    ----------
    x, y : array_like
        The paired values (as floats; :func:`pingouin.corr` drops pairs with a missing value).
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Tail of the test (already resolved: not ``"directional"``).
    method : str, default "pearson"
        Passed to :func:`pingouin.corr` (``"pearson"``, ``"spearman"``, ``"shepherd"``,
        ``"skipped"``, ``"percbend"``, ``"bicor"``).

    Returns
    -------
    dict
        ``method, n, r, p`` (for ``alternative``), ``alternative``, ``p_two_sided``,
        ``ci95_low, ci95_high`` (two-sided Fisher-z 95 % CI, :func:`fisher_ci`) and
        ``bf10`` (JZS Bayes factor, :func:`pingouin.bayesfactor_pearson`, Pearson only,
        for the same alternative; Wetzels & Wagenmakers 2012; NaN for other methods).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    res = pg.corr(x, y, alternative=alternative, method=method)
    r, n = float(res["r"].iloc[0]), int(res["n"].iloc[0])
    low, high = fisher_ci(r, n)
    return {
        "method": method,
        "n": n,
        "r": r,
        "p": float(_pingouin_value(res, "p_val", "p-val")),
        "alternative": alternative,
        "p_two_sided": p_from_r(r, n, "two-sided"),
        "ci95_low": low,
        "ci95_high": high,
        "bf10": float(pg.bayesfactor_pearson(r, n, alternative=alternative))
        if method == "pearson"
        else float("nan"),
    }


def correlation_table(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scales: Sequence[str] | None = None,
    contrasts: Sequence[str] = ("negative-neutral",),
    pairs: Sequence[str | Sequence[str]] = (("vmpfc", "amygdala_r"),),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    value: str = "z",
    method: str = "pearson",
) -> pd.DataFrame:
    """:func:`correlate` for every scale × contrast × pair.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (formats in ``book/your_data.md``).
    scales : sequence of str, default None
        Scale columns or the paper's labels; default None: Table 1's seven scales, in order.
    contrasts : sequence of str, default ("negative-neutral",)
        Contrasts or single conditions (:func:`correlate`).
    pairs : sequence of str or (str, str), default (("vmpfc", "amygdala_r"),)
        ROI pairs (:func:`resolve_pair`).
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        As for :func:`correlate` (``"directional"``: the paper's one-tailed test for each scale).
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`DEFAULT_MEASURE`, the paper's).
    value : str, default "z"
        ``connectivity.tsv`` column (Fisher z, as the paper).
    method : str, default "pearson"
        Passed to :func:`pingouin.corr`.

    Returns
    -------
    DataFrame
        One row per combination (contrast, then pair, then scale) with the columns of
        :func:`correlate`; ``excluded`` is rendered as a ``"; "``-joined list of participant ids.

    Raises
    ------
    ValueError
        As :func:`correlate` (unknown scale, missing columns, fewer than 3 participants).
    """
    scales = [s for s, _ in paper.SCALES] if scales is None else list(scales)
    rows = []
    for contrast in contrasts:
        for pair in pairs:
            for scale in scales:
                row = correlate(
                    scores,
                    connectivity,
                    scale,
                    contrast,
                    pair,
                    alternative,
                    measure=measure,
                    value=value,
                    method=method,
                )
                row["excluded"] = "; ".join(row["excluded"])
                rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the audit
def _p_interval(r_abs, n, half_r, alternative):
    """Range of p over |r| ∈ [r_abs − half_r, r_abs + half_r] (p falls as |r| rises)."""
    lo = np.clip(r_abs - half_r, 0, 1)
    hi = np.clip(r_abs + half_r, 0, 1 - 1e-12)
    tail = "greater" if alternative == "one-sided" else "two-sided"
    return p_from_r(hi, n, tail), p_from_r(lo, n, tail)


def audit_reported_correlations(
    table: pd.DataFrame, r_decimals: int = 3, p_decimals: int = 3
) -> pd.DataFrame:
    """Check reported (r, p, n) triples for consistency with one- or two-tailed tests.

    For each row, the one-tailed (in the direction of r) and two-tailed p of the
    reported r are computed with df = n − 2 (:func:`p_from_r`).  A row is
    consistent with a test if some r' within rounding of the printed r
    (|r'| ∈ [|r| − ½·10^−r_decimals, |r| + ½·10^−r_decimals]) has a p that
    rounds to the printed p (p' ∈ [p − ½·10^−p_decimals, p + ½·10^−p_decimals]):
    an interval-overlap check, since p is monotone in |r|.  This is the logic of
    the GRIM/statcheck family of consistency checks (Nuijten et al. 2016).

    Parameters
    ----------
    table : DataFrame
        Columns ``label, r, p, n`` (extra columns are kept).
    r_decimals, p_decimals : int, default 3
        Printed decimals of r and p (the paper's: 3 and 3).

    Returns
    -------
    DataFrame
        ``table`` plus ``p_one_tailed``, ``p_two_tailed``, ``matches_one_tailed``,
        ``matches_two_tailed``, ``consistent`` (``"one-tailed"``, ``"two-tailed"``,
        ``"neither"``; ``"both"`` only when p is so small that the two round alike),
        and for ``"neither"`` rows ``r_for_p_one_tailed`` / ``r_for_p_two_tailed``:
        the |r| that would give the printed p (NaN elsewhere).

    Raises
    ------
    ValueError
        A column of ``label, r, p, n`` is missing, or a row lacks r or an exact p, or has n < 3.
    TypeError
        ``table`` is not a DataFrame.
    """
    _require(table, ["label", "r", "p", "n"], "reported correlations table")
    bad = table[table["p"].isna() | table["r"].isna() | (table["n"] < 3)]
    if not bad.empty:
        raise ValueError(
            f"reported correlations table: rows {bad['label'].tolist()} need a numeric r, "
            "an exact p and n ≥ 3"
        )
    out = table.copy()
    r_abs = out["r"].abs().to_numpy(float)
    n = out["n"].to_numpy(float)
    p = out["p"].to_numpy(float)
    half_r, half_p = 0.5 * 10.0**-r_decimals, 0.5 * 10.0**-p_decimals
    out["p_one_tailed"] = p_from_r(r_abs, n, "greater")
    out["p_two_tailed"] = p_from_r(r_abs, n, "two-sided")
    for tail, col in (("one-sided", "matches_one_tailed"), ("two-sided", "matches_two_tailed")):
        p_lo, p_hi = _p_interval(r_abs, n, half_r, tail)
        out[col] = (p_lo <= p + half_p) & (p_hi >= p - half_p)
    one, two = out["matches_one_tailed"], out["matches_two_tailed"]
    out["consistent"] = np.select([one & two, one, two], ["both", "one-tailed", "two-tailed"], "neither")
    neither = out["consistent"] == "neither"
    out["r_for_p_one_tailed"] = np.where(neither, r_from_p(p, n, "one-sided"), np.nan)
    out["r_for_p_two_tailed"] = np.where(neither, r_from_p(p, n, "two-sided"), np.nan)
    return out
