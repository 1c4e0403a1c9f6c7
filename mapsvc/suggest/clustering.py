"""DBSCAN in metres that scales to a million pins without holding every neighbour pair.

``dbscan(x, y, eps_m=, min_pins=)`` takes projected coordinates in metres (EPSG:31370) and returns a
label per point (-1 noise) and a core mask. It gives exactly scikit-learn's DBSCAN clusters:

* A point is **core** when at least ``min_pins`` points (itself included) lie within ``eps_m`` (<=).
* Core points within ``eps_m`` of each other share a cluster (transitively), as in scikit-learn.
* Clusters are numbered 0, 1, ... in the order of their lowest-indexed core point, as scikit-learn
  numbers them, so core labels are equal to scikit-learn's, not just equal up to renaming.
* **Border rule** (scikit-learn gives a border point to whichever cluster reaches it first in its scan):
  a non-core point within ``eps_m`` of a core point joins the cluster of its nearest core point; at an
  exactly equal distance, the lowest cluster label. Everything else is noise.

How (after Gunawan's grid DBSCAN): points fall into square cells of side eps/sqrt(2), so any two points
of one cell are within eps. A cell with >= min_pins points makes all its points core; the other points
ask a k-d tree for their min_pins-th nearest neighbour (a k-nearest query, so a dense hotspot costs no
more than a sparse street). Core points of one cell are connected for free; two neighbouring cells
(up to two cells apart) are connected when some pair of their core points is within eps: checked
exhaustively for small cells in one vectorised pass, by a representative pair for large cells, and
exactly (pruned, k-d tree) only where the representatives fail and the cells are not yet connected
anyway. Memory stays linear in the number of points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

_SMALL_PAIR = 64            # cell pairs with at most this many point pairs are checked exhaustively
_CHUNK = 4_000_000          # point pairs per vectorised batch
# Offsets to the neighbouring cells that can hold a point within eps, one of each symmetric pair:
# the four touching cells first; the farther ones are only checked where those left components apart.
_HALF_OFFSETS = sorted(((dx, dy) for dx in range(0, 3) for dy in range(-2, 3) if dx > 0 or dy > 0),
                       key=lambda o: max(abs(o[0]), abs(o[1])))
_TOUCHING = 4


@dataclass(frozen=True)
class Clustering:
    """DBSCAN result: labels (-1 noise, clusters 0..n_clusters-1) and which points are core."""
    labels: np.ndarray
    core: np.ndarray

    @property
    def n_clusters(self) -> int:
        """Number of clusters found."""
        return int(self.labels.max()) + 1 if len(self.labels) else 0


def dbscan(x, y, *, eps_m: float, min_pins: int) -> Clustering:
    """Cluster points given in metres with DBSCAN (scikit-learn's clusters, documented border rule)."""
    if not (isinstance(eps_m, (int, float)) and math.isfinite(eps_m) and eps_m > 0):
        raise ValueError(f"eps_m must be a positive number of metres, got {eps_m!r}")
    if isinstance(min_pins, bool) or not isinstance(min_pins, (int, np.integer)) or min_pins < 1:
        raise ValueError(f"min_pins must be an integer >= 1, got {min_pins!r}")
    xy = np.column_stack((np.asarray(x, np.float64), np.asarray(y, np.float64)))
    n = len(xy)
    if n == 0:
        return Clustering(np.empty(0, np.int64), np.empty(0, bool))
    if not np.isfinite(xy).all():
        raise ValueError("coordinates must be finite")
    xy = xy - xy.min(axis=0)                       # small numbers keep the distance sums exact enough
    eps = float(eps_m)
    side = eps / math.sqrt(2) * (1 - 1e-9)         # a cell's diagonal is just under eps
    cx, cy = (xy[:, 0] // side).astype(np.int64), (xy[:, 1] // side).astype(np.int64)
    width = int(cy.max()) + 5
    key = (cx + 2) * width + (cy + 2)              # 2 empty cells of margin on every side

    core = _core_points(xy, key, eps, int(min_pins))
    labels = np.full(n, -1, np.int64)
    if not core.any():
        return Clustering(labels, core)
    core_idx = np.flatnonzero(core)
    comp = _connect(xy[core_idx], key[core_idx], eps, side, width)
    # Number clusters by their lowest core point, as scikit-learn does.
    first = np.full(comp.max() + 1, n, np.int64)
    np.minimum.at(first, comp, core_idx)
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    labels[core_idx] = rank[comp]
    _assign_border(xy, core_idx, labels, eps)
    return Clustering(labels, core)


def _core_points(xy: np.ndarray, key: np.ndarray, eps: float, min_pins: int) -> np.ndarray:
    """Mark core points: full cells at once, the rest by their min_pins-th nearest neighbour."""
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    core = counts[inverse] >= min_pins
    ask = np.flatnonzero(~core)
    if len(ask) and min_pins <= len(xy):
        dist, _ = cKDTree(xy).query(xy[ask], k=[min_pins], distance_upper_bound=np.nextafter(eps, np.inf))
        core[ask] = dist[:, 0] <= eps
    return core


def _connect(xy: np.ndarray, key: np.ndarray, eps: float, side: float, width: int) -> np.ndarray:
    """Return a component id per core point: same id when linked by core pairs within eps."""
    order = np.argsort(key, kind="stable")
    xy, key = xy[order], key[order]
    cells, start, count = np.unique(key, return_index=True, return_counts=True)
    n_cells = len(cells)
    edges_a, edges_b, hard = [], [], []
    eps2 = eps * eps
    comp = None
    for k, (dx, dy) in enumerate(_HALF_OFFSETS):
        if k == _TOUCHING:
            comp = _components(edges_a, edges_b, n_cells)
        a = np.arange(n_cells)
        b = np.searchsorted(cells, cells + dx * width + dy)
        found = b < n_cells
        found[found] = cells[b[found]] == cells[found] + dx * width + dy
        a, b = a[found], b[found]
        if comp is not None:                        # already joined through touching cells
            apart = comp[a] != comp[b]
            a, b = a[apart], b[apart]
        pairs = count[a] * count[b]
        small = pairs <= _SMALL_PAIR
        linked = _any_pair_within(xy, start, count, a[small], b[small], eps2)
        edges_a.append(a[small][linked])
        edges_b.append(b[small][linked])
        big_a, big_b = a[~small], b[~small]
        if len(big_a):
            # Each cell's point nearest to the other cell's centre: in dense places these are close.
            ra = _representative(xy, start, count, big_a, _centre(cells[big_b], side, width))
            rb = _representative(xy, start, count, big_b, _centre(cells[big_a], side, width))
            ok = ((xy[ra] - xy[rb]) ** 2).sum(axis=1) <= eps2
            edges_a.append(big_a[ok])
            edges_b.append(big_b[ok])
            hard.append(np.column_stack((big_a[~ok], big_b[~ok])))
    comp = _components(edges_a, edges_b, n_cells)
    if hard:
        comp = _settle_hard_pairs(xy, start, count, comp, np.concatenate(hard), eps)
    out = np.empty(len(xy), np.int64)
    out[order] = np.repeat(comp, count)
    return out


def _components(edges_a: list, edges_b: list, n_cells: int) -> np.ndarray:
    """Connected components of the cells under the edges found so far."""
    ea, eb = np.concatenate(edges_a), np.concatenate(edges_b)
    graph = coo_matrix((np.ones(len(ea), np.int8), (ea, eb)), shape=(n_cells, n_cells))
    return connected_components(graph, directed=False)[1]


def _centre(cells: np.ndarray, side: float, width: int) -> np.ndarray:
    """Centre of each cell (keys carry a margin of two cells), in the shifted metres of xy."""
    return np.column_stack((cells // width - 1.5, cells % width - 1.5)) * side


def _any_pair_within(xy, start, count, a, b, eps2) -> np.ndarray:
    """For each cell pair (a[i], b[i]), say whether any of their point pairs is within eps."""
    result = np.zeros(len(a), bool)
    sizes = count[a] * count[b]
    bounds = np.searchsorted(np.cumsum(sizes), np.arange(_CHUNK, sizes.sum() + _CHUNK, _CHUNK), "right")
    lo = 0
    for hi in [*bounds.tolist(), len(a)]:
        if hi <= lo:
            continue
        s = sizes[lo:hi]
        pair = np.repeat(np.arange(lo, hi), s)
        pos = np.arange(len(pair)) - np.repeat(np.cumsum(s) - s, s)
        nb = count[b][pair]
        pa = start[a][pair] + pos // nb
        pb = start[b][pair] + pos % nb
        hit = ((xy[pa] - xy[pb]) ** 2).sum(axis=1) <= eps2
        result[np.unique(pair[hit])] = True
        lo = hi
    return result


def _representative(xy, start, count, cell_ids, target_xy) -> np.ndarray:
    """Pick, in each given cell, the index of its point nearest to that cell's target point."""
    sizes = count[cell_ids]
    first = np.cumsum(sizes) - sizes
    idx = np.repeat(start[cell_ids] - first, sizes) + np.arange(sizes.sum())
    d = ((xy[idx] - np.repeat(target_xy, sizes, axis=0)) ** 2).sum(axis=1)
    best = np.minimum.reduceat(d, first)
    hit = np.flatnonzero(d == np.repeat(best, sizes))   # the first hit of each cell is its lowest index
    group = np.searchsorted(first, hit, "right") - 1
    keep = np.ones(len(hit), bool)
    keep[1:] = group[1:] != group[:-1]
    return idx[hit[keep]]


def _settle_hard_pairs(xy, start, count, comp, pairs, eps) -> np.ndarray:
    """Check exactly the cell pairs whose representatives failed, where they would join components."""
    parent = np.arange(comp.max() + 1)

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return int(c)

    for a, b in pairs.tolist():
        ra, rb = root(comp[a]), root(comp[b])
        if ra == rb:
            continue
        pa, pb = xy[start[a]:start[a] + count[a]], xy[start[b]:start[b] + count[b]]
        # Only points within eps of the other cell's bounding box can take part in a close pair.
        pa = pa[_near_box(pa, pb, eps)]
        pb = pb[_near_box(pb, pa, eps)] if len(pa) else pb[:0]
        if len(pa) and len(pb):
            dist, _ = cKDTree(pb).query(pa, k=1, distance_upper_bound=np.nextafter(eps, np.inf))
            if (dist <= eps).any():
                parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(c) for c in range(len(parent))], np.int64)[comp]


def _near_box(points: np.ndarray, others: np.ndarray, eps: float) -> np.ndarray:
    """Mask of points within eps of the bounding box of others."""
    lo, hi = others.min(axis=0), others.max(axis=0)
    gap = np.maximum(np.maximum(lo - points, points - hi), 0.0)
    return (gap ** 2).sum(axis=1) <= eps * eps


def _assign_border(xy: np.ndarray, core_idx: np.ndarray, labels: np.ndarray, eps: float) -> None:
    """Give each non-core point within eps of a core point the label of its nearest core point."""
    rest = np.flatnonzero(labels < 0)
    if not len(rest):
        return
    tree = cKDTree(xy[core_idx])
    k = min(4, len(core_idx))
    dist, nb = tree.query(xy[rest], k=list(range(1, k + 1)), distance_upper_bound=np.nextafter(eps, np.inf))
    near = dist[:, 0] <= eps
    rest, dist, nb = rest[near], dist[near], nb[near]
    core_labels = labels[core_idx]
    tied = dist == dist[:, :1]
    cand = np.where(tied, core_labels[np.minimum(nb, len(core_idx) - 1)], np.iinfo(np.int64).max)
    labels[rest] = cand.min(axis=1)
    # More equidistant core points than k were asked for: look at all of them.
    for i in np.flatnonzero(tied[:, -1] & (k < len(core_idx))).tolist():
        ids = tree.query_ball_point(xy[rest[i]], dist[i, 0])
        labels[rest[i]] = core_labels[ids].min()
