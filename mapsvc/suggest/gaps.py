"""Book-cabinet gap analysis: populated 1 km cells farther than a walk from any public book cabinet.

The cells are Statbel's population grid (EPSG:3035 1 km cells, 1 January 2020). A cell belongs to a
platform when its centre lies inside the platform's boundary (Statbel's own rule for assigning cells to
municipalities), so every resident is counted once. A cell is a **gap** when its centre is farther than
the walking radius (500 m by default) from every cabinet: the centre stands for the cell's residents,
whose addresses the grid does not give. Distances are straight lines in Belgian Lambert 72 metres, not
walking routes. Beside it each gap reports the share of the cell's area within the radius of a cabinet,
so a cell whose corner a cabinet serves can be told apart. Gaps rank by population, then by distance to
the nearest cabinet (farther first), then by grid id.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import cKDTree

from mapsvc.spatial.crs import LAMBERT72, from_wgs84, to_wgs84

DISTANCE_NOTE = "Straight-line distances from each cell's centre in Belgian Lambert 72 metres, not walking routes."
ATTRIBUTION = "Statbel (Algemene Directie Statistiek), population grid 1 km, 1 January 2020"
MAX_RADIUS_M = 5000.0


@dataclass(frozen=True, eq=False)
class PopulationGrid:
    """Populated grid cells: ids, population and lon/lat cell polygons."""
    grid_id: np.ndarray
    population: np.ndarray
    outline: np.ndarray

    def __len__(self) -> int:
        return len(self.grid_id)


@dataclass(frozen=True)
class Gap:
    """A populated cell out of walking reach of every cabinet."""
    rank: int
    grid_id: str
    population: int
    lon: float                       # cell centre
    lat: float
    nearest_m: float | None          # to the nearest cabinet, None when there is none
    served_share: float              # share of the cell's area within the radius of a cabinet
    outline: shapely.Geometry


def read_population_grid(path: Path) -> PopulationGrid:
    """Read the shipped Statbel grid GeoJSON (properties grid_id and pop_2020)."""
    features = json.loads(Path(path).read_text(encoding="utf-8"))["features"]
    return PopulationGrid(
        grid_id=np.array([f["properties"]["grid_id"] for f in features], dtype=object),
        population=np.array([f["properties"]["pop_2020"] for f in features], np.int64),
        outline=np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object))


def _to_l72(geoms):
    t = from_wgs84(LAMBERT72)
    return shapely.transform(geoms, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def find_gaps(grid: PopulationGrid, cabinet_lon, cabinet_lat, *, boundary=None,
              walk_radius_m: float = 500.0) -> list[Gap]:
    """Rank the populated cells (centre inside boundary, if given) farther than the radius from any cabinet."""
    if isinstance(walk_radius_m, bool) or not isinstance(walk_radius_m, (int, float)) \
            or not math.isfinite(walk_radius_m) or not 0 < walk_radius_m <= MAX_RADIUS_M:
        raise ValueError(f"walk_radius_m must be more than 0 and at most {MAX_RADIUS_M:.0f} m, got {walk_radius_m!r}")
    cells = _to_l72(grid.outline)
    centres = shapely.centroid(cells)
    keep = grid.population > 0
    if boundary is not None:
        keep &= shapely.contains(_to_l72(boundary), centres)
    index = np.flatnonzero(keep)
    cx, cy = shapely.get_x(centres[index]), shapely.get_y(centres[index])
    cab_x, cab_y = from_wgs84(LAMBERT72).transform(np.asarray(cabinet_lon, float), np.asarray(cabinet_lat, float))
    cab = np.column_stack((np.atleast_1d(cab_x), np.atleast_1d(cab_y))).reshape(-1, 2)
    if len(cab):
        nearest, _ = cKDTree(cab).query(np.column_stack((cx, cy)))
    else:
        nearest = np.full(len(index), np.inf)
    gap = nearest > walk_radius_m
    index, cx, cy, nearest = index[gap], cx[gap], cy[gap], nearest[gap]
    served = np.zeros(len(index))
    if len(cab) and len(index):
        reach = shapely.union_all(shapely.buffer(shapely.points(cab), walk_radius_m, quad_segs=16))
        served = shapely.area(shapely.intersection(cells[index], reach)) / shapely.area(cells[index])
    order = np.lexsort((grid.grid_id[index].astype(str), -np.nan_to_num(nearest, posinf=1e18),
                        -grid.population[index]))
    lon, lat = to_wgs84(LAMBERT72).transform(cx, cy)
    return [Gap(rank=r, grid_id=str(grid.grid_id[index[k]]), population=int(grid.population[index[k]]),
                lon=float(lon[k]), lat=float(lat[k]),
                nearest_m=float(nearest[k]) if np.isfinite(nearest[k]) else None,
                served_share=float(served[k]), outline=grid.outline[index[k]])
            for r, k in enumerate(order.tolist(), start=1)]
