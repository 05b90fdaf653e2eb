"""Baselines shared by the benchmarks (imported by path: benchmarks/ is not a package)."""

from __future__ import annotations

import nibabel as nib
import numpy as np


def nilearn_labels_masker(reference_bold):
    """nilearn's ``NiftiLabelsMasker`` over the three paper ROIs on the grid of ``reference_bold``."""
    from nilearn.maskers import NiftiLabelsMasker

    from helpers.atlas import roi_masks

    ref = nib.load(reference_bold)
    labels = np.zeros(ref.shape[:3], np.int16)
    for i, mask in enumerate(roi_masks(ref).values(), start=1):
        labels[np.asanyarray(mask.dataobj)] = i
    return NiftiLabelsMasker(nib.Nifti1Image(labels, ref.affine), standardize=None)
