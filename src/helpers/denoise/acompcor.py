"""aCompCor: the mean and principal components of a tissue mask's signals, as CONN computes them.

Follows ``book/spec_conn.md`` §4, ``conn_process.m`` (``DETRENDBEFOREPCA``) and ``conn_rex.m``
(mean + principal components of the Gram matrix).
"""

from __future__ import annotations

import logging
import warnings

import nibabel as nib
import numpy as np
import pandas as pd

from .arrays import _EPS, _as_2d
from .masks import mask_voxels, sample_voxels
from .regression import regress_out
from .temporal import linear_trend

log = logging.getLogger(__name__)


def compcor_from_voxels(voxels, confounds=None, n_components: int = 5, prefix: str = "") -> pd.DataFrame:
    """aCompCor regressors from a scans × voxels array (book/spec_conn.md §4, ``conn_rex.m``).

    1. Scale to percent of the mask mean (grand mean over voxels and scans).
    2. Component 1: the mask's mean signal.
    3. Components 2…n: first n−1 principal components — eigenvectors of the
       scans × scans Gram matrix R·Rᵀ, scaled by √eigenvalue — of the residuals R
       of the voxel series after removing each voxel's mean, the mean signal, a
       linear trend (``linspace(-1,1,N)``) and ``confounds``.  Signs make the voxel
       loadings sum positive (as ``conn_rex``).
    4. Every component mean-centred.

    Parameters
    ----------
    voxels : array_like, shape (scans, voxels)
        Signals of the mask's voxels.
    confounds : array or DataFrame (scans × k) or None, default None
        First-level covariates to remove before the PCA (CONN: the 6 realignment
        parameters and the Effect regressors, without derivatives).
    n_components : int, default 5
        Total number of regressors (mean + n−1 PCs); CONN's default is 5.
    prefix : str, default ""
        Prefix for the column names (e.g. ``"wm_"``).

    Returns
    -------
    DataFrame
        Columns ``{prefix}mean, {prefix}pc1 … {prefix}pc{n−1}``; components that cannot be
        estimated (too few voxels or scans) are zero, with a warning (as CONN).

    Raises
    ------
    ValueError
        If ``n_components < 1``, the inputs hold NaN/inf, or ``confounds`` has another number of
        scans.
    """
    y, _ = _as_2d("voxels", voxels)
    n_scans, n_vox = y.shape
    if n_components < 1:
        raise ValueError(f"n_components must be ≥ 1, got {n_components}")
    grand = y.mean()
    if grand > 0:
        y = y * (100.0 / grand)
    else:
        log.debug("compcor: mask mean %.3g is not positive; signals left unscaled", grand)
    mean_signal = y.mean(axis=1)
    columns = {f"{prefix}mean": mean_signal - mean_signal.mean()}
    n_pcs = n_components - 1
    if n_pcs:
        nuisance = [np.ones(n_scans), mean_signal, linear_trend(n_scans)]
        design = np.column_stack(nuisance)
        if confounds is not None:
            conf, _ = _as_2d("confounds", confounds)
            if conf.shape[0] != n_scans:
                raise ValueError(
                    f"confounds: {conf.shape[0]} scans but the BOLD data have {n_scans} (mismatched lengths)"
                )
            design = np.column_stack([design, conf])
        resid = regress_out(y - y.mean(axis=0), design)
        gram = resid @ resid.T
        evals, evecs = np.linalg.eigh(gram)
        order = np.argsort(evals)[::-1][:n_pcs]
        evals = np.clip(evals[order], 0, None)
        comps = evecs[:, order] * np.sqrt(evals)
        keep = evals > evals.max() * max(gram.shape) * _EPS
        if keep.sum() < n_pcs:
            warnings.warn(
                f"compcor: only {int(keep.sum())} of {n_pcs} components can be estimated from {n_vox} voxels "
                f"and {n_scans} scans; the rest are zero (as CONN)",
                stacklevel=2,
            )
            comps[:, ~keep] = 0.0
        sign = np.sign((resid.T @ comps).sum(axis=0))
        sign[sign == 0] = 1
        comps = comps * sign
        comps = comps - comps.mean(axis=0)
        for i in range(n_pcs):
            columns[f"{prefix}pc{i + 1}"] = comps[:, i]
    return pd.DataFrame(columns)


def compcor(bold_img, mask_img, confounds=None, n_components: int = 5) -> pd.DataFrame:
    """aCompCor regressors of one tissue mask from a 4-D BOLD image (book/spec_conn.md §4).

    Samples ``bold_img`` at the voxels of ``mask_img`` (nearest neighbour, see
    :func:`mask_voxels`) and applies :func:`compcor_from_voxels`.
    The mask should already be thresholded and eroded (:func:`tissue_mask`).

    Parameters
    ----------
    bold_img : nibabel image or path
        4-D BOLD series.
    mask_img : nibabel image or path
        Tissue mask (any grid; sampled by nearest neighbour).
    confounds : array or DataFrame (scans × k) or None, default None
        Covariates removed before the PCA (see :func:`compcor_from_voxels`).
    n_components : int, default 5
        Mean + n−1 principal components (CONN's default 5).

    Returns
    -------
    DataFrame
        Columns ``mean, pc1 … pc{n−1}``, one row per scan.

    Raises
    ------
    ValueError
        If the image is not 4-D or the mask lies outside its field of view.
    """
    img = nib.load(bold_img) if not isinstance(bold_img, nib.spatialimages.SpatialImage) else bold_img
    if len(img.shape) != 4:
        raise ValueError(f"{img.get_filename() or 'BOLD image'}: expected a 4-D image, got shape {img.shape}")
    ijk = mask_voxels(mask_img, img.shape, img.affine)
    voxels = sample_voxels(np.asanyarray(img.dataobj), ijk)
    return compcor_from_voxels(voxels, confounds=confounds, n_components=n_components)
