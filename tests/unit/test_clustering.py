"""The grid DBSCAN gives scikit-learn's clusters, whichever of its internal paths decides a pair of cells."""

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN

from mapsvc.suggest import clustering
from mapsvc.suggest.clustering import dbscan


def scattered(seed: int, lattice: float | None = None) -> np.ndarray:
    """Uniform noise plus a few normal blobs of varying density; on a lattice there are exact-eps ties."""
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(0, 1500, (int(rng.integers(1, 1500)), 2))]
    for centre in rng.uniform(0, 1500, (int(rng.integers(0, 6)), 2)):
        parts.append(centre + rng.normal(0, rng.uniform(3, 50), (int(rng.integers(1, 600)), 2)))
    xy = np.concatenate(parts)
    return np.round(xy / lattice) * lattice if lattice else xy


def assert_like_sklearn(xy: np.ndarray, eps: float, min_pins: int) -> None:
    ours = dbscan(xy[:, 0], xy[:, 1], eps_m=eps, min_pins=min_pins)
    theirs = DBSCAN(eps=eps, min_samples=min_pins).fit(xy)
    core = np.zeros(len(xy), bool)
    core[theirs.core_sample_indices_] = True
    np.testing.assert_array_equal(ours.core, core)
    np.testing.assert_array_equal(ours.labels[core], theirs.labels_[core])     # same numbering too
    np.testing.assert_array_equal(ours.labels < 0, theirs.labels_ < 0)
    # Border rule: the nearest core point's cluster, the lowest label at equal distance.
    tree, core_labels = cKDTree(xy[core]), ours.labels[core]
    for i in np.flatnonzero(~core & (ours.labels >= 0)):
        d = np.hypot(*(xy[core] - xy[i]).T)
        assert ours.labels[i] == core_labels[d == d.min()].min()
        assert theirs.labels_[i] in set(core_labels[tree.query_ball_point(xy[i], eps)])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("eps,min_pins", [(75.0, 3), (30.0, 5), (100.0, 1), (50.0, 8)])
def test_same_clusters_as_sklearn(seed, eps, min_pins):
    assert_like_sklearn(scattered(seed), eps, min_pins)


@pytest.mark.parametrize("seed", range(6))
def test_same_clusters_as_sklearn_with_duplicates_and_ties_at_exactly_eps(seed):
    # On a 10 m lattice, 50 m is hit exactly (30-40-50), so "<= eps" is tested at its edge.
    assert_like_sklearn(scattered(100 + seed, lattice=10.0), 50.0, 4)


@pytest.mark.parametrize("small_pair", [0, 10**9])
@pytest.mark.parametrize("seed", range(4))
def test_exhaustive_and_representative_paths_agree(monkeypatch, seed, small_pair):
    # 0: every cell pair goes through representatives (+ exact fallback); 10**9: every pair exhaustively.
    monkeypatch.setattr(clustering, "_SMALL_PAIR", small_pair)
    assert_like_sklearn(scattered(200 + seed), 40.0, 4)


def test_the_exact_fallback_alone_is_right(monkeypatch):
    # Worst representatives (each cell's first point) leave every decision to the exact fallback.
    monkeypatch.setattr(clustering, "_SMALL_PAIR", 0)
    monkeypatch.setattr(clustering, "_representative",
                        lambda xy, start, count, cells, target: start[cells])
    for seed in range(4):
        assert_like_sklearn(scattered(300 + seed), 40.0, 3)


@pytest.mark.parametrize("gap,expected", [(74.99, 1), (75.01, 2)])
def test_two_dense_blocks_join_only_within_eps(gap, expected):
    block = np.stack(np.meshgrid(np.linspace(0, 60, 25), np.linspace(0, 60, 25)), -1).reshape(-1, 2)
    xy = np.concatenate([block, block + [60 + gap, 0]])
    result = dbscan(xy[:, 0], xy[:, 1], eps_m=75, min_pins=3)
    assert result.n_clusters == expected and result.core.all()


def test_edge_cases():
    empty = dbscan([], [], eps_m=75, min_pins=3)
    assert empty.labels.shape == (0,) and empty.n_clusters == 0
    one = dbscan([5.0], [7.0], eps_m=75, min_pins=3)
    assert one.labels.tolist() == [-1] and one.n_clusters == 0
    assert dbscan([5.0], [7.0], eps_m=75, min_pins=1).labels.tolist() == [0]
    same = dbscan([1.0] * 10, [2.0] * 10, eps_m=1, min_pins=10)
    assert same.labels.tolist() == [0] * 10
    line = dbscan(np.arange(0, 1000, 50.0), np.zeros(20), eps_m=50, min_pins=3)
    assert line.labels.tolist() == [0] * 20 and line.core.sum() == 18


def test_far_coordinates_keep_their_precision():
    # Lambert 72 numbers are around 150,000 m: the shift to the minimum keeps sub-millimetre distances.
    x = 150_000.0 + np.array([0.0, 74.9999, 149.9998, 300.0])
    assert dbscan(x, np.full(4, 170_000.0), eps_m=75, min_pins=2).labels.tolist() == [0, 0, 0, -1]


@pytest.mark.parametrize("eps,min_pins", [(0, 3), (-1, 3), (float("nan"), 3), (75, 0), (75, 2.5), (75, True)])
def test_bad_parameters_are_refused(eps, min_pins):
    with pytest.raises(ValueError):
        dbscan([0.0], [0.0], eps_m=eps, min_pins=min_pins)


def test_non_finite_coordinates_are_refused():
    with pytest.raises(ValueError, match="finite"):
        dbscan([0.0, np.nan], [0.0, 1.0], eps_m=75, min_pins=1)
