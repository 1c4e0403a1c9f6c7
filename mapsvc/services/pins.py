"""What a map view of a layer shows: grid clusters when many features are in view, single pins when few."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from mapsvc.services.catalogue import get_layer
from mapsvc.spatial.grid import (
    CLUSTERS,
    HARD_PIN_LIMIT,
    PINS,
    BBox,
    grid_for_view,
    share_of_extent,
    view_mode,
)
from mapsvc.storage import pins as store
from mapsvc.storage.models import Layer, Platform

# Below this share of the platform's extent in view, SpatiaLite's R*Tree beats reading the layer's MBRs.
INDEX_SHARE = 0.1


@dataclass
class PinView:
    """The answer for one view: the snapped box it covers, how many features it holds, clusters or pins."""

    platform: Platform
    layer: Layer
    mode: str
    zoom: int
    bbox: BBox
    count: int
    clusters: list[store.CellCount] = field(default_factory=list)
    pins: list[store.PinRow] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        """Say whether the view holds more pins than were sent."""
        return self.mode == PINS and len(self.pins) < self.count


def pins_in_view(session: Session, platform_slug: str, layer_slug: str, *, bbox: BBox | None, zoom: int,
                 viewer_id: int | None) -> PinView:
    """Return the clusters or pins of a layer in a view (the whole platform when no bbox is given)."""
    platform, layer = get_layer(session, platform_slug, layer_slug)
    extent = to_shape(platform.boundary).bounds
    grid = grid_for_view(bbox or extent, zoom, platform.view_lat)
    view = grid.snap(bbox or extent)
    use_index = share_of_extent(view, extent) < INDEX_SHARE
    cells = store.cell_counts(session, layer.id, view, grid.width, grid.height, use_index=use_index,
                              viewer_id=viewer_id)
    count = sum(cell.count for cell in cells)
    if view_mode(count, zoom) == CLUSTERS:
        return PinView(platform, layer, CLUSTERS, grid.zoom, view, count, clusters=cells)
    pins = store.pins_in_bbox(session, layer.id, view, limit=HARD_PIN_LIMIT, viewer_id=viewer_id,
                              use_index=use_index) if count else []
    return PinView(platform, layer, PINS, grid.zoom, view, count, pins=pins)
