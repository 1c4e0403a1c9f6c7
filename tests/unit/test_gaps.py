"""Book-cabinet gaps: populated cells whose centre is out of walking reach, ranked by population."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from mapsvc.suggest.gaps import ATTRIBUTION, PopulationGrid, find_gaps, read_population_grid

REPO = Path(__file__).resolve().parents[2]
TO_WGS = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)
X0, Y0 = 150_000.0, 170_000.0


def wgs(geom):
    return shapely.transform(geom, lambda c: np.column_stack(TO_WGS.transform(c[:, 0], c[:, 1])))


def lonlat(x, y):
    lon, lat = TO_WGS.transform(X0 + np.atleast_1d(np.asarray(x, float)), Y0 + np.atleast_1d(np.asarray(y, float)))
    return lon, lat


def grid(populations: dict[tuple[int, int], int]) -> PopulationGrid:
    """1 km cells; key (i, j) is the cell whose lower-left corner is i km east, j km north of the origin."""
    keys = sorted(populations)
    return PopulationGrid(
        grid_id=np.array([f"cell{i}_{j}" for i, j in keys], dtype=object),
        population=np.array([populations[k] for k in keys]),
        outline=np.array([wgs(shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + i * 1000 + 1000, Y0 + j * 1000 + 1000))
                          for i, j in keys], dtype=object))


def test_cells_whose_centre_is_beyond_the_radius_are_gaps_ranked_by_population():
    cells = grid({(0, 0): 500, (1, 0): 900, (2, 0): 300, (3, 0): 900, (5, 5): 0})
    # A cabinet at the centre of cell (0, 0) and one 400 m from the centre of cell (2, 0).
    gaps = find_gaps(cells, *lonlat([500, 2900], [500, 500]))
    assert [g.grid_id for g in gaps] == ["cell1_0", "cell3_0"]      # 900 each: the farther one first
    assert [g.rank for g in gaps] == [1, 2]
    assert gaps[0].nearest_m == pytest.approx(1000, abs=0.01) and gaps[1].nearest_m == pytest.approx(600, abs=0.01)
    assert [g.grid_id for g in find_gaps(cells, *lonlat([500, 2900], [500, 500]), walk_radius_m=300)] == [
        "cell1_0", "cell3_0", "cell2_0"]                           # 900, 900 (1000 m, 600 m), then 300


def test_without_cabinets_every_populated_cell_is_a_gap():
    cells = grid({(0, 0): 5, (1, 0): 50, (2, 0): 0})
    gaps = find_gaps(cells, [], [])
    assert [(g.grid_id, g.population, g.nearest_m, g.served_share) for g in gaps] == [
        ("cell1_0", 50, None, 0.0), ("cell0_0", 5, None, 0.0)]


def test_served_share_tells_a_corner_cabinet_apart():
    cells = grid({(0, 0): 100})
    gap, = find_gaps(cells, *lonlat([0], [0]))                       # at the cell's lower-left corner
    assert gap.nearest_m == pytest.approx(707.1, abs=0.1)
    assert gap.served_share == pytest.approx(np.pi * 500 ** 2 / 4 / 1e6, rel=0.01)


def test_the_boundary_takes_cells_by_their_centre():
    cells = grid({(0, 0): 10, (1, 0): 20, (2, 0): 30})
    boundary = wgs(shapely.box(X0 + 400, Y0 - 100, X0 + 1600, Y0 + 1100))   # holds centres of (0,0), (1,0)
    assert [g.grid_id for g in find_gaps(cells, [], [], boundary=boundary)] == ["cell1_0", "cell0_0"]


def test_the_same_input_gives_the_same_gaps():
    cells = grid({(i, j): (7 * i + 3 * j) % 11 for i in range(6) for j in range(6)})
    cab = lonlat([1200, 4100], [2500, 3900])
    assert find_gaps(cells, *cab) == find_gaps(cells, *cab)


@pytest.mark.parametrize("radius", [0, -1, 5001, float("inf"), True])
def test_bad_radius_is_refused(radius):
    with pytest.raises(ValueError, match="walk_radius_m"):
        find_gaps(grid({(0, 0): 1}), [], [], walk_radius_m=radius)


def test_the_shipped_grid_counts_each_platforms_residents_once():
    cells = read_population_grid(REPO / "data" / "statbel" / "population_grid_1km_2020.geojson")
    areas = {f["properties"]["nis"]: shape(f["geometry"])
             for f in json.loads((REPO / "data" / "boundaries" / "sample_areas.geojson").read_text())["features"]}
    totals = {}
    for nis, area in areas.items():
        inside = [g for g in find_gaps(cells, [], [], boundary=area)]
        centres = shapely.centroid(cells.outline)     # lon/lat centres are within metres of the projected ones
        assert len(inside) == int(shapely.contains(area, centres).sum())
        totals[nis] = sum(g.population for g in inside)
    assert sum(totals.values()) <= cells.population.sum()
    assert 1_150_000 < totals["04000"] < 1_250_000          # Brussels had 1.21 million residents in 2020
    assert "Statbel" in (REPO / "data" / "README.md").read_text() and ATTRIBUTION.startswith("Statbel")
