"""Queries behind OGC API - Features: public layers, their extents, and pages of GeoJSON built in one statement.

On PostGIS the page's GeoJSON text is built by the database (ST_AsGeoJSON, json_build_object, string_agg),
so Python only wraps it; on SpatiaLite rows are rendered in Python (correct, not tuned). The matching ids
are selected once (a CTE) and serve the page, numberMatched and whether pages lie before and after it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, literal, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from mapsvc.spatial.ogc_crs import CRS84, Frame, decimals_for, epsg_of, reproject_geometry
from mapsvc.storage.models import SRID, Feature, Layer, Platform, User, Vote
from mapsvc.storage.spatial_sql import features_in_bbox

# What every OGC feature carries beside its layer's own fields, in this order. Nothing names a person:
# the author only by the display name they chose, votes only as a count.
SYSTEM_PROPERTIES = ("theme", "status", "official_answer", "vote_count", "demo", "source", "source_ref",
                     "author_display_name", "created_at", "updated_at")
_COLUMNS = {"theme": Feature.theme, "status": Feature.status, "demo": Feature.is_demo}
_PG_STAMP = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


@dataclass(frozen=True)
class ItemsQuery:
    """Which features of a layer to render, in which CRS, and which page of them."""

    limit: int
    offset: int = 0
    after: int | None = None    # cursor of a next link: ids above it
    before: int | None = None   # cursor of a prev link: ids below it
    frame: Frame | None = None
    crs: str = CRS84
    created_from: datetime | None = None   # inclusive
    created_to: datetime | None = None     # exclusive
    equals: Mapping[str, Any] = field(default_factory=dict)  # queryable -> typed value
    feature_id: int | None = None


@dataclass(frozen=True)
class RenderedPage:
    """A page of features as GeoJSON text (comma-separated Feature objects) and where it lies."""

    features_text: str
    returned: int
    matched: int
    has_prev: bool
    has_next: bool
    first_id: int | None
    last_id: int | None


@dataclass(frozen=True)
class LayerExtent:
    """The lon/lat box and the creation-time span of a layer's features (None when it has none)."""

    bbox: tuple[float, float, float, float] | None
    first: datetime | None
    last: datetime | None


def public_layers(session: Session) -> list[tuple[Platform, Layer]]:
    """Return every public layer with its platform, by platform slug then layer order."""
    rows = session.execute(select(Platform, Layer).join(Layer.platform).where(Layer.is_public.is_(True))
                           .order_by(Platform.slug, Layer.id))
    return [(platform, layer) for platform, layer in rows]


def find_public_layer(session: Session, platform_slug: str, layer_slug: str) -> tuple[Platform, Layer] | None:
    """Return a public layer and its platform by slugs, or None."""
    row = session.execute(select(Platform, Layer).join(Layer.platform)
                          .where(Platform.slug == platform_slug, Layer.slug == layer_slug,
                                 Layer.is_public.is_(True))).first()
    return None if row is None else (row[0], row[1])


def layer_extents(session: Session, layer_ids: list[int]) -> dict[int, LayerExtent]:
    """Return the extent of each layer's features."""
    postgis = session.get_bind().dialect.name == "postgresql"
    names = ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax") if postgis else ("MbrMinX", "MbrMinY", "MbrMaxX", "MbrMaxY")
    edges = [getattr(func, name)(Feature.geom) for name in names]
    rows = session.execute(
        select(Feature.layer_id, func.min(edges[0]), func.min(edges[1]), func.max(edges[2]), func.max(edges[3]),
               func.min(Feature.created_at), func.max(Feature.created_at))
        .where(Feature.layer_id.in_(layer_ids)).group_by(Feature.layer_id))
    extents = {layer_id: LayerExtent(None, None, None) for layer_id in layer_ids}
    for layer_id, minx, miny, maxx, maxy, first, last in rows:
        extents[layer_id] = LayerExtent((minx, miny, maxx, maxy), first, last)
    return extents


def render_page(session: Session, layer: Layer, query: ItemsQuery) -> RenderedPage:
    """Select one page of a layer's features and render it as GeoJSON text, with its counts."""
    postgis = session.get_bind().dialect.name == "postgresql"
    matched = select(Feature.id.label("id")).where(*_conditions(session, layer, query, postgis)).cte("matched")
    page = select(matched.c.id)
    if query.before is not None:
        page = page.where(matched.c.id < query.before).order_by(matched.c.id.desc())
    else:
        if query.after is not None:
            page = page.where(matched.c.id > query.after)
        page = page.order_by(matched.c.id)
    page = page.limit(query.limit).offset(query.offset).cte("page")
    bounds = select(func.min(page.c.id).label("lo"), func.max(page.c.id).label("hi"),
                    func.count().label("n")).cte("bounds")
    # One pass over the matches counts them all and those before and after the page.
    tally = (select(func.count().label("total"), func.count().filter(matched.c.id < bounds.c.lo).label("below"),
                    func.count().filter(matched.c.id > bounds.c.hi).label("above"))
             .select_from(matched).join(bounds, true()).cte("tally"))
    columns = [bounds.c.n, bounds.c.lo, bounds.c.hi, tally.c.total, tally.c.below, tally.c.above]
    if postgis:
        text = _pg_feature_text(layer, query.crs)
        body = (select(func.coalesce(func.string_agg(text, aggregate_order_by(literal(","), Feature.id)), ""))
                .select_from(page).join(Feature, Feature.id == page.c.id)
                .outerjoin(User, User.id == Feature.author_id).scalar_subquery())
        columns.append(body)
    n, lo, hi, total, below, above, *rest = session.execute(select(*columns).select_from(bounds).join(tally, true())).one()
    features_text = rest[0] if postgis else _render_rows(session, layer, page, query.crs)
    return RenderedPage(features_text, n, total, bool(below), bool(above), lo, hi)


