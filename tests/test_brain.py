"""Brain extraction (helpers.preprocess.brain) against the twin's true brain, in T2w and T1w heads."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from conftest import TINY_CONFIG

from helpers.preprocess.brain import brain_mask, dilate, masked
from helpers.simulate import simulate
from helpers.simulate.anatomy import true_brain_mask


def _dice(a, b):
    return 2 * (a & b).sum() / (a.sum() + b.sum())


def _truth(root, sub, contrast="T2w"):
    img = nib.load(root / sub / "anat" / f"{sub}_{contrast}.nii.gz")
    tr = json.loads((root / "derivatives/twin-truth" / sub / f"{sub}_transform.json").read_text())
    return img, true_brain_mask(img, tr)


@pytest.mark.parametrize("sub", ["sub-01", "sub-02", "sub-03"])
def test_mask_matches_the_true_brain_and_drops_scalp_eyes_neck(tiny_twin, sub):
    img, truth = _truth(tiny_twin, sub)
    mask = np.asarray(brain_mask(img, participant=sub).dataobj) > 0
    assert _dice(mask, truth) > 0.9
    assert (truth & ~mask).sum() < 0.02 * truth.sum()  # hardly any brain lost
    # what the mask adds lies near the brain (extra-cerebral CSF); scalp and neck are gone.  At the tiny
    # twin's 8 mm slices a little of the eyes survives in the lowest slices (none at the paper's 4 mm)
    from scipy import ndimage

    dist = ndimage.distance_transform_edt(~truth, sampling=img.header.get_zooms())
    assert (mask & (dist > 8)).sum() < 0.03 * truth.sum()
    assert (mask & (dist > 16)).sum() < 0.01 * truth.sum()


def test_mask_works_on_a_t1w_head_in_another_orientation(tmp_path):
    root = simulate(
        tmp_path / "t1", participants=1, seed=4, config={**TINY_CONFIG, "anatomy": {"contrast": "T1w"}}
    )
    img, truth = _truth(root, "sub-01", "T1w")
    # rewrite the image as LPS with the axes permuted (a layout the twin never writes)
    data = np.transpose(np.asarray(img.dataobj)[::-1, ::-1, :], (2, 0, 1))
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[:3, 3] = [img.shape[0] - 1, img.shape[1] - 1, 0]
    perm = np.eye(4)[[1, 2, 0, 3]]
    other = nib.Nifti1Image(data, img.affine @ flip @ perm)
    mask = np.asarray(brain_mask(other).dataobj) > 0
    back = np.transpose(mask, (1, 2, 0))[::-1, ::-1, :]
    assert _dice(back, truth) > 0.85


def test_constant_or_empty_images_are_refused_by_name():
    img = nib.Nifti1Image(np.full((20, 22, 9), 5.0, np.float32), np.diag([2.0, 2.0, 4.0, 1.0]))
    with pytest.raises(ValueError, match="sub-09.*constant"):
        brain_mask(img, participant="sub-09")


def test_dilate_and_masked_use_millimetres():
    mask = np.zeros((21, 21, 11), np.uint8)
    mask[10, 10, 5] = 1
    img = nib.Nifti1Image(mask, np.diag([1.0, 1.0, 4.0, 1.0]))
    grown = np.asarray(dilate(img, 4.0).dataobj) > 0
    assert grown[10, 14, 5] and not grown[10, 15, 5]  # 4 mm in-plane = 4 voxels
    assert grown[10, 10, 6] and not grown[10, 10, 7]  # 4 mm across slices = 1 voxel
    data = nib.Nifti1Image(np.full(mask.shape, 3.0, np.float32), img.affine)
    assert np.asarray(masked(data, dilate(img, 4.0)).dataobj).sum() == pytest.approx(3.0 * grown.sum())
