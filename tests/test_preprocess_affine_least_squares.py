"""Least-squares affine registration (helpers.preprocess.affine_least_squares): a planted affine between a
two-tissue template and a structural of other contrast, bias, grid and voxel size is recovered."""

from __future__ import annotations

import numpy as np
import pytest
from nibabel.affines import apply_affine

from helpers.preprocess.affine_least_squares import affine_least_squares
from helpers.preprocess.realign import rigid_matrix


def _tissues(
    affine: np.ndarray, shape, to_template: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """GM and WM fractions of an ellipsoid brain with an off-centre WM core, two ventricle-like holes and a
    GM blob, sampled on a grid (``to_template`` maps the grid's world points to the template's).  Edges
    are logistic in the distance (2 mm wide), so both grids sample the same smooth images."""
    to_template = np.eye(4) if to_template is None else to_template
    world = apply_affine(to_template @ affine, np.indices(shape).reshape(3, -1).T).reshape(*shape, 3)

    def inside(centre, radii) -> np.ndarray:
        distance = (np.sqrt((((world - centre) / radii) ** 2).sum(-1)) - 1) * np.mean(radii)
        return 1 / (1 + np.exp(np.clip(distance / 2.0, -50, 50)))

    brain = inside((0.0, -5.0, 5.0), (55.0, 68.0, 50.0))
    holes = 1 - inside((-8.0, 10.0, 12.0), (9.0, 16.0, 8.0)) - inside((12.0, -20.0, 0.0), (6.0, 10.0, 6.0))
    wm = (
        inside((6.0, 0.0, 8.0), (38.0, 50.0, 34.0))
        * holes
        * (1 - inside((-15.0, -30.0, -10.0), (8.0, 8.0, 8.0)))
    )
    gm = np.clip(brain - wm, 0, 1) * (1 - (1 - holes) * 0.9)
    return gm.astype(np.float32), wm.astype(np.float32)


def _case():
    """Template on a 4 mm grid (T2-like: GM brighter than WM); structural on a 3.5 × 3.5 × 5 mm grid of
    other sides, T1-like (WM brightest), with a 20 % intensity ramp, placed by a planted affine."""
    t_shape, t_affine = (40, 46, 38), np.diag([4.0, 4.0, 4.0, 1.0])
    t_affine[:3, 3] = -(np.array(t_shape) - 1) / 2 * 4.0
    gm, wm = _tissues(t_affine, t_shape)
    template = 0.65 * gm + 0.4 * wm
    truth = rigid_matrix([6.0, -4.0, 3.0, 0.12, -0.08, 0.1]) @ np.diag([1.06, 0.95, 1.03, 1.0])
    truth[0, 1] = 0.04  # a shear
    s_shape, s_affine = (44, 50, 28), np.diag([3.5, 3.5, 5.0, 1.0])
    s_affine[:3, 3] = -(np.array(s_shape) - 1) / 2 * (3.5, 3.5, 5.0) + (2.0, -1.0, 3.0)
    s_gm, s_wm = _tissues(s_affine, s_shape, np.linalg.inv(truth))  # structural point q = truth @ p
    ramp = 1 + 0.2 * apply_affine(s_affine, np.indices(s_shape).reshape(3, -1).T)[:, 1].reshape(s_shape) / 120
    structural = 800.0 * (0.6 * s_gm + 1.0 * s_wm) * ramp
    return template, gm, wm, t_affine, structural, s_affine, truth


def test_a_planted_affine_is_recovered_across_contrast_bias_and_grids():
    template, gm, wm, t_affine, structural, s_affine, truth = _case()
    brain = apply_affine(t_affine, np.argwhere(gm + wm > 0.5))
    start = np.eye(
        4
    )  # the truth moves the brain by more than 8 mm on average (7° about x, scaled by up to 6 %)
    assert np.linalg.norm(apply_affine(truth, brain) - brain, axis=1).mean() > 8.0
    matrix, steps = affine_least_squares([template, gm, wm], t_affine, structural, s_affine, start)
    error = np.linalg.norm(apply_affine(matrix, brain) - apply_affine(truth, brain), axis=1)
    assert error.mean() < 0.3, f"mean error {error.mean():.2f} mm (steps {steps})"
    assert all(1 <= s <= 30 for s in steps)


def test_the_template_contrast_alone_cannot_fit_a_reversed_contrast_as_well():
    """The GM and WM components are what let a T2-like template fit a T1-like structural."""
    template, gm, wm, t_affine, structural, s_affine, truth = _case()
    brain = apply_affine(t_affine, np.argwhere(gm + wm > 0.5))
    errors = []
    for components in ([template], [template, gm, wm]):
        matrix, _ = affine_least_squares(components, t_affine, structural, s_affine, np.eye(4))
        errors.append(np.linalg.norm(apply_affine(matrix, brain) - apply_affine(truth, brain), axis=1).mean())
    assert errors[1] < errors[0]


def test_the_same_input_gives_the_same_bits_and_a_change_of_one_in_a_million_moves_nothing():
    template, gm, wm, t_affine, structural, s_affine, _ = _case()
    args = ([template, gm, wm], t_affine)
    first, _ = affine_least_squares(*args, structural, s_affine, np.eye(4))
    again, _ = affine_least_squares(*args, structural.copy(), s_affine, np.eye(4))
    assert np.array_equal(first, again)
    rng = np.random.default_rng(3)
    changed, _ = affine_least_squares(
        *args, structural * (1 + 1e-6 * rng.standard_normal(structural.shape)), s_affine, np.eye(4)
    )
    brain = apply_affine(t_affine, np.argwhere(gm + wm > 0.5))
    assert np.linalg.norm(apply_affine(changed, brain) - apply_affine(first, brain), axis=1).max() < 0.01


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(components="shapes"), "differ in shape"),
        (dict(levels=((7, 9.0, 2),)), "must be 6 or 12"),
        (dict(start="far"), "no template sample point"),
    ],
)
def test_bad_settings_are_refused_naming_the_rule(change, message):
    template, gm, wm, t_affine, structural, s_affine, _ = _case()
    components = [template, gm[:-1]] if change.get("components") == "shapes" else [template, gm, wm]
    start = np.eye(4)
    if change.get("start") == "far":
        start[:3, 3] = 1000.0
    levels = change.get("levels", ((6, 9.0, 2),))
    with pytest.raises(ValueError, match=message):
        affine_least_squares(components, t_affine, structural, s_affine, start, levels=levels)
