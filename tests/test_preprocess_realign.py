"""Realignment: conventions (hand-worked matrices, FD) and recovery of planted rigid motion."""

import numpy as np
import pytest
from scipy import ndimage

from helpers.preprocess.realign import (
    _prune,
    displacement_rms,
    framewise_displacement,
    motion_table,
    realign,
    resample_rigid,
    rigid_matrix,
    rigid_params,
)


def phantom(shape=(32, 32, 18), zooms=(3.125, 3.125, 4.0), seed=0):
    """A smooth textured ellipsoidal 'head' centred on the world origin."""
    rng = np.random.default_rng(seed)
    affine = np.diag([*zooms, 1.0])
    affine[:3, 3] = -(np.array(shape) - 1) / 2 * np.array(zooms)
    world = np.indices(shape).reshape(3, -1).T * np.array(zooms) + affine[:3, 3]
    radius = np.sqrt(((world / np.array([40.0, 45.0, 30.0])) ** 2).sum(1)).reshape(shape)
    texture = ndimage.gaussian_filter(rng.standard_normal(shape), (1.5, 1.5, 1.0))
    vol = ndimage.gaussian_filter((radius < 1) * 100.0 * (1 + 3 * texture), 0.7)
    return vol, affine


def moved_series(vol, affine, params):
    """Volume t shows the head moved by M_t: vol_t(q) = head(M_t⁻¹ q)."""
    inv = np.linalg.inv(affine)
    out = []
    for p in params:
        m = inv @ np.linalg.inv(rigid_matrix(p)) @ affine
        out.append(ndimage.affine_transform(vol, m[:3, :3], m[:3, 3], order=3, mode="constant"))
    return np.stack(out, axis=-1)


def test_rigid_matrix_hand_worked():
    # SPM's Rz(90°) maps x̂ to −ŷ, then translation (1, 2, 3)
    m = rigid_matrix([1, 2, 3, 0, 0, np.pi / 2])
    np.testing.assert_allclose(m @ [1, 0, 0, 1], [1, 1, 3, 1], atol=1e-12)
    # SPM's Rx(90°) maps ŷ to −ẑ; Ry(90°) maps x̂ to −ẑ
    np.testing.assert_allclose(
        rigid_matrix([0, 0, 0, np.pi / 2, 0, 0]) @ [0, 1, 0, 1], [0, 0, -1, 1], atol=1e-12
    )
    np.testing.assert_allclose(
        rigid_matrix([0, 0, 0, 0, np.pi / 2, 0]) @ [1, 0, 0, 1], [0, 0, -1, 1], atol=1e-12
    )
    # rotation about a centre leaves the centre fixed
    c = (10.0, -5.0, 2.0)
    np.testing.assert_allclose(rigid_matrix([0, 0, 0, 0.3, -0.2, 0.1], c) @ [*c, 1], [*c, 1], atol=1e-12)


@pytest.mark.parametrize("centre", [(0, 0, 0), (5.0, -20.0, 12.0)])
def test_rigid_params_round_trip(centre):
    p = np.array([1.5, -2.0, 0.7, 0.05, -0.12, 0.3])
    np.testing.assert_allclose(rigid_params(rigid_matrix(p, centre), centre), p, atol=1e-12)


def test_framewise_displacement_power():
    params = np.zeros((3, 6))
    params[1] = [0.1, -0.2, 0.0, 0.001, 0.0, -0.002]
    fd = framewise_displacement(params)
    assert np.isnan(fd[0])
    assert fd[1] == pytest.approx(0.3 + 50 * 0.003)
    assert fd[2] == pytest.approx(fd[1])  # returning to zero moves as much
    table = motion_table(np.stack([rigid_matrix(p) for p in params]))
    assert list(table.columns) == [
        "trans_x",
        "trans_y",
        "trans_z",
        "rot_x",
        "rot_y",
        "rot_z",
        "framewise_displacement",
    ]


def test_displacement_rms_of_pure_translation():
    true = np.stack([np.eye(4)] * 2)
    est = true.copy()
    est[1, :3, 3] = [0.3, 0.4, 0.0]
    pts = np.random.default_rng(0).normal(size=(3, 50)) * 30
    np.testing.assert_allclose(displacement_rms(est, true, pts), [0.0, 0.5])


