"""Buffered convex hulls of many groups of points at once, without building a geometry per point.

Points strictly inside the octagon of a group's extreme points (in eight directions) cannot be hull
vertices (Akl and Toussaint's heuristic), so they are dropped before shapely sees the rest: a cluster of
a million pins keeps a few hundred. The result is the exact convex hull, buffered.
"""

from __future__ import annotations

import numpy as np
import shapely

# Eight directions in counter-clockwise order: their extreme points run counter-clockwise round the hull.
_DIRECTIONS = np.array([(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)], np.float64)


def buffered_hulls(x: np.ndarray, y: np.ndarray, sizes: np.ndarray, buffer_m: float) -> np.ndarray:
    """Return one polygon per group: the convex hull of its points buffered by buffer_m (groups contiguous)."""
    sizes = np.asarray(sizes, np.int64)
    first = np.cumsum(sizes) - sizes
    group = np.repeat(np.arange(len(sizes)), sizes)
    keep = ~_inside_octagon(x, y, group, first, sizes)
    kept_sizes = np.bincount(group[keep], minlength=len(sizes))
    multipoints = shapely.from_ragged_array(shapely.GeometryType.MULTIPOINT,
                                            np.column_stack((x[keep], y[keep])), (np.r_[0, np.cumsum(kept_sizes)],))
    return shapely.buffer(shapely.convex_hull(multipoints), buffer_m, quad_segs=4)


def _inside_octagon(x, y, group, first, sizes) -> np.ndarray:
    """Mask of points strictly inside the octagon spanned by their group's extreme points."""
    if not len(x):
        return np.zeros(0, bool)
    corners = []
    for dx, dy in _DIRECTIONS:
        value = x * dx + y * dy
        best = np.maximum.reduceat(value, first)
        hit = np.flatnonzero(value == best[group])
        hit = hit[np.r_[True, group[hit][1:] != group[hit][:-1]]]      # the first such point per group
        corners.append(hit)
    inside = sizes[group] > 3
    for k in range(len(corners)):
        a, b = corners[k][group], corners[(k + 1) % len(corners)][group]
        ex, ey = x[b] - x[a], y[b] - y[a]
        cross = ex * (y - y[a]) - ey * (x - x[a])
        # A repeated corner makes an empty edge that says nothing about inside or outside.
        inside &= (cross > 0) | ((ex == 0) & (ey == 0))
    for corner in corners:                           # every group keeps at least its extreme points
        inside[corner] = False
    return inside
