"""Grid clustering for map views: cell sizes per zoom, stable cell numbers, snapped view boxes (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

BBox = tuple[float, float, float, float]

TILE_PX = 256          # a Web Mercator tile is 256 px wide at every zoom
CELL_PX = 64           # a cluster cell is about this many pixels wide on screen
MIN_ZOOM, MAX_ZOOM = 0, 20
MAX_CELLS = 2500       # a full-HD view holds ~30 x 19 cells; more means a bbox far larger than the screen
PIN_LIMIT = 1000       # at most this many pins in view: send them one by one (the client clusters them)
PIN_ZOOM = 18          # from this zoom on, send pins even when more are in view (up to HARD_PIN_LIMIT)
HARD_PIN_LIMIT = 5000
PINS, CLUSTERS = "pins", "clusters"
_EDGE = 1e-9           # in cells: closer than this to a cell edge counts as on it


@dataclass(frozen=True)
class Grid:
    """A grid of cells anchored at (-180, -90): the same cell numbers whatever part of the map is in view."""

    zoom: int
    width: float   # degrees of longitude
    height: float  # degrees of latitude

    def cell(self, lon: float, lat: float) -> tuple[int, int]:
        """Return the (column, row) of the cell holding a point."""
        return math.floor((lon + 180.0) / self.width), math.floor((lat + 90.0) / self.height)

    def cell_bbox(self, column: int, row: int) -> BBox:
        """Return the bounds of one cell."""
        minlon, minlat = column * self.width - 180.0, row * self.height - 90.0
        return minlon, minlat, minlon + self.width, minlat + self.height

    def snap(self, bbox: BBox) -> BBox:
        """Grow a box outwards to whole cells, so that edge cells count all their points (idempotent)."""
        minlon, minlat, maxlon, maxlat = bbox
        # The tolerance keeps a box that already lies on cell edges from growing by a rounding error.
        c0 = math.floor((minlon + 180.0) / self.width + _EDGE)
        r0 = math.floor((minlat + 90.0) / self.height + _EDGE)
        c1 = max(c0 + 1, math.ceil((maxlon + 180.0) / self.width - _EDGE))
        r1 = max(r0 + 1, math.ceil((maxlat + 90.0) / self.height - _EDGE))
        return (max(c0 * self.width - 180.0, -180.0), max(r0 * self.height - 90.0, -90.0),
                min(c1 * self.width - 180.0, 180.0), min(r1 * self.height - 90.0, 90.0))

    def n_cells(self, bbox: BBox) -> int:
        """Count the cells a box touches."""
        c0, r0 = self.cell(bbox[0], bbox[1])
        c1, r1 = self.cell(bbox[2], bbox[3])
        return (c1 - c0 + 1) * (r1 - r0 + 1)


def grid_for(zoom: int, ref_lat: float) -> Grid:
    """Return the grid whose cells are about CELL_PX square on screen at `zoom` near latitude `ref_lat`."""
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise ValueError(f"zoom must lie between {MIN_ZOOM} and {MAX_ZOOM}, got {zoom}")
    width = 360.0 / 2 ** zoom * CELL_PX / TILE_PX
    # In Web Mercator a degree of latitude is 1/cos(lat) times taller than a degree of longitude is wide.
    height = width * math.cos(math.radians(max(-85.0, min(85.0, ref_lat))))
    return Grid(zoom, width, height)


def grid_for_view(bbox: BBox, zoom: int, ref_lat: float, max_cells: int = MAX_CELLS) -> Grid:
    """Return the grid for a view, coarsened (a lower zoom) until the view holds at most `max_cells` cells."""
    grid = grid_for(zoom, ref_lat)
    while grid.zoom > MIN_ZOOM and grid.n_cells(bbox) > max_cells:
        grid = grid_for(grid.zoom - 1, ref_lat)
    return grid


def view_mode(n_in_view: int, zoom: int) -> str:
    """Say whether a view shows its pins one by one or as grid clusters."""
    if n_in_view <= PIN_LIMIT or (zoom >= PIN_ZOOM and n_in_view <= HARD_PIN_LIMIT):
        return PINS
    return CLUSTERS


@dataclass(frozen=True)
class Cluster:
    """The points of one cell: how many, their mean position and their bounds."""

    column: int
    row: int
    count: int
    lon: float
    lat: float
    bbox: BBox


def cluster_points(points: Iterable[tuple[float, float]], grid: Grid) -> list[Cluster]:
    """Group points into the grid's cells (the same sums the database computes), by column then row."""
    cells: dict[tuple[int, int], list] = {}
    for lon, lat in points:
        acc = cells.setdefault(grid.cell(lon, lat), [0, 0.0, 0.0, lon, lat, lon, lat])
        acc[0] += 1
        acc[1] += lon
        acc[2] += lat
        acc[3], acc[4] = min(acc[3], lon), min(acc[4], lat)
        acc[5], acc[6] = max(acc[5], lon), max(acc[6], lat)
    return [Cluster(c, r, n, sx / n, sy / n, (x0, y0, x1, y1))
            for (c, r), (n, sx, sy, x0, y0, x1, y1) in sorted(cells.items())]


def share_of_extent(view: BBox, extent: BBox) -> float:
    """Return the share (0..1) of `extent`'s area that `view` covers: how much of a layer a view may hold."""
    width = min(view[2], extent[2]) - max(view[0], extent[0])
    height = min(view[3], extent[3]) - max(view[1], extent[1])
    area = (extent[2] - extent[0]) * (extent[3] - extent[1])
    if width <= 0 or height <= 0:
        return 0.0
    return 1.0 if area <= 0 else min(1.0, width * height / area)