def test_displacement_rms_equals_the_distance_of_every_point_mapped():
    rng = np.random.default_rng(3)
    params = rng.normal(size=(5, 6)) * [1, 1, 1, 0.02, 0.02, 0.02]
    est = np.stack([rigid_matrix(p) for p in params])
    true = np.stack([rigid_matrix(p) for p in params + rng.normal(size=(5, 6)) * 0.01])
    pts = rng.normal(size=(3, 400)) * [[40], [60], [50]] + [[5], [-20], [10]]
    hom = np.vstack([pts, np.ones(400)])
    direct = [np.sqrt((((e - t) @ hom)[:3] ** 2).sum(axis=0).mean()) for e, t in zip(est, true)]
    np.testing.assert_allclose(displacement_rms(est, true, pts), direct, rtol=1e-10)
    assert min(direct) > 0.1  # a non-trivial case: errors of a few tenths of a mm


@pytest.mark.parametrize("two_pass", [False, True])
def test_realign_recovers_planted_motion(two_pass):
    vol, affine = phantom()
    rng = np.random.default_rng(1)
    params = np.cumsum(rng.normal(size=(12, 6)) * [0.3, 0.3, 0.3, 0.005, 0.005, 0.005], axis=0)
    params -= params[0]
    data = moved_series(vol, affine, params) + rng.normal(size=vol.shape + (12,))
    result = realign(data, affine, two_pass=two_pass)
    truth = np.stack([rigid_matrix(p) for p in params])
    pts = affine[:3, :3] @ np.argwhere(vol > 50).T + affine[:3, 3:4]
    err = displacement_rms(result.matrices, truth, pts)
    assert np.sqrt((err**2).mean()) < 0.05  # mm, planted motion up to ~2 mm / 2°
    np.testing.assert_allclose(result.params[["trans_x", "trans_y", "trans_z"]], params[:, :3], atol=0.05)
    np.testing.assert_allclose(result.params[["rot_x", "rot_y", "rot_z"]], params[:, 3:], atol=1e-3)
    np.testing.assert_allclose(result.matrices[0], np.eye(4), atol=1e-12)
    assert result.mean.shape == vol.shape


def test_prune_drops_the_least_informative_tenth_until_the_determinant_falls_to_quality():
    rng = np.random.default_rng(0)
    design = rng.standard_normal((200, 3))
    design[:100] *= 1e-3  # rows that carry (almost) nothing: dropped first, all of them
    keep = _prune(design, 0.9)
    # SPM drops round(n / 10) rows a round: 200 -> 180 -> 162 -> 146 -> 131 -> 118 -> 106 (the last
    # weak rows go here) -> 95 -> 85 -> 77 -> ...
    assert keep.min() == 100 and len(keep) in (95, 85, 77, 69, 62)
    ratio = lambda rows: np.linalg.det(design[rows].T @ design[rows]) / np.linalg.det(design.T @ design)  # noqa: E731
    assert ratio(keep) <= 0.9
    looser = _prune(design, 0.95)  # stops rounds earlier on the same path: a superset
    assert len(looser) > len(keep) and set(keep) <= set(looser) and 0.9 < ratio(looser) <= 0.95
    assert len(_prune(design, 1.0)) == 200  # quality 1 keeps every point


@pytest.mark.parametrize("order", [1, 3])
def test_resample_rigid_samples_each_volume_at_its_motion_matrix_times_every_voxel(order):
    vol, affine = phantom(shape=(17, 14, 9))  # unequal sides
    params = [[0.0] * 6, [1.2, -0.7, 2.1, 0.03, -0.02, 0.05]]
    data = np.stack([vol, 2 * vol], axis=-1)
    matrices = np.stack([rigid_matrix(p) for p in params])
    out = resample_rigid(data, affine, matrices, order=order)
    grid = np.indices(vol.shape).reshape(3, -1)
    for t in range(2):  # by hand: the world point M_t·A·v of every voxel v, read in volume t's voxels
        hom = np.vstack([grid, np.ones(grid.shape[1])])
        at = (np.linalg.inv(affine) @ matrices[t] @ affine @ hom)[:3]
        expected = ndimage.map_coordinates(data[..., t], at, order=order, mode="nearest")
        np.testing.assert_allclose(out[..., t].ravel(), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(out[..., 0], vol, rtol=1e-6, atol=1e-4)  # no motion: the volume itself


def test_realign_rejects_3d():
    with pytest.raises(ValueError, match="4-D"):
        realign(np.zeros((4, 5, 6)), np.eye(4))
