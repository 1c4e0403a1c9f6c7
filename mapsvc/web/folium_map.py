"""Build the Leaflet map of a page with folium: local assets only, configurable tiles, one group per layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import folium
from markupsafe import Markup, escape

LEAFLET = "vendor/leaflet-1.9.4"
MARKERCLUSTER = "vendor/leaflet.markercluster-1.5.3"
MAX_ZOOM = 19

# Pin colours per layer kind of the catalogue (colour-blind-safe where it matters: Okabe-Ito).
LAYER_COLOURS = {
    "charging-points": "#0072b2",
    "charging-requests": "#e69f00",
    "unpaving-spots": "#009e73",
    "solar-roofs": "#b8860b",
    "christmas-village": "#d55e00",
    "book-cabinets": "#cc79a7",
    "initiatives": "#56b4e9",
}
FALLBACK_COLOUR = "#555555"
BOUNDARY_STYLE = {"color": "#333333", "weight": 2, "dashArray": "6 4", "fill": False}


@dataclass(frozen=True)
class MapLayer:
    """One layer as the map shows it: an empty group that the page's script fills with pins."""

    slug: str
    title: str
    colour: str
    count: int


@dataclass(frozen=True)
class BuiltMap:
    """folium's output, split for a Jinja page, and the JavaScript names the page's script needs."""

    header: Markup
    body: Markup
    script: Markup
    map_name: str
    tiles_name: str | None
    group_names: dict[str, str]


def layer_colour(slug: str) -> str:
    """Return the pin colour of a layer."""
    return LAYER_COLOURS.get(slug, FALLBACK_COLOUR)


def vendor_assets(asset_url: Callable[[str], str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return (js, css) links to the vendored Leaflet and markercluster files, in folium's format."""
    js = [("leaflet", asset_url(f"{LEAFLET}/leaflet.js")),
          ("markercluster", asset_url(f"{MARKERCLUSTER}/leaflet.markercluster.js"))]
    css = [("leaflet_css", asset_url(f"{LEAFLET}/leaflet.css")),
           ("markercluster_css", asset_url(f"{MARKERCLUSTER}/MarkerCluster.css")),
           ("markercluster_default_css", asset_url(f"{MARKERCLUSTER}/MarkerCluster.Default.css"))]
    return js, css


def _control_label(layer: MapLayer) -> str:
    """Return the layer control's label: Leaflet shows it as HTML, so the title is escaped here."""
    return str(Markup('<span class="mapsvc-swatch" style="background:{}" aria-hidden="true"></span>{} '
                      '<span class="mapsvc-count">({})</span>').format(layer.colour, layer.title, layer.count))


def build_map(*, centre: tuple[float, float], zoom: int, boundary: dict[str, Any], boundary_attribution: str,
              layers: Sequence[MapLayer], tile_url: str | None, tile_attribution: str,
              asset_url: Callable[[str], str], layer_control: bool) -> BuiltMap:
    """Build a map centred on (lat, lon) with the boundary, an empty group per layer and optional tiles."""
    fmap = folium.Map(location=list(centre), zoom_start=zoom, tiles=None, control_scale=True)
    # folium hands max_zoom/min_zoom to its default tile layer only; without tiles (MAPSVC_TILE_URL empty)
    # the map itself must know them, or markercluster throws "Map has no maxZoom specified".
    fmap.options.update(max_zoom=MAX_ZOOM, min_zoom=6)
    # Per instance, so that folium's module-wide CDN defaults stay untouched (GEOSTACK.md, trap 6).
    fmap.default_js, fmap.default_css = vendor_assets(asset_url)
    tiles_name = None
    if tile_url:
        tiles = folium.TileLayer(tiles=tile_url, attr=str(escape(tile_attribution)), name="tiles",
                                 max_zoom=MAX_ZOOM, control=False)
        tiles.add_to(fmap)
        tiles_name = tiles.get_name()
    folium.GeoJson(boundary, name="boundary", control=False, interactive=False,
                   attribution=str(escape(boundary_attribution)),
                   style_function=lambda _feature: dict(BOUNDARY_STYLE)).add_to(fmap)
    groups = {}
    for layer in layers:
        group = folium.FeatureGroup(name=_control_label(layer), show=True)
        group.add_to(fmap)
        groups[layer.slug] = group.get_name()
    if layer_control and len(layers) > 1:
        folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    root = fmap.get_root()
    root.render()
    return BuiltMap(Markup(root.header.render()), Markup(root.html.render()), Markup(root.script.render()),
                    fmap.get_name(), tiles_name, groups)
