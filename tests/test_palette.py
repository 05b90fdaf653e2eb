"""One colour per region in every figure that shows the regions, and captions that name the colours drawn.

The preprocessing chapter's outlines (helpers.preprocess.qc), the ROI maps (helpers.roi_figure) and the
captions glued from :func:`helpers.style.colour_name` or typed in notebooks/02 must agree: a reviewer
found "VMPFC (red), left amygdala (cyan)" under orange-red and sky-blue outlines, and pink/green/orange
for the same regions in another chapter.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import nbformat
import nibabel as nib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from helpers import roi_figure, style
from helpers.atlas import DEFAULT_ROIS
from helpers.preprocess import qc

matplotlib.use("Agg")  # tests only
ROOT = Path(__file__).resolve().parents[1]
SHAPE = (21, 25, 17)  # unequal sides: an axis mix-up would move the masks off the slices


@pytest.fixture(scope="module")
def images():
    affine = np.diag([3.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = [-30, -36, -32]
    background = nib.Nifti1Image(np.random.default_rng(0).random(SHAPE).astype(np.float32), affine)
    masks = {}
    for name, x0 in zip(DEFAULT_ROIS, (3, 9, 15)):
        data = np.zeros(SHAPE, np.uint8)
        data[x0 : x0 + 3, 10:14, 6:10] = 1  # 3 x 4 x 4 = 48 voxels of 36 mm³
        masks[name] = nib.Nifti1Image(data, affine)
    return background, masks


def _contour_colours(fig) -> list[str]:
    return [
        to_hex(c.get_edgecolor()[0]).upper()
        for ax in fig.axes
        for c in ax.collections
        if len(c.get_edgecolor())
    ]


def test_colour_name_reads_palette_keys_and_hex():
    assert style.colour_name("vmpfc") == "orange-red"
    assert style.colour_name("#56b4e9") == "sky blue"
    assert style.colour_name("compassion") == "bluish green"
    assert style.colour_name(style.PALETTE["memory"]) == "reddish purple"
    assert all(style.colour_name(c) for c in style.OKABE_ITO.values())  # every colour has a word
    with pytest.raises(KeyError, match="no caption word for colour '#123456'"):
        style.colour_name("#123456")


def test_the_three_regions_have_three_distinct_colours():
    colours = [style.PALETTE[name] for name in DEFAULT_ROIS]
    assert len(set(colours)) == 3


def test_preprocessing_outlines_and_roi_maps_draw_the_palette(images):
    background, masks = images
    expected = [style.PALETTE[name].upper() for name in DEFAULT_ROIS]
    outlines = _contour_colours(qc.plot_roi_outlines(background, masks, cut_coords=(-18, 0, 0)))
    assert outlines[:3] == expected and set(outlines) <= set(expected) | {"#000000"}
    fig = roi_figure.plot_rois(background, masks, cut_coords=(-18, 0, 0))
    legend = {
        t.get_text(): to_hex(h.get_facecolor()).upper()
        for t, h in zip(fig.legends[0].texts, fig.legends[0].legend_handles)
    }
    assert legend == dict(zip(("VMPFC", "Left amygdala", "Right amygdala"), expected))


def test_colour_caption_names_what_plot_rois_draws_with_hand_worked_volumes(images):
    _, masks = images
    assert roi_figure.colour_caption(masks) == (
        "VMPFC in orange-red, left amygdala in sky blue and right amygdala in bluish green"
    )
    # 48 voxels of 3 x 3 x 4 = 36 mm³ each: 1,728 mm³
    assert roi_figure.colour_caption({"amygdala_r": masks["amygdala_r"]}, volumes=True) == (
        "Right amygdala in bluish green (1,728 mm³)"
    )
    # a region without a palette colour takes a spare colour that no default region uses
    spare = roi_figure.roi_colours(["vmpfc", "precuneus"])["precuneus"]
    assert spare not in [style.PALETTE[n] for n in DEFAULT_ROIS]


def test_preprocessing_captions_name_the_colours_drawn(images):
    """notebooks/02's captions are typed (the chapter's code is not ours to change): they must
    name the colours that helpers.preprocess.qc draws."""
    background, masks = images
    nb = nbformat.read(ROOT / "notebooks" / "02_preprocessing.ipynb", as_version=4)
    text = {
        key: next(
            c.source for c in nb.cells if c.cell_type == "markdown" and f"{{glue:figure}} {key}" in c.source
        )
        for key in ("prep_coreg_fig", "prep_norm_fig", "prep_rois_fig")
    }
    rois = re.search(
        r"VMPFC \((.+?)\), left amygdala \((.+?)\) and right amygdala \((.+?)\)", text["prep_rois_fig"]
    )
    assert rois and list(rois.groups()) == [style.colour_name(n) for n in DEFAULT_ROIS]
    fig = qc._overlay(background, masks["vmpfc"], None, "", cut_coords=(-18, 0, 0))  # the edges overlay
    edge = {to_hex(im.get_cmap()(1.0)).upper() for ax in fig.axes for im in ax.get_images()} - {"#FFFFFF"}
    assert len(edge) == 1  # one edge colour (the grey background's top is white)
    for key in ("prep_coreg_fig", "prep_norm_fig"):
        named = re.search(r"edges of [^()]+\((.+?)\)", text[key]).group(1)
        assert named == style.colour_name(next(iter(edge)))
