"""Queries behind OGC API - Features: public layers, their extents, and pages of GeoJSON in one statement.

The matching ids are selected once (a CTE) and give the page, numberMatched and whether pages lie before
and after it. On PostGIS the ids of a box come from the covering index on each feature's exact box
(migration 0003) without reading the table, the statement's text is compiled once per shape of request,
and the database writes the page's GeoJSON text itself, so Python only wraps it. On SpatiaLite the rows
are rendered in Python (correct, not tuned; it cannot reproject to the Belgian systems).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Float, Integer, Text, bindparam, cast, column, func, literal, literal_column, select, table, true
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mapsvc.spatial.ogc_crs import CRS84, Frame, decimals_for, epsg_of, reproject_geometry
from mapsvc.storage.features import PUBLIC, not_public_ids
from mapsvc.storage.models import SRID, Feature, Layer, Platform, User, Vote

# What every OGC feature carries beside its layer's own fields, in this order. Nothing names a person:
# the author only by the display name they chose, votes only as a count.
SYSTEM_PROPERTIES = ("theme", "status", "official_answer", "vote_count", "demo", "source", "source_ref",
                     "author_display_name", "created_at", "updated_at")
_COLUMNS = {"theme": Feature.theme, "status": Feature.status, "demo": Feature.is_demo}


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


@dataclass(frozen=True)
class LayerBrief:
    """What serving a public layer's items needs, read without loading ORM objects (the hot path)."""

    id: int
    geometry_type: str
    property_schema: dict
    attribution: str | None
    title_nl: str
    platform_name_nl: str


_BRIEF = (select(Layer.id, Layer.geometry_type, Layer.property_schema, Layer.attribution, Layer.title_nl,
                 Platform.name_nl).join(Layer.platform)
          .where(Platform.slug == bindparam("platform"), Layer.slug == bindparam("layer"), Layer.is_public.is_(True)))


def public_layer_brief(session: Session, platform_slug: str, layer_slug: str) -> LayerBrief | None:
    """Return the essentials of a public layer by slugs, or None."""
    params = {"platform": platform_slug, "layer": layer_slug}
    connection = _read_connection(session)
    if connection.dialect.name == "postgresql":  # precompiled: this runs on every items request
        row = connection.exec_driver_sql(_brief_sql(), params).first()
    else:
        row = connection.execute(_BRIEF, params).first()
    return None if row is None else LayerBrief(*row)


def _read_connection(session: Session) -> Connection:
    """Return the session's connection; a new one on PostGIS reads in autocommit, sparing a request the
    BEGIN and ROLLBACK round trips (these reads need no common snapshot)."""
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session.connection()


@lru_cache(maxsize=1)
def _brief_sql() -> str:
    return str(_BRIEF.compile(dialect=psycopg_dialect()))


def layer_extents(session: Session, layer_ids: list[int]) -> dict[int, LayerExtent]:
    """Return the extent of each layer's public features."""
    postgis = session.get_bind().dialect.name == "postgresql"
    names = ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax") if postgis else ("MbrMinX", "MbrMinY", "MbrMaxX", "MbrMaxY")
    edges = [getattr(func, name)(Feature.geom) for name in names]
    rows = session.execute(
        select(Feature.layer_id, func.min(edges[0]), func.min(edges[1]), func.max(edges[2]), func.max(edges[3]),
               func.min(Feature.created_at), func.max(Feature.created_at))
        .where(Feature.layer_id.in_(layer_ids), PUBLIC).group_by(Feature.layer_id))
    extents = {layer_id: LayerExtent(None, None, None) for layer_id in layer_ids}
    for layer_id, minx, miny, maxx, maxy, first, last in rows:
        extents[layer_id] = LayerExtent((minx, miny, maxx, maxy), first, last)
    return extents


def render_page(session: Session, layer: Layer | LayerBrief, query: ItemsQuery) -> RenderedPage:
    """Select one page of a layer's features and render it as GeoJSON text, with its counts."""
    postgis = session.get_bind().dialect.name == "postgresql"
    shape, params = _shape_and_params(layer, query, postgis)
    statement, page = _statement(shape)
    if postgis:  # the hot path: SQL text compiled once per shape, so a request builds no SQLAlchemy objects
        sql, defaults = _compiled(shape)
        row = _read_connection(session).exec_driver_sql(sql, {**defaults, **params}).one()
    else:
        row = session.execute(statement, params).one()
    n, lo, hi, total, below, above, *rest = row
    features_text = rest[0] if postgis else _render_rows(session, page, params, shape, query.crs)
    return RenderedPage(features_text, n, total, bool(below), bool(above), lo, hi)


@dataclass(frozen=True)
class _Shape:
    """What decides the SQL text of a page query (the values travel as parameters)."""

    postgis: bool
    fields: tuple[str, ...]
    crs: str
    frame: bool = False
    outline: bool = False
    points: bool = False
    created_from: bool = False
    created_to: bool = False
    equals: tuple[str, ...] = ()   # a system column name, or "" for a layer field
    cursor: str | None = None      # "after" | "before"
    feature_id: bool = False


