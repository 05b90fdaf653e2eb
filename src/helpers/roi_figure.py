"""The figure of the regions of interest on the MNI template (:mod:`helpers.atlas` gives the masks).

Apart from :mod:`helpers.atlas` so that the compute stages that read ROIs (preprocessing, connectivity)
do not import the book's styles: their code fingerprints follow imports
(:func:`helpers.cache.code_fingerprint`), and a figure colour must not make results stale.
"""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np

from .style import FIGURE_WIDTH, OKABE_ITO, PALETTE, RC, colour_name, format_number, label

__all__ = ["plot_rois", "roi_colours", "colour_caption"]

#: Region names in figure legends.
_ROI_NAMES = {"vmpfc": "VMPFC", "amygdala_l": "Left amygdala", "amygdala_r": "Right amygdala"}


def roi_colours(names) -> dict[str, str]:
    """The colour of each region in the ROI figures: its :data:`helpers.style.PALETTE` colour, or
    (a region the palette does not know) the next spare Okabe–Ito colour.

    Parameters
    ----------
    names : iterable of str
        Region names in drawing order (e.g. the keys of :func:`helpers.atlas.figure_rois`' masks).

    Returns
    -------
    dict of str to str
        Name → hex colour.
    """
    spare = iter(OKABE_ITO[k] for k in ("blue", "yellow", "orange", "black"))
    return {name: PALETTE.get(name) or next(spare) for name in names}


def colour_caption(masks, volumes: bool = False) -> str:
    """The caption words for the region colours: ``"VMPFC in orange-red, left amygdala in sky blue
    and right amygdala in bluish green"`` (the colours :func:`plot_rois` draws).

    Parameters
    ----------
    masks : dict of str to Nifti1Image, or iterable of str
        The regions as passed to :func:`plot_rois` (names suffice without ``volumes``).
    volumes : bool, default False
        Add each region's volume, voxel count × voxel volume: ``"VMPFC in orange-red (7,780 mm³)"``.

    Returns
    -------
    str
    """
    parts = []
    for name, colour in roi_colours(masks).items():
        text = _ROI_NAMES.get(name, label(name))
        if parts and text[1:2].islower():  # "left amygdala" mid-sentence, "VMPFC" stays
            text = text[0].lower() + text[1:]
        part = f"{text} in {colour_name(colour)}"
        if volumes:
            img = masks[name]
            mm3 = float(np.count_nonzero(np.asanyarray(img.dataobj))) * abs(np.linalg.det(img.affine[:3, :3]))
            part += f" ({format_number(mm3, 0)} mm³)"
        parts.append(part)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def plot_rois(template: nib.Nifti1Image, masks: dict[str, nib.Nifti1Image], cut_coords=(0, 4, -16)):
    """Figure: the ROIs as filled (70 % opaque), outlined regions on the template (orthogonal slices).

    Colours (named in a legend) are the book's region colours (:func:`roi_colours`, from
    :data:`helpers.style.PALETTE`); :func:`colour_caption` names them for the caption.

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

    colours = roi_colours(masks)
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
            colour = colours[name]
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
