"""Buffered hulls of many groups at once equal shapely's hull of each group, buffered."""

import numpy as np
import pytest
import shapely

from mapsvc.suggest import hulls
from mapsvc.suggest.hulls import buffered_hulls


def groups(seed: int):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 400, 30)
    sizes[:4] = [1, 2, 3, 4]
    parts = []
    for k, size in enumerate(sizes):
        shape = rng.choice(["normal", "square", "line", "same"]) if k >= 4 else "normal"
        if shape == "normal":
            pts = rng.normal(0, rng.uniform(1, 300), (size, 2))
        elif shape == "square":
            pts = rng.uniform(-50, 50, (size, 2)).round()               # ties on the extremes
        elif shape == "line":
            pts = np.outer(rng.uniform(-100, 100, size), [1.0, 0.5])
        else:
            pts = np.zeros((size, 2))
        parts.append(pts + rng.uniform(100_000, 200_000, 2))
    xy = np.concatenate(parts)
    return xy[:, 0], xy[:, 1], sizes


@pytest.mark.parametrize("seed", range(5))
def test_the_hull_is_shapelys_hull_of_every_group(seed):
    x, y, sizes = groups(seed)
    ours = buffered_hulls(x, y, sizes, 20.0)
    start = np.cumsum(sizes) - sizes
    for k, (a, n) in enumerate(zip(start, sizes)):
        exact = shapely.buffer(shapely.MultiPoint(np.column_stack((x[a:a + n], y[a:a + n]))).convex_hull, 20.0,
                               quad_segs=4)
        assert ours[k].equals_exact(exact, 1e-6) or ours[k].symmetric_difference(exact).area < 1e-6


def test_most_interior_points_never_reach_shapely():
    rng = np.random.default_rng(1)
    xy = rng.normal(0, 100, (100_000, 2))
    inside = hulls._inside_octagon(xy[:, 0], xy[:, 1], np.zeros(len(xy), np.int64), np.array([0]),
                                   np.array([len(xy)]))
    assert inside.mean() > 0.9


def test_one_point_and_one_spot_give_a_disc():
    disc, spot = buffered_hulls(np.array([0.0, 5, 5, 5, 5]), np.array([0.0, 5, 5, 5, 5]), np.array([1, 4]), 10.0)
    assert disc.area == pytest.approx(np.pi * 100, rel=0.05) and spot.area == pytest.approx(disc.area)