def _conditions(session: Session, layer: Layer, query: ItemsQuery, postgis: bool) -> list:
    conditions = [Feature.layer_id == layer.id]
    if query.feature_id is not None:
        conditions.append(Feature.id == query.feature_id)
    if query.frame is not None:
        conditions += _frame_conditions(session, query.frame, layer.geometry_type == "point", postgis)
    if query.created_from is not None:
        conditions.append(Feature.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(Feature.created_at < query.created_to)
    for name, value in query.equals.items():
        if name in _COLUMNS:
            conditions.append(_COLUMNS[name] == value)
        elif postgis:  # jsonb equality: 22 matches 22.0, "true" is not true
            conditions.append(Feature.properties[name] == cast(literal(json.dumps(value)), Feature.properties.type))
        else:
            conditions.append(func.json_extract(Feature.properties, f'$."{name}"') == value)
    return conditions


def _frame_conditions(session: Session, frame: Frame, points: bool, postgis: bool) -> list:
    """Filter on a frame through the spatial index; a projected box is then checked against its outline."""
    outline = frame.outline_wkt
    if postgis:
        envelope = func.ST_MakeEnvelope(*frame.bbox, SRID)
        conditions = [Feature.geom.op("&&")(envelope)]  # the GiST index; exact by itself for points
        if outline is not None:
            conditions.append(func.ST_Intersects(Feature.geom, func.ST_GeomFromText(outline, SRID)))
        elif not points:
            conditions.append(func.ST_Intersects(Feature.geom, envelope))
        return conditions
    conditions = [features_in_bbox(session, frame.bbox)]
    if outline is not None:
        conditions.append(func.ST_Intersects(Feature.geom, func.GeomFromText(outline, SRID)) == 1)
    return conditions


def _vote_count():
    return select(func.count()).where(Vote.feature_id == Feature.id).correlate(Feature).scalar_subquery()


def _pg_feature_text(layer: Layer, crs: str):
    """Return the SQL expression rendering one feature as GeoJSON text on PostGIS."""
    code = epsg_of(crs)
    geom = Feature.geom if code is None else func.ST_Transform(Feature.geom, int(code.split(":")[1]))
    values = {name: Feature.properties[name] for name in _field_names(layer)}
    values.update(
        theme=Feature.theme, status=Feature.status, official_answer=Feature.official_answer,
        vote_count=_vote_count(), demo=Feature.is_demo, source=Feature.source, source_ref=Feature.source_ref,
        author_display_name=User.display_name,
        created_at=func.to_char(func.timezone("UTC", Feature.created_at), _PG_STAMP),
        updated_at=func.to_char(func.timezone("UTC", Feature.updated_at), _PG_STAMP),
    )
    pairs = [part for name, value in values.items() for part in (cast(literal(name), Text), value)]
    return func.concat('{"type":"Feature","id":', Feature.id, ',"geometry":',
                       func.ST_AsGeoJSON(geom, decimals_for(crs), 0), ',"properties":',  # 0: no crs member
                       cast(func.json_build_object(*pairs), Text), "}")


def _field_names(layer: Layer) -> list[str]:
    return [f["name"] for f in (layer.property_schema or {}).get("fields", ())]


def _render_rows(session: Session, layer: Layer, page, crs: str) -> str:
    """Render a page's rows in Python (SpatiaLite: it cannot reproject to the Belgian systems)."""
    rows = session.execute(
        select(Feature.id, func.AsGeoJSON(Feature.geom), Feature.properties, Feature.theme, Feature.status,
               Feature.official_answer, _vote_count(), Feature.is_demo, Feature.source, Feature.source_ref,
               User.display_name, Feature.created_at, Feature.updated_at)
        .select_from(page).join(Feature, Feature.id == page.c.id).outerjoin(User, User.id == Feature.author_id)
        .order_by(Feature.id))
    names = _field_names(layer)
    texts = []
    for fid, geometry, own, *system in rows:
        properties = {name: (own or {}).get(name) for name in names}
        properties.update(zip(SYSTEM_PROPERTIES, system))
        properties["demo"] = bool(properties["demo"])
        for stamp in ("created_at", "updated_at"):
            properties[stamp] = _stamp(properties[stamp])
        feature = {"type": "Feature", "id": fid, "geometry": reproject_geometry(json.loads(geometry), crs),
                   "properties": properties}
        texts.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    return ",".join(texts)


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

