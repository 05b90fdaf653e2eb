"""Masked reads of 4-D images (helpers.preprocess.voxels): the same bits as a float copy of the whole run."""

import nibabel as nib
import numpy as np
import pytest

from helpers.preprocess.voxels import masked_series, temporal_mean_sd

SHAPE = (7, 5, 4, 23)  # unequal axes: a transposed or mis-ordered read cannot pass


def _written(tmp_path, data, name, dtype=None):
    """``data`` saved as NIfTI (gzip) with the given on-disk type, then read back lazily.

    Integer types get nibabel's own slope and intercept (as our derivatives, int16 with a float64
    slope and intercept once read).
    """
    img = nib.Nifti1Image(data, np.diag([3.0, 3.0, 4.0, 1.0]))
    if dtype is not None:
        img.set_data_dtype(dtype)
    path = tmp_path / f"{name}.nii.gz"
    nib.save(img, path)
    return nib.load(path)


@pytest.fixture
def series_and_mask():
    rng = np.random.default_rng(4)
    data = (500 + 40 * rng.standard_normal(SHAPE)).astype(np.float32)
    mask = rng.random(SHAPE[:3]) < 0.4
    return data, mask


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32, np.float64])
def test_masked_series_equals_the_full_float32_read_to_the_bit(tmp_path, series_and_mask, dtype):
    data, mask = series_and_mask
    img = _written(tmp_path, data, "run", dtype)
    full = np.asarray(img.dataobj, dtype=np.float32)
    got = masked_series(img, mask)
    assert got.dtype == np.float32 and got.shape == (mask.sum(), SHAPE[3])
    np.testing.assert_array_equal(got, full[mask])
    if np.dtype(dtype).kind in "iu":  # scaled on disk, and the scaling applied (not the raw integers)
        assert img.dataobj.slope != 1.0
        np.testing.assert_allclose(got, data[mask], atol=float(img.dataobj.slope))


def test_masked_series_of_an_image_in_memory(series_and_mask):
    data, mask = series_and_mask
    img = nib.Nifti1Image(data.astype(np.float64), np.eye(4))
    np.testing.assert_array_equal(masked_series(img, mask), data[mask])


def test_temporal_mean_sd_equals_the_whole_run_reductions_to_the_bit(tmp_path, series_and_mask):
    data, mask = series_and_mask
    img = _written(tmp_path, data, "run", np.int16)
    full = np.asarray(img.dataobj, dtype=np.float32)  # Fortran order, as read from any NIfTI file
    mean, sd = temporal_mean_sd(masked_series(img, mask))
    np.testing.assert_array_equal(mean, full.mean(axis=3)[mask])
    np.testing.assert_array_equal(sd, full.std(axis=3)[mask])
    # the hand-worked definition, in float64: the same to float32 precision
    ref = full[mask].astype(np.float64)
    np.testing.assert_allclose(mean, ref.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(sd, ref.std(axis=1), rtol=1e-4)


def test_a_mask_on_another_grid_is_refused(tmp_path, series_and_mask):
    data, mask = series_and_mask
    img = _written(tmp_path, data, "run")
    with pytest.raises(ValueError, match=r"mask of shape \(5, 7, 4\).*same 3-D grid"):
        masked_series(img, mask.transpose(1, 0, 2))
