"""CONN's default denoising: tissue masks, aCompCor, derivatives, regression, filter.

Follows ``book/spec_conn.md`` §4–§5 and the MATLAB sources read for it:
``conn_filter.m`` (mirror-extended brick-wall FFT filter), ``conn_designmatrix.m``
(first-order derivatives ``convn([x(1);x;x(end)],[1;0;-1],'valid')``, linear trend
``linspace(-1,1,N)``, constant term), ``conn_process.m`` (tissue-mask threshold and
erosion, ``DETRENDBEFOREPCA``) and ``conn_rex.m`` (mean + principal components of
the Gram matrix).  Arrays are scans × columns throughout.
"""

from __future__ import annotations

import logging
import math
import warnings

import nibabel as nib
import numpy as np
import pandas as pd
from scipy import ndimage

__all__ = [
    "conn_filter",
    "temporal_derivative",
    "linear_trend",
    "tissue_mask",
    "mask_voxels",
    "sample_voxels",
    "compcor",
    "compcor_from_voxels",
    "regress_and_filter",
    "regress_out",
    "residual_dof",
    "tissue_probabilities",
    "HIGHPASS",
]

log = logging.getLogger(__name__)

#: The paper's band: high-pass f > 0.008 Hz, no low-pass (book/spec_conn.md §5).
HIGHPASS = (0.008, math.inf)
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


