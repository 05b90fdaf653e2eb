"""One-shot resampling, smoothing and the T2-contrast template (analytic cases)."""

import numpy as np
import pytest

from helpers.preprocess.normalise import T2_CONTRAST, Normalisation, template_for_contrast
from helpers.preprocess.pipeline import derivative_paths, mni_grid
from helpers.preprocess.realign import rigid_matrix
from helpers.preprocess.resample import grid_points, resample_series, scatter, smooth_series


def test_resample_series_composes_motion_once():
    # a linear ramp is reproduced exactly by every spline order, so values are analytic
    shape, affine = (12, 10, 8), np.diag([2.0, 2.0, 3.0, 1.0])
    ramp = np.indices(shape)[0] * 2.0 + 1.0  # value = world x + 1
    data = np.stack([ramp, ramp], axis=-1)
    motion = np.stack([np.eye(4), rigid_matrix([2.0, 0, 0, 0, 0, 0])])  # volume 2 samples 2 mm further in x
    pts = np.array([[6.0, 4.0, 6.0], [10.0, 8.0, 9.0], [100.0, 0.0, 0.0]])
    values, coverage = resample_series(data, affine, motion, pts)
    np.testing.assert_allclose(values[:2, 0], [7.0, 11.0], atol=1e-4)
    np.testing.assert_allclose(values[:2, 1], [9.0, 13.0], atol=1e-4)
    assert coverage.tolist() == [True, True, False] and np.all(values[2] == 0)


def test_the_stage_reslices_trilinearly_as_spm8_normalise_write():
    # SPM8's normalise write default is trilinear (interp = 1): between two voxels of a spike the value is
    # the mean of the two, where a cubic B-spline would overshoot and ring
    from helpers.preprocess.participant import DEFAULTS

    shape, affine = (9, 7, 6), np.diag([3.0, 2.5, 4.0, 1.0])
    vol = np.zeros(shape + (1,), np.float32)
    vol[4, 3, 2, 0] = 12.0
    pts = np.array([[13.5, 7.5, 8.0], [10.5, 7.5, 8.0], [7.5, 7.5, 8.0]])  # x = 4.5, 3.5, 2.5 voxels
    values, _ = resample_series(vol, affine, np.eye(4)[None], pts, order=DEFAULTS["resample_order"])
    np.testing.assert_allclose(values[:, 0], [6.0, 6.0, 0.0], atol=1e-6)
    cubic, _ = resample_series(vol, affine, np.eye(4)[None], pts, order=3)
    assert cubic[2, 0] < -0.1  # the spline's ringing, which trilinear does not have


def test_normalisation_affine_only_maps_points():
    n = Normalisation(rigid_matrix([1.0, 2.0, 3.0, 0, 0, 0]), None)
    np.testing.assert_allclose(n.to_structural(np.zeros((1, 3))), [[1.0, 2.0, 3.0]])


def test_smoothing_preserves_sum_and_fwhm():
    # unequal shape and voxel sizes: each axis' kernel must use its own voxel size
    zooms, centre = (2.0, 2.5, 3.0), (20, 17, 14)
    vol = np.zeros((41, 35, 29, 1), np.float32)
    vol[(*centre, 0)] = 1.0
    out = smooth_series(vol, np.diag([*zooms, 1.0]), fwhm=8.0)[..., 0]
    assert out.sum() == pytest.approx(1.0, rel=1e-4)
    for axis, zoom in enumerate(zooms):
        line = np.moveaxis(out, axis, 0)[(slice(None), *np.delete(centre, axis))]
        mm = (np.arange(line.size) - centre[axis]) * zoom
        fwhm = np.sqrt(8 * np.log(2) * (line * mm**2).sum() / line.sum())  # from the profile's variance
        assert fwhm == pytest.approx(8.0, rel=0.03), f"axis {axis}"


def test_grid_scatter_round_trip_and_mni_grid():
    shape, affine = mni_grid(3)
    assert shape == (65, 77, 63)
    np.testing.assert_allclose(grid_points(shape, affine)[0], [-96.0, -132.0, -72.0])
    support = np.zeros((3, 4, 5), bool)
    support[1, 2, 3] = True
    np.testing.assert_array_equal(scatter(np.array([[7.0, 8.0]]), support)[1, 2, 3], [7.0, 8.0])


def test_t2_template_contrast_order():
    img = template_for_contrast("T2w", 2)
    data = img.get_fdata()
    assert data.max() <= T2_CONTRAST["csf"] + 1e-6

    def ijk(xyz):
        return tuple(np.round(np.linalg.inv(img.affine) @ [*xyz, 1])[:3].astype(int))

    # lateral ventricle (MNI ~ (-4, 10, 14)) brighter than deep white matter (MNI ~ (-26, -10, 30))
    assert data[ijk((-4, 10, 14))] > data[ijk((-26, -10, 30))]
    with pytest.raises(ValueError, match="'FLAIR' is not 'T1w' or 'T2w'"):
        template_for_contrast("FLAIR")


def test_derivative_names_match_contract():
    p = derivative_paths("d", "sub-03", "feedback", 3)
    assert p["preproc"].as_posix() == (
        "d/sub-03/func/sub-03_task-feedback_space-MNI152NLin2009cAsym_res-3_desc-preproc_bold.nii.gz"
    )
    assert p["confounds"].name == "sub-03_task-feedback_desc-confounds_timeseries.tsv"
    assert (
        p["probseg_WM"].as_posix()
        == "d/sub-03/anat/sub-03_space-MNI152NLin2009cAsym_res-3_label-WM_probseg.nii.gz"
    )
