"""Tests for helpers.denoise: CONN's filter, derivatives, tissue masks, CompCor, regression."""

import math

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from helpers.denoise import (
    compcor,
    compcor_from_voxels,
    conn_filter,
    linear_trend,
    regress_and_filter,
    residual_dof,
    temporal_derivative,
    tissue_mask,
)

N, TR = 200, 2.0  # mirror length M = 400; bin k ↔ k/(TR·M) Hz; 0.008 Hz cut-off ↔ k = 6.4


def dct_cosine(k, n=N):
    """cos(πk(t+½)/N): its mirror extension is a pure FFT bin k (frequency k/(2N·TR))."""
    return np.cos(np.pi * k * (np.arange(n) + 0.5) / n)


# --------------------------------------------------------------------------- filter
def test_conn_filter_highpass_removes_slow_and_keeps_fast_sinusoids():
    slow, fast = dct_cosine(3), dct_cosine(20)  # 0.00375 Hz and 0.025 Hz
    np.testing.assert_allclose(conn_filter(slow, TR, (0.008, math.inf)), 0, atol=1e-12)
    np.testing.assert_allclose(conn_filter(fast, TR, (0.008, math.inf)), fast, atol=1e-12)
    np.testing.assert_allclose(conn_filter(slow + fast, TR, (0.008, math.inf)), fast, atol=1e-12)


def test_conn_filter_bandpass_upper_edge_and_constant():
    # upper cut 0.09 Hz ↔ k = 72: bin 71 kept, bin 72 removed (min(k, M−k) ≥ f2·TR·M)
    np.testing.assert_allclose(conn_filter(dct_cosine(71), TR, (0.008, 0.09)), dct_cosine(71), atol=1e-12)
    np.testing.assert_allclose(conn_filter(dct_cosine(72), TR, (0.008, 0.09)), 0, atol=1e-12)
    np.testing.assert_allclose(conn_filter(np.full(N, 5.0), TR, (0.008, 0.09)), 0, atol=1e-12)
    np.testing.assert_allclose(conn_filter(np.full(N, 5.0), TR, (0.0, math.inf)), 5.0, atol=1e-12)


def test_conn_filter_keeps_type_and_labels():
    df = pd.DataFrame({"a": dct_cosine(3), "b": dct_cosine(20)}, index=np.arange(100, 300))
    out = conn_filter(df, TR, (0.008, math.inf))
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b"]
    assert out.index[0] == 100
    assert conn_filter(dct_cosine(20), TR, (0.008, math.inf)).shape == (N,)


@pytest.mark.parametrize("band", [(0.09, 0.008), (-0.1, 1), "hp", (0.008,)])
def test_conn_filter_rejects_bad_band(band):
    with pytest.raises(ValueError, match="band"):
        conn_filter(dct_cosine(3), TR, band)


def test_conn_filter_rejects_nan():
    x = dct_cosine(3)
    x[5] = np.nan
    with pytest.raises(ValueError, match="scan 5"):
        conn_filter(x, TR, (0.008, math.inf))


# --------------------------------------------------------------------------- derivative
def test_temporal_derivative_hand_worked():
    np.testing.assert_array_equal(temporal_derivative(np.array([1.0, 4.0, 9.0, 16.0])), [3.0, 8.0, 12.0, 7.0])
    df = pd.DataFrame({"trans_x": [0.0, 1.0, 3.0], "rot_x": [2.0, 2.0, 2.0]})
    out = temporal_derivative(df)
    assert list(out.columns) == ["trans_x", "rot_x"]
    np.testing.assert_array_equal(out["trans_x"], [1.0, 3.0, 2.0])
    np.testing.assert_array_equal(out["rot_x"], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="2 scans"):
        temporal_derivative(np.array([1.0]))


def test_linear_trend_is_conn_linspace():
    np.testing.assert_allclose(linear_trend(5), [-1, -0.5, 0, 0.5, 1])


# --------------------------------------------------------------------------- tissue mask
def _img(data):
    return nib.Nifti1Image(np.asarray(data, dtype=np.float32), np.diag([3.0, 3.0, 3.0, 1.0]))


def test_tissue_mask_erodes_a_box_by_one_voxel():
    prob = np.zeros((9, 11, 8))  # unequal sides: an axis-order bug cannot pass
    prob[2:7, 2:9, 2:6] = 0.9  # a 5×7×4 box
    mask = np.asarray(tissue_mask(_img(prob)).dataobj).astype(bool)
    expected = np.zeros_like(mask)
    expected[3:6, 3:8, 3:5] = True  # only the 3×5×2 core keeps every neighbour above threshold
    np.testing.assert_array_equal(mask, expected)


