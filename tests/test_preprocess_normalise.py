"""The template's extra-cerebral CSF layer (helpers.preprocess.normalise): the surface CSF of a T2w brain
is measured in mm, and a layer of planted thickness has the volume of a layer on a sphere."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from helpers.preprocess.normalise import normalise, surface_csf_mm, template_for_contrast, with_csf_layer


def _t2_brain(layer_mm: float, radii=(62.0, 70.0, 55.0)) -> tuple[nib.Nifti1Image, np.ndarray]:
    """A T2w ellipsoid brain on a 1.5 × 1.5 × 3 mm grid of unequal sides: WM core, a GM shell 4 mm deep,
    a CSF ventricle, and ``layer_mm`` of CSF outside, smoothed; with its mask (brain and layer)."""
    zooms = np.array([1.5, 1.5, 3.0])
    shape = (101, 113, 47)
    affine = np.diag([*zooms, 1.0])
    affine[:3, 3] = -(np.array(shape) // 2) * zooms + (1.0, -3.0, 2.0)
    xyz = nib.affines.apply_affine(affine, np.indices(shape).reshape(3, -1).T).reshape(*shape, 3)

    def ellipsoid(grow: float, centre=(0.0, 0.0, 0.0), scale=1.0) -> np.ndarray:
        r = np.array(radii) * scale + grow
        return (((xyz - np.asarray(centre)) / r) ** 2).sum(-1) <= 1

    brain = ellipsoid(0.0)
    data = np.where(brain, 0.65, 0.0)
    data[ellipsoid(-4.0)] = 0.4
    data[ellipsoid(0.0, centre=(0.0, 5.0, 10.0), scale=0.45)] = 1.0
    outer = ellipsoid(layer_mm) if layer_mm else brain
    data[outer & ~brain] = 1.0
    data = ndimage.gaussian_filter(data, 0.6)  # partial volume at the borders, as an acquired image
    return nib.Nifti1Image(data.astype(np.float32), affine), outer


def test_surface_csf_grows_with_a_planted_layer_and_measures_a_thick_one():
    depth = 10.0
    plain, thin, thick = (surface_csf_mm(*_t2_brain(t), depth) for t in (0.0, 2.0, 4.0))
    assert plain < thin < thick
    # partial volume with the dark outside (3 mm slices, smoothing) hides part of a layer; the
    # curvature of the shell adds up to ((r + 4) / (r + 4 − 5))² for the smallest semi-axis r = 55 mm
    assert 0.7 * 4.0 <= thick - plain <= 4.0 * (59 / 54) ** 2


def test_surface_csf_does_not_depend_on_the_intensity_scale():
    image, inside = _t2_brain(2.0)
    scaled = nib.Nifti1Image(image.get_fdata(dtype=np.float32) * 730.0, image.affine)
    assert surface_csf_mm(scaled, inside, 8.0) == pytest.approx(surface_csf_mm(image, inside, 8.0), abs=1e-6)


def test_a_layer_around_a_sphere_has_the_sphere_area_times_its_thickness():
    shape, res, radius = (41, 43, 39), 3.0, 45.0
    affine = np.diag([res, res, res, 1.0])
    affine[:3, 3] = -(np.array(shape) // 2) * res
    xyz = nib.affines.apply_affine(affine, np.indices(shape).reshape(3, -1).T).reshape(*shape, 3)
    # tissue voxels whose centres lie within radius − res/2: the surface half a voxel beyond them
    r = np.linalg.norm(xyz, axis=-1)
    tissue = r <= radius - res / 2
    template = nib.Nifti1Image(np.select([r <= 30, tissue], [0.4, 0.65], 0.0).astype(np.float32), affine)
    added = with_csf_layer(template, 2.0, 1.0).get_fdata() - template.get_fdata()
    assert np.all(added[tissue] == 0)
    volume = added.sum() * res**3
    assert volume == pytest.approx(4 * np.pi * radius**2 * 2.0, rel=0.15)


def test_normalise_refuses_an_unknown_csf_layer_setting():
    template = template_for_contrast("T2w", 3)
    with pytest.raises(ValueError, match="csf_layer"):
        normalise(template, template, contrast="T2w", csf_layer="uniform")