def _validate_band(band, tr: float) -> tuple[float, float]:
    if not np.isfinite(tr) or tr <= 0:
        raise ValueError(f"tr must be a positive number of seconds, got {tr!r}")
    try:
        f1, f2 = (float(b) for b in band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a pair (f1, f2) in Hz, got {band!r}") from None
    if not (f1 >= 0 and f2 > f1) or math.isnan(f2):
        raise ValueError(f"band must satisfy 0 ≤ f1 < f2 (f2 may be inf), got {band!r}")
    return f1, f2


def conn_filter(x, tr: float, band=HIGHPASS):
    """CONN's ideal band-pass filter on a mirror-extended series (book/spec_conn.md §5).

    y = [x; reversed x] (length M = 2N); FFT along scans; zero every bin k with
    min(k, M−k) < f1·TR·M or min(k, M−k) ≥ f2·TR·M; real part of the inverse
    FFT; keep the first N samples (``conn_filter.m``, option ``'full'``).

    Parameters
    ----------
    x : array_like, Series or DataFrame
        Scans × columns (or 1-D).
    tr : float
        Repetition time (s).
    band : (float, float), default :data:`HIGHPASS` ``(0.008, inf)``
        Pass band (Hz); ``f2`` may be ``inf`` (high-pass only, the paper's choice).

    Returns
    -------
    array, Series or DataFrame
        Filtered data of the same type and shape as ``x``.

    Raises
    ------
    ValueError
        If ``tr`` is not a positive number, ``band`` is not a pair with 0 ≤ f1 < f2, or ``x`` is not
        1-D/2-D or holds NaN/inf (the message names the scan and column).
    """
    f1, f2 = _validate_band(band, tr)
    a, one_d = _as_2d("x", x)
    n = a.shape[0]
    m = 2 * n
    spectrum = np.fft.fft(np.concatenate([a, a[::-1]], axis=0), axis=0)
    k = np.arange(m)
    k = np.minimum(k, m - k)
    spectrum[(k < f1 * (tr * m)) | (k >= f2 * (tr * m))] = 0
    y = np.real(np.fft.ifft(spectrum, axis=0))[:n]
    return _like(x, y, one_d)


def temporal_derivative(x):
    """CONN's first-order derivative: d(t) = x(t+1) − x(t−1), end samples replicated.

    ``conn_designmatrix.m``: ``convn([x(1,:); x; x(end,:)], [1;0;-1], 'valid')``,
    so d(1) = x(2) − x(1) and d(N) = x(N) − x(N−1) (book/spec_conn.md §4).

    Parameters
    ----------
    x : array_like, Series or DataFrame
        Scans × columns (or 1-D).

    Returns
    -------
    array, Series or DataFrame
        Same type as ``x`` with the same column names.

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 scans, is not 1-D/2-D, or holds NaN/inf.
    """
    a, one_d = _as_2d("x", x)
    if a.shape[0] < 2:
        raise ValueError(f"temporal_derivative: need at least 2 scans, got {a.shape[0]}")
    padded = np.concatenate([a[:1], a, a[-1:]], axis=0)
    return _like(x, padded[2:] - padded[:-2], one_d)


def linear_trend(n_scans: int) -> np.ndarray:
    """CONN's linear trend regressor ``linspace(-1, 1, N)`` (``conn_designmatrix.m``).

    Parameters
    ----------
    n_scans : int
        Number of scans N.

    Returns
    -------
    ndarray, shape (n_scans,)
    """
    return np.linspace(-1.0, 1.0, n_scans)


# --------------------------------------------------------------------------- masks
def tissue_probabilities(prob: np.ndarray, name: str = "probseg image") -> np.ndarray:
    """Tissue probabilities in [0, 1]; a map saved in percent (0–100) is rescaled, with a warning.

    fMRIPrep writes probabilities in [0, 1]; maps converted or exported by hand sometimes hold percent
    (0–100).  A WM or CSF map always has voxels near certainty, so its maximum tells the unit apart:

    * max ≤ 1 (+1e-6): probabilities, returned as they are;
    * 50 < max ≤ 100 (+1e-6): percent — divided by 100, with a ``UserWarning`` naming the file
      (CONN's threshold 0.5 applied to percent would keep almost every voxel of the head);
    * anything else (negative values, 1 < max ≤ 50, max > 100): ``ValueError`` naming the file and
      the rule — e.g. a label map (``dseg``) or a 0–255 export given instead of a ``probseg``.

    Parameters
    ----------
    prob : ndarray
        Probability values (any shape; NaN/inf are ignored when judging the unit).
    name : str, default "probseg image"
        File name used in the warning and error messages.

    Returns
    -------
    ndarray
        ``prob`` itself, or ``prob / 100``.

    Raises
    ------
    ValueError
        If the values are neither probabilities nor percent (rules above).
    """
    finite = prob[np.isfinite(prob)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    tol = 1e-6
    if low < -tol:
        raise ValueError(
            f"{name}: tissue probability map has negative values (min {low:g}); "
            "rule: probabilities in [0, 1] (or percent in [0, 100])"
        )
    if high <= 1 + tol:
        return prob
    if 50 < high <= 100 + tol:
        message = f"{name}: tissue probabilities look like percent (max {high:g}); divided by 100"
        warnings.warn(message, stacklevel=3)
        log.warning(message)
        return prob / 100.0
    raise ValueError(
        f"{name}: tissue probability map has max {high:g}; rule: probabilities in [0, 1] "
        "(fMRIPrep's label-<WM|CSF>_probseg) or percent in [0, 100] — is it a label map (dseg)?"
    )


def tissue_mask(
    probseg_img, threshold: float = 0.5, max_below: int = 1, fallback: bool = False
) -> nib.Nifti1Image:
    """CONN's WM/CSF mask: probability > threshold, then one erosion step (book/spec_conn.md §4).

    A voxel with p > ``threshold`` survives if at most ``max_below`` voxels of its
    3×3×3 neighbourhood (itself included) have p < ``threshold``; voxels on the
    volume's border are dropped (``conn_process.m``: ``ERODE = 1``,
    ``NEIGHB = 1``, ``binary_threshold = .5``).

    Parameters
    ----------
    probseg_img : nibabel image or path
        3-D tissue probability map (e.g. fMRIPrep's ``label-WM_probseg``); a map in percent is
        rescaled with a warning (:func:`tissue_probabilities`).
    threshold : float, default 0.5
        Probability a voxel must exceed (CONN's ``binary_threshold``).
    max_below : int, default 1
        Largest number of below-threshold voxels allowed in the 3×3×3 neighbourhood (CONN's
        ``NEIGHB``).
    fallback : bool, default False
        If the erosion leaves no voxel (coarse grids), warn and return the thresholded,
        un-eroded mask instead of raising (CONN raises).

    Returns
    -------
    nibabel.Nifti1Image
        Boolean (uint8) mask on the probability map's grid.

    Raises
    ------
    ValueError
        If the image is not 3-D, or no voxel survives the threshold or erosion.
    """
    img = (
        nib.load(probseg_img) if not isinstance(probseg_img, nib.spatialimages.SpatialImage) else probseg_img
    )
    name = getattr(img, "get_filename", lambda: None)() or "probseg image"
    prob = np.asarray(img.dataobj, dtype=float)
    if prob.ndim == 4 and prob.shape[3] == 1:
        prob = prob[..., 0]
    if prob.ndim != 3:
        raise ValueError(f"{name}: tissue probability map must be 3-D, got shape {prob.shape}")
    prob = tissue_probabilities(prob, name)
    above = prob > threshold
    if not above.any():
        raise ValueError(f"{name}: no voxel has probability > {threshold} (check the segmentation)")
    below = (prob < threshold).astype(np.int16)
    n_below = ndimage.convolve(below, np.ones((3, 3, 3), dtype=np.int16), mode="constant", cval=0)
    interior = np.zeros_like(above)
    interior[1:-1, 1:-1, 1:-1] = True
    mask = above & interior & (n_below <= max_below)
    if not mask.any():
        message = (
            f"{name}: no voxel survives the one-step erosion ({int(above.sum())} voxels above {threshold})"
        )
        if not fallback:
            raise ValueError(message)
        warnings.warn(message + "; using the un-eroded mask", stacklevel=2)
        log.warning("%s; using the un-eroded mask", message)
        mask = above
    return nib.Nifti1Image(mask.astype(np.uint8), img.affine)


def mask_voxels(mask_img, data_shape, data_affine) -> np.ndarray:
    """Voxel coordinates (n × 3, int) on a data grid of the voxels of ``mask_img``.

    Mask voxels are mapped to the data grid by nearest neighbour (book/spec_conn.md §4:
    "the functional data are sampled at the mask voxels by nearest neighbour");
    on an identical grid this is plain indexing.  Mask voxels falling outside the
    data's field of view are dropped; several mask voxels may sample the same data
    voxel (each counts, as in CONN).

    Parameters
    ----------
    mask_img : nibabel image or path
        Mask; voxels with a value > 0 are taken.
    data_shape : tuple of int
        Shape of the data (only the first three dimensions are used).
    data_affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) matrix of the data.

    Returns
    -------
    ndarray of int, shape (n, 3)
        Data-grid voxel indices.

    Raises
    ------
    ValueError
        If no mask voxel falls inside the data's field of view.
    """
    img = nib.load(mask_img) if not isinstance(mask_img, nib.spatialimages.SpatialImage) else mask_img
    mask = np.asanyarray(img.dataobj) > 0
    ijk = np.argwhere(mask)
    shape = np.array(data_shape[:3])
    if mask.shape == tuple(shape) and np.allclose(img.affine, data_affine, atol=1e-4):
        return ijk
    world = nib.affines.apply_affine(img.affine, ijk)
    vox = np.rint(nib.affines.apply_affine(np.linalg.inv(data_affine), world)).astype(int)
    vox = vox[np.all((vox >= 0) & (vox < shape), axis=1)]
    if vox.size == 0:
        raise ValueError(f"mask {img.get_filename() or ''} has no voxel inside the data's field of view")
    return vox


def sample_voxels(data4d: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """Scans × voxels float64 array of a 4-D array at voxel coordinates ``ijk`` (n × 3).

    Parameters
    ----------
    data4d : ndarray or array proxy, shape (x, y, z, scans)
        The 4-D data.
    ijk : ndarray of int, shape (n, 3)
        Voxel indices (e.g. from :func:`mask_voxels`).

    Returns
    -------
    ndarray, shape (scans, n)
    """
    return np.asarray(data4d[ijk[:, 0], ijk[:, 1], ijk[:, 2], :], dtype=np.float64).T


# --------------------------------------------------------------------------- CompCor
def regress_out(y: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Residuals y − X·pinv(X)·y, with MATLAB's pinv tolerance max(size(X))·‖X‖·eps.

    Parameters
    ----------
    y : ndarray, shape (scans, k)
        Data.
    design : ndarray, shape (scans, p)
        Design matrix X (include the constant if wanted).

    Returns
    -------
    ndarray, shape (scans, k)
        Residuals.
    """
    rcond = max(design.shape) * _EPS
    return y - design @ (np.linalg.pinv(design, rcond=rcond) @ y)


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


# --------------------------------------------------------------------------- regression
def _denoising_matrix(n: int, confounds, detrend: bool) -> np.ndarray:
    """X = [1, confounds, linear trend] of :func:`regress_and_filter` (the trend unless ``detrend=False``)."""
    parts = [np.ones((n, 1))]
    if confounds is not None:
        conf, _ = _as_2d("confounds", confounds)
        if conf.shape[0] != n:
            raise ValueError(f"confounds: {conf.shape[0]} scans but y has {n} (mismatched lengths)")
        parts.append(conf)
    if detrend:
        parts.append(linear_trend(n)[:, None])
    return np.hstack(parts)


def residual_dof(n_scans: int, confounds=None, detrend: bool = True) -> int:
    """Residual degrees of freedom of :func:`regress_and_filter`: N − rank([1, confounds, trend]).

    The rank uses MATLAB's tolerance (as :func:`regress_out`'s ``pinv``), so all-zero columns
    (a condition absent from a run, book/spec_conn.md §7) and collinear columns are not counted.  The
    filter's own loss (the bins below f1) is not subtracted: the count is an upper bound.

    Parameters
    ----------
    n_scans : int
        Number of scans N.
    confounds : array or DataFrame (scans × k) or None, default None
        Nuisance regressors without a constant.
    detrend : bool, default True
        Whether the linear trend is part of the design.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``confounds`` has another number of scans or holds NaN/inf.
    """
    design = _denoising_matrix(n_scans, confounds, detrend)
    return int(
        n_scans - np.linalg.matrix_rank(design)
    )  # numpy's default tolerance is MATLAB's: max(size)·‖X‖·eps


def regress_and_filter(y, confounds, tr: float, band=HIGHPASS, detrend: bool = True):
    """CONN's denoising in "RegBP" order: regression, then filter (book/spec_conn.md §4–§5).

    Residuals of y on X = [1, confounds, linear trend] (``y − X·pinv(X)·y``; the
    trend is ``linspace(-1,1,N)`` and is left out when ``detrend=False``), then
    :func:`conn_filter` of the residuals alone.

    Parameters
    ----------
    y : array, Series or DataFrame (scans × ROIs)
        Signals to denoise.
    confounds : array or DataFrame (scans × k) or None
        Nuisance regressors **without** a constant.
    tr : float
        Repetition time (s).
    band : (float, float), default :data:`HIGHPASS` ``(0.008, inf)``
        Pass band (Hz); the default is the paper's high-pass.
    detrend : bool, default True
        Include the linear trend in the regression.

    Returns
    -------
    array, Series or DataFrame
        Denoised data of the same type and shape as ``y``.

    Raises
    ------
    ValueError
        If the band or ``tr`` is invalid, lengths differ, values are not finite, or the design has
        as many regressors as scans (no degrees of freedom left).
    """
    _validate_band(band, tr)
    data, one_d = _as_2d("y", y)
    n = data.shape[0]
    design = _denoising_matrix(n, confounds, detrend)
    if design.shape[1] >= n:
        raise ValueError(
            f"regress_and_filter: {design.shape[1]} regressors for {n} scans leave no degrees of freedom"
        )
    resid = regress_out(data, design)
    return _like(y, np.asarray(conn_filter(resid, tr, band)), one_d)
