"""The structural's bias field (helpers.preprocess.bias): a planted smooth field is recovered and divided
out, an image without one is left alone, and bad settings are refused by name."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from helpers.preprocess.bias import bias_corrected, bias_field

AFFINE = np.diag([2.0, 2.0, 3.0, 1.0])
AFFINE[:3, 3] = (-40.0, -30.0, -20.0)


def _phantom() -> tuple[np.ndarray, np.ndarray]:
    """A three-class 'brain' (nested ellipsoids: 100, 60, 30, noise SD 1) on a grid of unequal sides."""
    rng = np.random.default_rng(0)
    shape = (48, 40, 26)
    x, y, z = (np.indices(shape).T - np.array(shape) / 2).T * np.diag(AFFINE)[:3, None, None, None]
    r = np.sqrt((x / 44) ** 2 + (y / 36) ** 2 + (z / 34) ** 2)
    truth = np.select([r < 0.45, r < 0.75, r < 1.0], [100.0, 60.0, 30.0], 0.0)
    truth = truth + rng.normal(0, 1.0, shape) * (r < 1.0)
    return truth.astype(np.float32), r < 1.0


def _planted(shape) -> np.ndarray:
    """A coil-like field: ±15 % from left to right, 10 % brighter at the top, curved."""
    u = (np.indices(shape).T / np.array(shape) - 0.5).T * 2
    return np.exp(0.15 * u[0] + 0.05 * u[2] - 0.08 * u[1] ** 2).astype(np.float32)


def _cv(values: np.ndarray) -> float:
    return float(values.std() / values.mean())


def test_a_planted_smooth_field_is_recovered_and_divided_out():
    truth, inside = _phantom()
    planted = _planted(truth.shape)
    field = bias_field(truth * planted, inside, AFFINE)
    # the field is the planted one up to a constant (a quadratic holds it), extrapolated to the grid
    assert _cv((field / planted)[inside]) < 0.005 < 0.05 < _cv(planted[inside])
    assert _cv(field / planted) < 0.01
    image = nib.Nifti1Image(truth * planted, AFFINE)
    brain = nib.Nifti1Image(inside.astype(np.uint8), AFFINE)
    corrected = np.asarray(bias_corrected(image, brain).dataobj)
    core = inside & (np.abs(truth - 100) < 5)  # the brightest class: one intensity before the field
    assert _cv(corrected[core]) < 0.012 < 0.025 < _cv((truth * planted)[core])  # noise alone: 0.010


def test_zero_voxels_inside_the_mask_are_left_out_of_the_fit():
    truth, inside = _phantom()
    planted = _planted(truth.shape)
    image = truth * planted
    image[::7, ::5, ::3] = 0  # holes of a real mask (air, dropout)
    assert _cv((bias_field(image, inside, AFFINE) / planted)[inside]) < 0.005


def test_an_image_without_a_field_is_left_alone():
    truth, inside = _phantom()
    assert _cv(bias_field(truth, inside, AFFINE)[inside]) < 0.005


@pytest.mark.parametrize(
    "change, match",
    [
        ({"degree": 0}, "degree"),
        ({"degree": 1.5}, "degree"),
        ({"inside": "empty"}, "brain mask"),
        ({"data": "flat"}, "three positive intensity"),
    ],
)
def test_bad_settings_are_refused_by_name(change, match):
    truth, inside = _phantom()
    args = {"data": truth, "inside": inside, "affine": AFFINE, "degree": 2} | change
    if args["inside"] is not inside:
        args["inside"] = np.zeros_like(inside)
    if args["data"] is not truth:
        args["data"] = np.ones_like(truth)
    with pytest.raises(ValueError, match=match):
        bias_field(**args)
