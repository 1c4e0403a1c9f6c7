"""Load the sample platforms: real boundaries and OpenStreetMap data, plus labelled demo suggestions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, shape
from shapely.prepared import prep
from sqlalchemy.orm import Session

from mapsvc.errors import ConfigurationError
from mapsvc.layers.catalogue import LAYER_SPECS
from mapsvc.layers.osm import book_cabinet_properties, charging_point_properties, is_public
from mapsvc.layers.rules import validate_feature
from mapsvc.services.catalogue import rules_for
from mapsvc.services.simulation import layer_seed, simulate_layer
from mapsvc.storage import catalogue as store
from mapsvc.storage.features import insert_features
from mapsvc.storage.models import SRID, Layer, Platform

BOUNDARIES = "boundaries/sample_areas.geojson"
CHARGING = "osm/charging_stations_2025-12-26.geojson"
BOOKCASES = "osm/public_bookcases_2021-04-09.geojson"
OSM_CHARGING_SOURCE = "OpenStreetMap, state of 2025-12-26"
OSM_BOOKCASE_SOURCE = "OpenStreetMap, state of 2021-04-09"
BOUNDARY_SOURCE = "Statbel; bewerking Data & Analyse Vlaamse provincies (2025 municipalities)"


@dataclass(frozen=True)
class SamplePlatform:
    """A sample platform: which real area, how it looks, which layers it carries and how much demo."""

    slug: str
    nis: str
    kind: str
    names: tuple[str, str, str]
    zoom: int
    colours: tuple[str, str]
    layers: dict[str, int]  # layer slug -> number of demo features (0 for real data layers)


# Suggestion windows for the samples: the autumn 2026 participation round (the Christmas village runs
# through the holidays).
WINDOWS = {
    "christmas-village": (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2027, 1, 7, tzinfo=timezone.utc)),
}
DEFAULT_WINDOW = (datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2027, 3, 1, tzinfo=timezone.utc))

SAMPLE_PLATFORMS = (
    SamplePlatform("poperinge", "33021", "municipality", ("Poperinge", "Poperinge", "Poperinge"), 12,
                   ("#7a1f3d", "#ffffff"),
                   {"charging-points": 0, "charging-requests": 150, "unpaving-spots": 120, "solar-roofs": 80,
                    "book-cabinets": 0}),
    SamplePlatform("beringen", "71004", "municipality", ("Beringen", "Beringen", "Beringen"), 12,
                   ("#1b5e20", "#ffffff"),
                   {"charging-points": 0, "charging-requests": 150, "unpaving-spots": 120, "solar-roofs": 80,
                    "book-cabinets": 0}),
    SamplePlatform("kapelle-op-den-bos", "23039", "municipality",
                   ("Kapelle-op-den-Bos", "Kapelle-op-den-Bos", "Kapelle-op-den-Bos"), 13, ("#b71c1c", "#ffffff"),
                   {"charging-points": 0, "charging-requests": 100, "christmas-village": 60, "unpaving-spots": 80,
                    "book-cabinets": 0}),
    SamplePlatform("brussels", "04000", "region",
                   ("Brussels Hoofdstedelijk Gewest", "Région de Bruxelles-Capitale", "Brussels-Capital Region"),
                   12, ("#0a3d91", "#f5c400"),
                   {"charging-points": 0, "charging-requests": 300, "book-cabinets": 0, "initiatives": 148,
                    "unpaving-spots": 200}),
)


def _read(data_dir: Path, name: str) -> list[dict]:
    path = data_dir / name
    if not path.is_file():
        raise ConfigurationError(f"Sample data file {path} is missing; MAPSVC_DATA_DIR must point at the repo's data/.")
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def create_platform(session: Session, spec: SamplePlatform, boundary) -> Platform:
    """Create a platform and its (empty) layers from a spec and a lon/lat boundary."""
    centre = boundary.representative_point()
    if boundary.geom_type == "Polygon":
        boundary = MultiPolygon([boundary])
    platform = Platform(
        slug=spec.slug, kind=spec.kind, nis_code=spec.nis, name_nl=spec.names[0], name_fr=spec.names[1],
        name_en=spec.names[2], boundary=from_shape(shapely.orient_polygons(boundary), srid=SRID),
        view_lon=round(centre.x, 6), view_lat=round(centre.y, 6), view_zoom=spec.zoom,
        colour_primary=spec.colours[0], colour_secondary=spec.colours[1], languages=["nl", "fr", "en"],
        embed_origins=[], boundary_source=BOUNDARY_SOURCE,
    )
    for slug in spec.layers:
        layer_spec = LAYER_SPECS[slug]
        opens, closes = (WINDOWS.get(slug, DEFAULT_WINDOW) if layer_spec.kind == "suggestions" else (None, None))
        platform.layers.append(Layer(
            slug=slug, kind=layer_spec.kind, geometry_type=layer_spec.geometry_type,
            title_nl=layer_spec.title["nl"], title_fr=layer_spec.title["fr"], title_en=layer_spec.title["en"],
            description_nl=layer_spec.description["nl"], description_fr=layer_spec.description["fr"],
            description_en=layer_spec.description["en"], property_schema=layer_spec.property_schema,
            themes=list(layer_spec.themes), opens_at=opens, closes_at=closes,
            voting_enabled=layer_spec.voting_enabled, votes_per_person=layer_spec.votes_per_person,
            is_public=True, attribution=layer_spec.attribution,
        ))
    session.add(platform)
    session.flush()
    return platform


def _osm_rows(features: list[dict], boundary, kind: str, source: str) -> tuple[list[dict], int]:
    """Pick the public OSM objects inside a boundary and map them to layer properties."""
    inside, skipped = [], 0
    area = prep(boundary)
    for feature in features:
        geometry = shape(feature["geometry"])
        if not area.covers(geometry):
            continue
        props = feature["properties"]
        tags = props.get("tags") or {}
        if not is_public(tags):
            skipped += 1
            continue
        url = props["osm_url"]
        mapped = (charging_point_properties(tags, props.get("max_output_kw"), url) if kind == "charging"
                  else book_cabinet_properties(tags, url))
        inside.append({"geometry": geometry, "properties": mapped, "source": source,
                       "source_ref": f"{props['osm_type']}/{props['osm_id']}"})
    return inside, skipped


# One sample layer shows what news and a timeline look like; every text says it is demo data.
DEMO_NEWS_LAYER = ("kapelle-op-den-bos", "christmas-village")


def add_demo_news(session: Session, layer_id: int) -> None:
    """Give a layer a demo timeline of the autumn 2026 round and one demo news item."""
    from mapsvc.storage import news as news_store

    note = {"nl": "Demo – voorbeeldtijdlijn, geen echte planning.", "fr": "Démo – exemple, pas un vrai calendrier.",
            "en": "Demo – example timeline, not a real schedule."}
    phases = [("inform", date(2026, 10, 1), date(2026, 10, 31)), ("consult", date(2026, 11, 1), date(2027, 1, 7)),
              ("decide", date(2027, 1, 8), date(2027, 3, 31)), ("realise", date(2027, 11, 15), date(2027, 12, 31))]
    news_store.replace_timeline(session, layer_id, [
        {"phase": phase, "starts_on": starts, "ends_on": ends, **{f"note_{k}": v for k, v in note.items()}}
        for phase, starts, ends in phases])
    news_store.add_news(session, layer_id, {
        "title_nl": "Demo – Denk mee over het kerstdorp", "title_fr": "Demo – Participez au village de Noël",
        "title_en": "Demo – Help plan the Christmas village",
        "body_nl": "Dit is **demodata**. Tot 7 januari kun je op de kaart aanduiden waar een kraampje of "
                   "een lichtje moet komen.\n\n- Zet een pin\n- Steun de plekken van je buren",
        "body_fr": "Ceci est une **démonstration**. Jusqu'au 7 janvier, indiquez sur la carte où placer un "
                   "chalet ou une illumination.",
        "body_en": "This is **demo data**. Until 7 January, mark on the map where a stall or lights should go.",
        "link_url": None, "published_on": date(2026, 11, 1)})


def load_sample(session: Session, data_dir: str | Path, *, base_seed: int = 2026, replace: bool = False,
                report: Callable[[str], None] = lambda _msg: None) -> list[str]:
    """Create the sample platforms that are missing (all of them with `replace`); return their slugs."""
    data_dir = Path(data_dir)
    areas = {f["properties"]["nis"]: shape(f["geometry"]) for f in _read(data_dir, BOUNDARIES)}
    charging, bookcases = _read(data_dir, CHARGING), _read(data_dir, BOOKCASES)
    created = []
    for spec in SAMPLE_PLATFORMS:
        existing = store.find_platform(session, spec.slug)
        if existing is not None and not replace:
            report(f"{spec.slug}: already loaded (use --replace to load it again)")
            continue
        if existing is not None:
            session.delete(existing)
            session.flush()
        boundary = areas[spec.nis]
        platform = create_platform(session, spec, boundary)
        for layer in platform.layers:
            count = spec.layers[layer.slug]
            if layer.slug in ("charging-points", "book-cabinets"):
                rows, skipped = _osm_rows(charging if layer.slug == "charging-points" else bookcases, boundary,
                                          "charging" if layer.slug == "charging-points" else "books",
                                          OSM_CHARGING_SOURCE if layer.slug == "charging-points"
                                          else OSM_BOOKCASE_SOURCE)
                rules = rules_for(platform, layer)
                for row in rows:  # the same rules as any import; a failure here is a data bug
                    valid = validate_feature(rules, row["geometry"], row["properties"])
                    row.update(geometry=valid.geometry, properties=valid.properties)
                n = insert_features(session, layer.id, rows)
                note = f", {skipped} left out as not public (OSM access=private/customers/…)" if skipped else ""
                report(f"{spec.slug}/{layer.slug}: {n} from OpenStreetMap{note}")
            elif count:
                n = simulate_layer(session, spec.slug, layer.slug, n=count,
                                   seed=layer_seed(base_seed, spec.slug, layer.slug))
                report(f"{spec.slug}/{layer.slug}: {n} DEMO features from the participation simulator")
            if (spec.slug, layer.slug) == DEMO_NEWS_LAYER:
                add_demo_news(session, layer.id)
                report(f"{spec.slug}/{layer.slug}: a DEMO timeline and news item")
        created.append(spec.slug)
    return created
