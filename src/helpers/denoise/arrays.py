"""Scans × columns arrays for the denoising functions: inputs checked, outputs labelled like them."""

from __future__ import annotations

import numpy as np
import pandas as pd

_EPS = np.finfo(float).eps


def _as_2d(name: str, x) -> tuple[np.ndarray, bool]:
    a = np.asarray(x, dtype=float)
    one_d = a.ndim == 1
    if one_d:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name}: expected 1-D or 2-D (scans × columns), got shape {a.shape}")
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name}: NaN or infinite value at scan {bad[0]}, column {bad[1]}")
    return a, one_d


def _like(template, values: np.ndarray, one_d: bool):
    """Return ``values`` shaped and labelled like ``template`` (Series/DataFrame/array)."""
    if isinstance(template, pd.DataFrame):
        return pd.DataFrame(values, index=template.index, columns=template.columns)
    if isinstance(template, pd.Series):
        return pd.Series(values[:, 0], index=template.index, name=template.name)
    return values[:, 0] if one_d else values
