"""Spatial accuracy scores against planted truth (helpers.preprocess.spatial_accuracy): a planted shift of
known length on a small synthetic ROI gives exactly that error in mm and the Dice counted by hand."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from helpers.preprocess import coregister as coreg_module
from helpers.preprocess.spatial_accuracy import mapped_points, roi_scores, shift_dice


def _roi() -> nib.Nifti1Image:
    """An ellipsoid ROI (semi-axes 6, 4, 3 mm) on a 1 mm grid of unequal sides, origin off-centre."""
    shape = (31, 27, 23)
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    affine[:3, 3] = (-12.0, 20.0, -30.0)
    i, j, k = np.indices(shape)
    c = np.array([15, 13, 11])
    inside = ((i - c[0]) / 6.0) ** 2 + ((j - c[1]) / 4.0) ** 2 + ((k - c[2]) / 3.0) ** 2 <= 1
    return nib.Nifti1Image(inside.astype(np.uint8), affine)


def _points_field(shift) -> nib.Nifti1Image:
    """MNI → structural points image N(y) = y + shift on a 2 mm grid (unequal sides) covering the ROI."""
    shape = (28, 25, 21)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = (-30.0, 0.0, -50.0)
    y = nib.affines.apply_affine(affine, np.indices(shape).reshape(3, -1).T)
    return nib.Nifti1Image((y + np.asarray(shift, float)).reshape(*shape, 3).astype(np.float32), affine)


def _identity(points):
    return np.asarray(points, float)


@pytest.mark.parametrize("shift", [(1.0, 0.0, 0.0), (0.0, -2.0, 0.0), (0.6, 0.8, -1.2)])
def test_a_planted_shift_gives_its_length_as_the_roi_error(shift):
    roi = _roi()
    scores = roi_scores(_points_field(shift), np.eye(4), _identity, {"roi": roi})["roi"]
    assert scores["error_mm"] == pytest.approx(np.linalg.norm(shift), abs=1e-4)
    assert scores["dice_abs"] == scores["dice"]  # no correspondence: the same map


def test_a_one_voxel_shift_gives_the_dice_counted_by_hand():
    roi = _roi()
    data = np.asarray(roi.dataobj, bool)
    by_hand = 2 * (data & np.roll(data, -1, axis=0)).sum() / (2 * data.sum())  # ROI moved by one voxel in x
    dice = roi_scores(_points_field((1.0, 0.0, 0.0)), np.eye(4), _identity, {"roi": roi})["roi"]["dice"]
    assert dice == pytest.approx(by_hand) and dice < 0.9
    assert shift_dice(roi, 0.0) == 1.0 and shift_dice(roi, 2.0) < shift_dice(roi, 1.0) < 1.0


def test_coregistration_and_correspondence_enter_with_their_signs():
    roi, shift = _roi(), np.array([1.5, -0.5, 2.0])
    # our normalisation off by +shift, our coregistration off by -shift: they cancel
    coreg = np.eye(4)
    coreg[:3, 3] = -shift
    assert roi_scores(_points_field(shift), coreg, _identity, {"roi": roi})["roi"][
        "error_mm"
    ] == pytest.approx(0, abs=1e-4)
    # the source brain sits +shift from the template (r = shift): a normalisation that finds it is perfect
    correspondence = (
        np.broadcast_to(shift, (4, 5, 6, 3)).astype(np.float32),
        np.diag([40.0, 40.0, 40.0, 1.0]),
    )
    correspondence[1][:3, 3] = (-80.0, -80.0, -120.0)
    y = nib.affines.apply_affine(roi.affine, np.argwhere(np.asarray(roi.dataobj, bool)))
    p = mapped_points(_points_field(shift), np.eye(4), _identity, y, correspondence)
    assert np.abs(p - y).max() < 1e-4
    scores = roi_scores(_points_field(shift), np.eye(4), _identity, {"roi": roi}, correspondence)["roi"]
    assert scores["dice"] == 1.0 and scores["error_mm"] < 1e-4
    assert scores["dice_abs"] < 0.9  # against the source's own coordinates the shift remains


def test_coregister_refuses_an_unknown_stage():
    img = nib.Nifti1Image(np.zeros((5, 6, 7), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="stages"):
        coreg_module.coregister(img, img, stages=("translation", "affine"))