def _shape_and_params(layer: Layer | LayerBrief, query: ItemsQuery, postgis: bool) -> tuple[_Shape, dict[str, Any]]:
    fields = tuple(f["name"] for f in (layer.property_schema or {}).get("fields", ()))
    params: dict[str, Any] = {"layer_id": layer.id, "limit": query.limit, "offset": query.offset}
    if query.frame is not None:
        params.update(zip(("minx", "miny", "maxx", "maxy"), query.frame.bbox))
        params["outline"] = query.frame.outline_wkt
    params.update(created_from=query.created_from, created_to=query.created_to, feature_id=query.feature_id,
                  after=query.after, before=query.before)
    equals = []
    for i, (name, value) in enumerate(query.equals.items()):
        equals.append(name if name in _COLUMNS else "")
        params[f"ek{i}"] = name if postgis else f'$."{name}"'
        # PostGIS compares jsonb (22 matches 22.0, "true" is not true); SQLite compares json_extract's value.
        params[f"ev{i}"] = value if name in _COLUMNS or not postgis else json.dumps(value)
    cursor = "before" if query.before is not None else "after" if query.after is not None else None
    shape = _Shape(postgis, fields, query.crs, query.frame is not None,
                   query.frame is not None and query.frame.outline is not None, layer.geometry_type == "point",
                   query.created_from is not None, query.created_to is not None, tuple(equals), cursor,
                   query.feature_id is not None)
    return shape, {k: v for k, v in params.items() if v is not None}


@lru_cache(maxsize=512)
def _compiled(shape: _Shape) -> tuple[str, dict[str, Any]]:
    """Compile a shape's statement for psycopg once; return the SQL and the values of its constant parameters."""
    compiled = _statement(shape)[0].compile(dialect=psycopg_dialect())
    return str(compiled), {k: v for k, v in compiled.params.items() if v is not None}


@lru_cache(maxsize=512)
def _statement(shape: _Shape):
    """Build the page query of a shape: matches (a CTE), the page, its bounds, counts and (PostGIS) the text."""
    matched = select(Feature.id.label("id")).where(*_conditions(shape)).cte("matched")
    page = select(matched.c.id)
    if shape.cursor == "before":
        page = page.where(matched.c.id < bindparam("before", type_=Integer)).order_by(matched.c.id.desc())
    else:
        if shape.cursor == "after":
            page = page.where(matched.c.id > bindparam("after", type_=Integer))
        page = page.order_by(matched.c.id)
    page = page.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).cte("page")
    bounds = select(func.min(page.c.id).label("lo"), func.max(page.c.id).label("hi"),
                    func.count().label("n")).cte("bounds")
    # One pass over the matches counts them all and those before and after the page.
    lo, hi = select(bounds.c.lo).scalar_subquery(), select(bounds.c.hi).scalar_subquery()
    tally = (select(func.count().label("total"), func.count().filter(matched.c.id < lo).label("below"),
                    func.count().filter(matched.c.id > hi).label("above")).select_from(matched).cte("tally"))
    columns = [bounds.c.n, bounds.c.lo, bounds.c.hi, tally.c.total, tally.c.below, tally.c.above]
    if shape.postgis:
        # The page's vote counts in one grouped pass (a subquery per feature costs more, even on no votes).
        votes = (select(Vote.feature_id, func.count().label("n")).where(Vote.feature_id.in_(select(page.c.id)))
                 .group_by(Vote.feature_id).cte("page_votes"))
        text = _pg_feature_text(shape.fields, shape.crs)
        columns.append(select(func.coalesce(func.string_agg(text, aggregate_order_by(literal(","), Feature.id)), ""))
                       .select_from(page).join(Feature, Feature.id == page.c.id)
                       .outerjoin(User, User.id == Feature.author_id)
                       .outerjoin(votes, votes.c.feature_id == Feature.id).scalar_subquery())
    return select(*columns).select_from(bounds).join(tally, true()), page


def _conditions(shape: _Shape) -> list:
    layer_id = bindparam("layer_id", type_=Integer)
    # Only public features. NOT IN the layer's few pending/hidden ids rather than `visibility = 'visible'`: the
    # bbox index covers (layer_id, id) only, and a test on the row's visibility would read every match's row.
    conditions = [Feature.layer_id == layer_id, Feature.id.not_in(not_public_ids(layer_id))]
    if shape.feature_id:
        conditions.append(Feature.id == bindparam("feature_id", type_=Integer))
    if shape.frame:
        conditions += _frame_conditions(shape)
    if shape.created_from:
        conditions.append(Feature.created_at >= bindparam("created_from", type_=Feature.created_at.type))
    if shape.created_to:
        conditions.append(Feature.created_at < bindparam("created_to", type_=Feature.created_at.type))
    for i, system in enumerate(shape.equals):
        if system:
            conditions.append(_COLUMNS[system] == bindparam(f"ev{i}", type_=_COLUMNS[system].type))
        elif shape.postgis:
            conditions.append(Feature.properties[bindparam(f"ek{i}", type_=Text)]
                              == cast(bindparam(f"ev{i}", type_=Text), JSONB))
        else:
            conditions.append(func.json_extract(Feature.properties, bindparam(f"ek{i}", type_=Text))
                              == bindparam(f"ev{i}"))
    return conditions