def test_tissue_mask_tolerates_one_low_neighbour_and_uses_strict_thresholds():
    prob = np.full((7, 8, 6), 0.9)
    prob[3, 3, 3] = 0.2  # a single hole: its neighbours have exactly one low voxel → survive
    prob[1, 1, 1] = 0.5  # exactly 0.5: neither above (excluded) nor below (no erosion)
    mask = np.asarray(tissue_mask(_img(prob)).dataobj).astype(bool)
    assert not mask[3, 3, 3] and mask[3, 3, 2] and mask[2, 2, 2]
    assert not mask[1, 1, 1] and mask[1, 1, 2]
    # border voxels always drop; interior count = 5·6·4 − the hole − the 0.5 voxel
    assert not mask[0].any() and not mask[:, -1].any() and not mask[:, :, -1].any()
    assert mask.sum() == 5 * 6 * 4 - 2


def test_tissue_mask_errors_name_the_problem():
    with pytest.raises(ValueError, match="no voxel has probability"):
        tissue_mask(_img(np.zeros((5, 6, 4))))
    thin = np.zeros((7, 8, 6))
    thin[3, :, :] = 1.0  # a one-voxel-thick sheet erodes away
    with pytest.raises(ValueError, match="erosion"):
        tissue_mask(_img(thin))


def test_tissue_mask_rescales_percent_with_a_warning_and_refuses_label_maps():
    prob = np.full((7, 8, 6), 0.9)
    prob[3, 3, 3] = 0.2
    prob[1, 1, 1] = 0.5
    expected = np.asarray(tissue_mask(_img(prob)).dataobj)
    with pytest.warns(UserWarning, match=r"look like percent \(max 90\); divided by 100"):
        percent = np.asarray(tissue_mask(_img(prob * 100)).dataobj)
    np.testing.assert_array_equal(
        percent, expected
    )  # not the whole head, as threshold 0.5 on percent would give
    labels = np.zeros((7, 8, 6))
    labels[2:5, 2:6, 2:4] = 3  # a dseg (labels 1–3) given as a probseg
    with pytest.raises(ValueError, match="max 3; rule: probabilities in \\[0, 1\\].*dseg"):
        tissue_mask(_img(labels))
    with pytest.raises(ValueError, match="negative values"):
        tissue_mask(_img(prob - 1))
    with pytest.raises(ValueError, match="max 255"):
        tissue_mask(_img(prob / 0.9 * 255))  # a 0–255 export


def test_residual_dof_counts_the_rank_of_the_design():
    n = 40
    rng = np.random.default_rng(0)
    conf = rng.normal(size=(n, 5))
    assert residual_dof(n, conf) == n - 7  # constant + 5 confounds + trend
    assert (
        residual_dof(n, np.column_stack([conf, np.zeros(n), conf[:, 0] * 2])) == n - 7
    )  # zero/collinear: no loss
    assert residual_dof(n) == n - 2 and residual_dof(n, conf, detrend=False) == n - 6


# --------------------------------------------------------------------------- CompCor
def _planted_voxels(seed=0, n_scans=120, n_vox=400):
    rng = np.random.default_rng(seed)
    t = np.arange(n_scans)
    c1 = np.sin(2 * np.pi * t / 17.0)
    c2 = np.sign(np.sin(2 * np.pi * t / 9.0))
    conf = rng.normal(size=n_scans)
    l1, l2 = rng.normal(size=(2, n_vox))
    l1 -= l1.mean()
    l2 -= l2.mean()  # zero-mean loadings: the components are absent from the mean signal
    base = 1000 + 20 * rng.random(n_vox)
    vox = base + 8 * np.outer(c1, l1) + 4 * np.outer(c2, l2) + 10 * np.outer(conf, rng.normal(1, 0.3, n_vox))
    vox += 0.05 * rng.normal(size=vox.shape)
    return vox, c1, c2, conf


def _r2(y, X):
    X = np.column_stack([np.ones(len(y)), X])
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    return 1 - resid.var() / y.var()


def test_compcor_recovers_planted_components_and_removes_confounds():
    vox, c1, c2, conf = _planted_voxels()
    out = compcor_from_voxels(vox, confounds=conf[:, None], n_components=5, prefix="wm_")
    assert list(out.columns) == ["wm_mean", "wm_pc1", "wm_pc2", "wm_pc3", "wm_pc4"]
    np.testing.assert_allclose(out.mean(), 0, atol=1e-9)
    # the mean column is the percent-of-mask-mean average, centred
    pct = vox * 100 / vox.mean()
    np.testing.assert_allclose(out["wm_mean"], pct.mean(axis=1) - pct.mean(), atol=1e-9)
    # the first two PCs span the planted components (minus their projection on the
    # removed nuisance: constant, mean signal, trend, confound), and ignore the confound
    nuisance = np.column_stack([np.ones(len(conf)), pct.mean(axis=1), linear_trend(len(conf)), conf])
    pcs = out[["wm_pc1", "wm_pc2"]].to_numpy()
    for c in (c1, c2):
        c_resid = c - nuisance @ np.linalg.lstsq(nuisance, c, rcond=None)[0]
        assert _r2(c_resid, pcs) > 0.999
    assert abs(np.corrcoef(out["wm_pc1"], conf)[0, 1]) < 1e-6
    assert _r2(conf, out.iloc[:, 1:].to_numpy()) < 1e-6


