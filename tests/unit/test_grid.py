"""Grid clustering maths for map views: cell sizes, stable cell numbers, snapping, modes."""

import math
import random

import pytest

from mapsvc.spatial.grid import (
    CELL_PX,
    CLUSTERS,
    HARD_PIN_LIMIT,
    MAX_CELLS,
    PIN_LIMIT,
    PIN_ZOOM,
    PINS,
    cluster_points,
    grid_for,
    grid_for_view,
    share_of_extent,
    view_mode,
)

BELGIUM = (2.5, 49.5, 6.4, 51.5)


@pytest.mark.parametrize("zoom", [0, 5, 12, 19])
def test_a_cell_is_cell_px_wide_on_screen(zoom):
    grid = grid_for(zoom, 0.0)
    world_px = 256 * 2 ** zoom
    assert grid.width / 360 * world_px == pytest.approx(CELL_PX)
    assert grid.height == pytest.approx(grid.width)  # at the equator a square is a square


def test_cells_are_square_on_screen_at_belgian_latitudes():
    grid = grid_for(12, 51.0)
    assert grid.height / grid.width == pytest.approx(math.cos(math.radians(51.0)))


def test_each_zoom_halves_the_cell():
    assert grid_for(13, 51).width == pytest.approx(grid_for(12, 51).width / 2)


@pytest.mark.parametrize("zoom", [-1, 21])
def test_zoom_outside_the_range_is_refused(zoom):
    with pytest.raises(ValueError):
        grid_for(zoom, 51.0)


def test_cell_numbers_do_not_depend_on_the_view():
    grid = grid_for(14, 51.0)
    column, row = grid.cell(4.35, 50.85)
    minlon, minlat, maxlon, maxlat = grid.cell_bbox(column, row)
    assert minlon <= 4.35 < maxlon and minlat <= 50.85 < maxlat
    assert grid.cell(minlon + 1e-9, minlat + 1e-9) == (column, row)
    assert grid.cell(maxlon + 1e-9, 50.85) == (column + 1, row)


def test_negative_longitudes_get_their_own_cells():
    grid = grid_for(10, 0.0)
    assert grid.cell(-0.0001, 0.0)[0] == grid.cell(0.0001, 0.0)[0] - 1


def test_snap_grows_the_box_to_whole_cells():
    grid = grid_for(13, 51.0)
    box = (4.301, 50.801, 4.402, 50.899)
    snapped = grid.snap(box)
    assert snapped[0] <= box[0] and snapped[1] <= box[1] and snapped[2] >= box[2] and snapped[3] >= box[3]
    assert snapped[2] - box[2] <= grid.width and box[0] - snapped[0] <= grid.width
    # Every edge lies on a cell edge, and snapping again changes nothing.
    for value, origin, size in zip(snapped, (180, 90, 180, 90), (grid.width, grid.height) * 2):
        assert (value + origin) / size == pytest.approx(round((value + origin) / size), abs=1e-6)
    assert grid.snap(snapped) == pytest.approx(snapped, abs=1e-12)


def test_snap_of_a_point_is_one_cell():
    grid = grid_for(13, 51.0)
    snapped = grid.snap((4.35, 50.85, 4.35, 50.85))
    assert snapped == pytest.approx(grid.cell_bbox(*grid.cell(4.35, 50.85)))


def test_snap_stays_on_the_globe():
    assert grid_for(0, 0.0).snap((-180.0, -90.0, 180.0, 90.0)) == (-180.0, -90.0, 180.0, 90.0)


def test_a_huge_view_at_a_high_zoom_is_coarsened():
    grid = grid_for_view(BELGIUM, 18, 51.0)
    assert grid.zoom < 18
    assert grid.n_cells(BELGIUM) <= MAX_CELLS
    assert grid_for(grid.zoom + 1, 51.0).n_cells(BELGIUM) > MAX_CELLS


def test_a_screen_sized_view_keeps_its_zoom():
    grid = grid_for(15, 51.0)
    view = (4.35, 50.84, 4.35 + 30 * grid.width, 50.84 + 19 * grid.height)
    assert grid_for_view(view, 15, 51.0).zoom == 15


@pytest.mark.parametrize(("count", "zoom", "mode"), [
    (0, 10, PINS), (PIN_LIMIT, 10, PINS), (PIN_LIMIT + 1, 10, CLUSTERS),
    (PIN_LIMIT + 1, PIN_ZOOM, PINS), (HARD_PIN_LIMIT, PIN_ZOOM, PINS), (HARD_PIN_LIMIT + 1, 20, CLUSTERS),
])
def test_view_mode(count, zoom, mode):
    assert view_mode(count, zoom) == mode


def test_cluster_points_counts_every_point_once():
    rng = random.Random(7)
    points = [(4.3 + rng.random() * 0.1, 50.8 + rng.random() * 0.1) for _ in range(2000)]
    grid = grid_for(13, 50.85)
    clusters = cluster_points(points, grid)
    assert sum(c.count for c in clusters) == 2000
    for cluster in clusters:
        x0, y0, x1, y1 = grid.cell_bbox(cluster.column, cluster.row)
        assert x0 <= cluster.bbox[0] <= cluster.lon <= cluster.bbox[2] < x1
        assert y0 <= cluster.bbox[1] <= cluster.lat <= cluster.bbox[3] < y1
    assert len({(c.column, c.row) for c in clusters}) == len(clusters)


def test_cluster_points_means_and_bounds():
    grid = grid_for(5, 0.0)
    [cluster] = cluster_points([(1.0, 1.0), (1.1, 1.2), (1.2, 1.1)], grid)
    assert (cluster.count, cluster.lon, cluster.lat) == (3, pytest.approx(1.1), pytest.approx(1.1))
    assert cluster.bbox == (1.0, 1.0, 1.2, 1.2)


@pytest.mark.parametrize(("view", "share"), [
    ((0, 0, 10, 10), 1.0), ((0, 0, 5, 5), 0.25), ((-5, -5, 5, 5), 0.25), ((20, 20, 30, 30), 0.0),
    ((-100, -100, 100, 100), 1.0),
])
def test_share_of_extent(view, share):
    assert share_of_extent(view, (0, 0, 10, 10)) == pytest.approx(share)