def _frame_conditions(shape: _Shape) -> list:
    """Filter on a frame through an index, then exactly: against the box, or a projected box's outline."""
    minx, miny, maxx, maxy = (bindparam(name, type_=Float) for name in ("minx", "miny", "maxx", "maxy"))
    outline = bindparam("outline", type_=Text)
    if shape.postgis:
        # bbox (migration 0003) is the feature's exact box in double precision, indexed with layer_id and id:
        # && finds candidates in the index (PostgreSQL's box && allows 1e-6 of slack), the corner tests make
        # it exact, and for points that is the whole test, answered without reading the table.
        low_x, low_y, high_x, high_y = (literal_column(f"(features.bbox[{corner}])[{axis}]")
                                        for corner, axis in ((1, 0), (1, 1), (0, 0), (0, 1)))
        frame = func.box(func.point(minx, miny), func.point(maxx, maxy))
        conditions = [literal_column("features.bbox").op("&&")(frame),
                      low_x <= maxx, high_x >= minx, low_y <= maxy, high_y >= miny]
        if shape.outline:
            conditions.append(func.ST_Intersects(Feature.geom, func.ST_GeomFromText(outline, SRID)))
        elif not shape.points:
            conditions.append(func.ST_Intersects(Feature.geom, func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID)))
        return conditions
    # SpatiaLite never uses its R*Tree by itself: ask the SpatialIndex virtual table for candidate rowids.
    index = table("SpatialIndex", column("ROWID"), column("f_table_name"), column("f_geometry_column"),
                  column("search_frame"))
    candidates = select(index.c.ROWID).where(index.c.f_table_name == "features", index.c.f_geometry_column == "geom",
                                             index.c.search_frame == func.BuildMbr(minx, miny, maxx, maxy, SRID))
    exact = func.GeomFromText(outline, SRID) if shape.outline else func.BuildMbr(minx, miny, maxx, maxy, SRID)
    return [Feature.id.in_(candidates), func.ST_Intersects(Feature.geom, exact) == 1]


def _vote_count():
    return select(func.count()).where(Vote.feature_id == Feature.id).correlate(Feature).scalar_subquery()


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_feature_text(fields: tuple[str, ...], crs: str):
    """Return SQL rendering one feature as GeoJSON text on PostGIS: text pieces joined by ||.

    Every layer field is present (null when unset), in schema order, then the system properties; plain
    concatenation is measurably cheaper than json_build_object here, and the keys are JSON-encoded constants.
    """
    code = epsg_of(crs)
    geom = "features.geom" if code is None else f"ST_Transform(features.geom, {int(code.split(':')[1])})"
    stamp = """to_char(timezone('UTC', features.{}), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    values = [(name, f"coalesce((features.properties -> {_sql_string(name)})::text, 'null')") for name in fields]
    values += [(name, f"coalesce(to_json({sql})::text, 'null')") for name, sql in (
        ("theme", "features.theme"), ("status", "features.status"), ("official_answer", "features.official_answer"))]
    values += [("vote_count", "coalesce(page_votes.n, 0)::text"), ("demo", "features.is_demo::text")]
    values += [(name, f"coalesce(to_json({sql})::text, 'null')") for name, sql in (
        ("source", "features.source"), ("source_ref", "features.source_ref"),
        ("author_display_name", "users.display_name"))]
    values += [(name, f"""coalesce('"' || {stamp.format(name)} || '"', 'null')""")
               for name in ("created_at", "updated_at")]
    assert [name for name, _ in values[len(fields):]] == list(SYSTEM_PROPERTIES)
    pieces = [_sql_string('{"type":"Feature","id":'), "features.id::text", _sql_string(',"geometry":'),
              f"ST_AsGeoJSON({geom}, {decimals_for(crs)}, 0)", _sql_string(',"properties":{')]
    for i, (name, value) in enumerate(values):
        pieces += [_sql_string(("," if i else "") + json.dumps(name) + ":"), value]
    return literal_column(" || ".join(pieces + [_sql_string("}}")]))


def _render_rows(session: Session, page, params: dict[str, Any], shape: _Shape, crs: str) -> str:
    """Render a page's rows in Python (SpatiaLite: it cannot reproject to the Belgian systems)."""
    rows = session.execute(
        select(Feature.id, func.AsGeoJSON(Feature.geom), Feature.properties, Feature.theme, Feature.status,
               Feature.official_answer, _vote_count(), Feature.is_demo, Feature.source, Feature.source_ref,
               User.display_name, Feature.created_at, Feature.updated_at)
        .select_from(page).join(Feature, Feature.id == page.c.id).outerjoin(User, User.id == Feature.author_id)
        .order_by(Feature.id), params)
    names = shape.fields
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

