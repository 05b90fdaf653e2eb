"""The figure of the regions of interest on the MNI template (:mod:`helpers.atlas` gives the masks).

Apart from :mod:`helpers.atlas` so that the compute stages that read ROIs (preprocessing, connectivity)
do not import the book's styles: their code fingerprints follow imports
(:func:`helpers.cache.code_fingerprint`), and a figure colour must not make results stale.
"""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np

from .style import FIGURE_WIDTH, OKABE_ITO, PALETTE, RC, label

__all__ = ["plot_rois"]

#: Region names in figure legends.
_ROI_NAMES = {"vmpfc": "VMPFC", "amygdala_l": "Left amygdala", "amygdala_r": "Right amygdala"}


def plot_rois(template: nib.Nifti1Image, masks: dict[str, nib.Nifti1Image], cut_coords=(0, 4, -16)):
    """Figure: the ROIs as filled (70 % opaque), outlined regions on the template (orthogonal slices).

    Colours (named in a legend) are the book's region colours (:data:`helpers.style.PALETTE`); ROIs
    without one take spare Okabe-Ito colours.

    Parameters
    ----------
    template : Nifti1Image
        Background anatomy.
    masks : dict
        ROI name -> mask image (e.g. from :func:`helpers.atlas.figure_rois`).
    cut_coords : tuple of float, default (0, 4, -16)
        MNI coordinates (x, y, z, mm) of the sagittal, coronal and axial slices.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is shown or forced).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from nilearn import plotting

    spare = iter(OKABE_ITO[k] for k in ("blue", "yellow", "sky_blue", "black"))
    with plt.rc_context(RC):
        fig = plt.figure(figsize=(FIGURE_WIDTH + 0.5, 3.0))
        display = plotting.plot_anat(
            template,
            figure=fig,
            cut_coords=cut_coords,
            draw_cross=False,
            annotate=True,
            black_bg=False,
            dim=0,
            colorbar=False,
        )
        handles = []
        for name, mask in masks.items():
            colour = PALETTE.get(name) or next(spare)
            img = nib.Nifti1Image(np.asanyarray(mask.dataobj).astype(np.uint8), mask.affine)
            with (
                warnings.catch_warnings()
            ):  # nilearn's filled contours convert masked cells to NaN (harmless)
                warnings.filterwarnings("ignore", message="Warning: converting a masked element to nan")
                display.add_contours(img, levels=[0.5], colors=[colour], filled=True, transparency=0.7)
                display.add_contours(img, levels=[0.5], colors=[colour], linewidths=1.5)  # crisp outline
            handles.append(Patch(color=colour, label=_ROI_NAMES.get(name, label(name))))
        fig.legend(
            handles=handles, loc="lower center", ncol=len(handles), frameon=False, bbox_to_anchor=(0.5, -0.08)
        )
    return fig