def test_compcor_on_an_image_matches_the_voxel_version():
    vox, *_ = _planted_voxels(n_vox=4 * 5 * 3)
    data = np.zeros((6, 7, 5, vox.shape[0]), dtype=np.float64)
    mask = np.zeros((6, 7, 5), dtype=np.uint8)
    mask[1:5, 1:6, 1:4] = 1
    data[mask.astype(bool)] = vox.T
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    out = compcor(nib.Nifti1Image(data, affine), nib.Nifti1Image(mask, affine), n_components=3)
    ref = compcor_from_voxels(vox, n_components=3)
    np.testing.assert_allclose(out.to_numpy(), ref.to_numpy(), atol=1e-8)


def test_compcor_nearest_neighbour_sampling_on_a_finer_mask_grid():
    vox, *_ = _planted_voxels(n_vox=8)
    data = np.zeros((4, 5, 3, vox.shape[0]))
    data[1:3, 1:3, 1:3] = vox.T.reshape(2, 2, 2, -1)
    mask = np.zeros((8, 10, 6), dtype=np.uint8)
    mask[2:6, 2:6, 2:6] = 1  # 1.5-mm voxels: 8 of them fall nearest to each 3-mm voxel of the block
    fine = np.diag([1.5, 1.5, 1.5, 1])
    fine[:3, 3] = -0.75
    out = compcor(nib.Nifti1Image(data, np.diag([3.0, 3, 3, 1])), nib.Nifti1Image(mask, fine), n_components=1)
    pct = vox * 100 / vox.mean()
    np.testing.assert_allclose(out["mean"], pct.mean(axis=1) - pct.mean(), atol=1e-9)


def test_compcor_validation():
    vox, *_ = _planted_voxels()
    with pytest.raises(ValueError, match="mismatched"):
        compcor_from_voxels(vox, confounds=np.ones((10, 1)))
    with pytest.warns(UserWarning, match="only"):
        out = compcor_from_voxels(vox[:, :2], n_components=5)
    assert (out[["pc2", "pc3", "pc4"]] == 0).all().all()


# --------------------------------------------------------------------------- regression
def test_regress_and_filter_removes_confounds_constant_and_trend():
    rng = np.random.default_rng(4)
    conf = rng.normal(size=(N, 3))
    signal = dct_cosine(20)
    y = 5 + 2 * linear_trend(N) + conf @ np.array([1.0, -2.0, 0.5])
    out = regress_and_filter(y, conf, TR)
    np.testing.assert_allclose(out, 0, atol=1e-10)
    # with the signal added: result = filter(residual of the signal), computed by hand
    y2 = pd.DataFrame({"roi": y + signal})
    X = np.column_stack([np.ones(N), conf, linear_trend(N)])
    resid = signal - X @ np.linalg.lstsq(X, signal, rcond=None)[0]
    out2 = regress_and_filter(y2, pd.DataFrame(conf), TR)
    assert list(out2.columns) == ["roi"]
    np.testing.assert_allclose(out2["roi"], conn_filter(resid, TR, (0.008, math.inf)), atol=1e-10)


def test_regress_and_filter_without_detrend_keeps_trend_before_filtering():
    trend = linear_trend(N)
    out = regress_and_filter(trend, None, TR, band=(0.0, math.inf), detrend=False)
    np.testing.assert_allclose(out, trend - trend.mean(), atol=1e-12)


def test_regress_and_filter_validation():
    with pytest.raises(ValueError, match="mismatched"):
        regress_and_filter(np.ones(N), np.ones((N - 1, 2)), TR)
    with pytest.raises(ValueError, match="degrees of freedom"):
        regress_and_filter(np.ones(10), np.random.default_rng(0).normal(size=(10, 9)), TR)
    with pytest.raises(ValueError, match="tr"):
        regress_and_filter(np.ones(N), None, 0)


def test_tissue_mask_fallback_keeps_the_thresholded_mask():
    thin = np.zeros((7, 8, 6))
    thin[3, 2:6, 2:5] = 1.0
    with pytest.warns(UserWarning, match="un-eroded"):
        mask = np.asarray(tissue_mask(_img(thin), fallback=True).dataobj).astype(bool)
    np.testing.assert_array_equal(mask, thin > 0.5)
