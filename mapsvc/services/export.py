"""Export a layer as GeoJSON, GeoPackage, CSV or zipped Shapefile: options, permission, streamed records.

Used by the HTTP download (mapsvc.web.export) and `mapsvc export`: both pass the options as text, so
both refuse bad input with the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Forbidden, NotFound
from mapsvc.export.formats import FORMATS, ExportFormat, export_chunks, write_atomically
from mapsvc.export.records import DATETIME, INTEGER, Column, ExportRecord, ExportSchema, layer_columns
from mapsvc.layers.status import STATUSES
from mapsvc.services.catalogue import get_layer, get_platform
from mapsvc.services.permissions import ADMIN, Actor, is_official
from mapsvc.spatial.bbox import BBox, parse_bbox
from mapsvc.spatial.crs import SUPPORTED, WGS84
from mapsvc.storage.exports import ExportedFeature, exported_features
from mapsvc.storage.features import FeatureFilter, count_matching
from mapsvc.storage.models import Layer, Platform

BRUSSELS = ZoneInfo("Europe/Brussels")  # dates without a time or offset are Belgian days
CRS_NAMES = {"EPSG:4326": "WGS84 lon/lat", "EPSG:31370": "Belgian Lambert 72", "EPSG:3812": "Belgian Lambert 2008"}
# Columns only officials see (include_moderation), which also brings the hidden and pending pins.
MODERATION_COLUMNS: tuple[Column, ...] = (Column("visibility"), Column("moderation_reason"),
                                          Column("moderated_at", DATETIME), Column("open_flags", INTEGER))
_SPACED_OFFSET = re.compile(r"(T[0-9:.]+) ([0-9]{2}(?::?[0-9]{2})?)$")
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
_EPSG = re.compile(r"(?:(?:urn:ogc:def:crs:)?EPSG:{1,2}|https?://www\.opengis\.net/def/crs/EPSG/0/)?(\d{4,6})",
                   re.IGNORECASE)


@dataclass(frozen=True)
class ExportOptions:
    """What to export, checked: format, target CRS, filter and whether to include moderation detail."""

    format: ExportFormat
    crs: str = WGS84
    bbox: BBox | None = None
    statuses: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    include_moderation: bool = False


@dataclass(frozen=True)
class PreparedExport:
    """An allowed export of one layer, ready to stream: no database objects, so any session can run it."""

    platform: str
    layer: str
    layer_id: int
    is_public: bool
    options: ExportOptions
    where: FeatureFilter
    schema: ExportSchema
    filename: str

    @property
    def media_type(self) -> str:
        """Return the Content-Type of the file."""
        return self.options.format.media_type


def parse_options(format_key: str, *, crs: str | None = None, bbox: str | None = None, status: str | None = None,
                  theme: str | None = None, date_from: str | None = None, date_to: str | None = None,
                  include_moderation: bool = False) -> ExportOptions:
    """Check export options given as text (query string or command line), raising BadRequest/NotFound."""
    fmt = FORMATS.get(format_key)
    if fmt is None:
        raise NotFound(f"Unknown export format {format_key[:20]!r}; use one of: {', '.join(FORMATS)}.",
                       code="unknown_format")
    target = parse_crs(crs)
    if target != WGS84 and not fmt.any_crs:
        raise BadRequest(f"GeoJSON is always WGS84 lon/lat (RFC 7946), so crs={target} is not possible; "
                         "choose gpkg, csv or shp.zip for Belgian Lambert.", code="invalid_crs")
    statuses = _list(status)
    if unknown := [s for s in statuses if s not in STATUSES]:
        raise BadRequest(f"Unknown status {unknown[0][:40]!r}; use one or more of: {', '.join(STATUSES)}.",
                         code="invalid_status")
    start = parse_moment(date_from, "from", end=False)
    stop = parse_moment(date_to, "to", end=True)
    if start is not None and stop is not None and start >= stop:
        raise BadRequest(f"from ({date_from}) must come before to ({date_to}).", code="invalid_date")
    try:
        box = None if bbox is None else parse_bbox(bbox)
    except ValueError as exc:
        raise BadRequest(str(exc), code="invalid_bbox") from None
    return ExportOptions(fmt, target, box, statuses, _list(theme), start, stop, include_moderation)


def parse_crs(text: str | None) -> str:
    """Read a CRS given as EPSG:31370, 31370 or an OGC URI; only the supported ones pass."""
    if text is None or not text.strip():
        return WGS84
    match = _EPSG.fullmatch(text.strip())
    code = f"EPSG:{int(match.group(1))}" if match else None
    if code not in SUPPORTED:
        choices = ", ".join(f"{c} ({CRS_NAMES[c]})" for c in SUPPORTED)
        raise BadRequest(f"crs must be one of {choices}; got {text[:60]!r}.", code="invalid_crs")
    return code


def parse_moment(text: str | None, name: str, *, end: bool) -> datetime | None:
    """Read a date (a whole Belgian day; `end` includes it) or a date-time (naive = Belgian time) as UTC."""
    if text is None or not text.strip():
        return None
    # A "+" in a query string arrives as a space: 2026-09-01T08:00:00+02:00 → "...08:00:00 02:00".
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    try:
        if not any(mark in text.upper() for mark in ("T", " ", ":")):
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1 if end else 0), datetime.min.time(), BRUSSELS)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=BRUSSELS)
    except (ValueError, OverflowError):
        raise BadRequest(f"{name} must be a date like 2026-09-01 or a date and time like 2026-09-01T08:00:00+02:00 "
                         f"(without an offset it is Belgian time); got {text[:40]!r}.", code="invalid_date") from None
    return moment.astimezone(timezone.utc)


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def check_export_allowed(actor: Actor, platform: Platform, layer: Layer, *, include_moderation: bool) -> None:
    """Public layers are for anyone; non-public layers and moderation detail only for the platform's officials."""
    if is_official(actor, platform.id):
        return
    if include_moderation:
        raise Forbidden(f"Moderation detail is only for officials of {platform.slug!r}; "
                        "leave include_moderation out for the public export.", code="moderation_detail_forbidden")
    if not layer.is_public:
        raise Forbidden(f"Layer {layer.slug!r} is not public; only officials of {platform.slug!r} may export it.",
                        code="layer_not_public")


def prepare_export(session: Session, actor: Actor, platform_slug: str, layer_slug: str, options: ExportOptions,
                   *, today: date | None = None) -> PreparedExport:
    """Find the layer, check the actor may export it and the filter fits it, and name the file."""
    platform, layer = get_layer(session, platform_slug, layer_slug)
    check_export_allowed(actor, platform, layer, include_moderation=options.include_moderation)
    if unknown := [t for t in options.themes if t not in layer.themes]:
        known = ", ".join(layer.themes) or "none (this layer has no themes)"
        raise BadRequest(f"Layer {layer.slug!r} has no theme {unknown[0][:40]!r}; its themes: {known}.",
                         code="invalid_theme")
    extra = MODERATION_COLUMNS if options.include_moderation else ()
    schema = ExportSchema(f"{platform.slug}_{layer.slug}".replace("-", "_"), layer.geometry_type,
                          layer_columns(layer.property_schema, extra), layer.attribution)
    where = FeatureFilter(bbox=options.bbox, statuses=options.statuses, themes=options.themes,
                          created_from=options.created_from, created_to=options.created_to,
                          public_only=not options.include_moderation)
    return PreparedExport(platform.slug, layer.slug, layer.id, layer.is_public, options, where, schema,
                          export_filename(platform.slug, layer.slug, options, today or datetime.now(BRUSSELS).date()))


def export_filename(platform: str, layer: str, options: ExportOptions, today: date) -> str:
    """Name the file: poperinge_charging-points_2026-11-22[_epsg31370].gpkg."""
    crs = "" if options.crs == WGS84 else "_" + options.crs.replace(":", "").lower()
    name = f"{platform}_{layer}_{today.isoformat()}{crs}{options.format.suffix}"
    return _UNSAFE_IN_FILENAME.sub("_", name)  # slugs are ASCII already; keep the header safe regardless


def count_export(session: Session, export: PreparedExport) -> int:
    """Count the features an export will hold."""
    return count_matching(session, export.layer_id, export.where)


def export_records(session: Session, export: PreparedExport) -> Iterator[ExportRecord]:
    """Stream the layer's matching features as plain export records."""
    moderation = export.options.include_moderation
    for feature in exported_features(session, export.layer_id, export.where, moderation=moderation):
        yield _record(feature, moderation)


def _record(feature: ExportedFeature, moderation: bool = False) -> ExportRecord:
    values = dict(feature.properties)
    values.update(theme=feature.theme, status=feature.status, official_answer=feature.official_answer,
                  vote_count=feature.vote_count, demo=feature.is_demo, source=feature.source,
                  source_ref=feature.source_ref, author_display_name=feature.author_display_name,
                  created_at=feature.created_at, updated_at=feature.updated_at)
    if moderation:
        values.update(visibility=feature.visibility, moderation_reason=feature.moderation_reason,
                      moderated_at=feature.moderated_at, open_flags=feature.open_flags)
    return ExportRecord(feature.id, feature.geometry, values)


def stream_export(session: Session, export: PreparedExport, *,
                  progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Yield the export file as byte chunks; `progress(n)` hears how many features were read so far."""
    records: Iterable[ExportRecord] = export_records(session, export)
    if progress is not None:
        records = _counted(records, progress)
    return export_chunks(export.options.format, records, export.schema, crs=export.options.crs)


def _counted(records: Iterable[ExportRecord], progress: Callable[[int], None], every: int = 500):
    done = 0
    for done, record in enumerate(records, 1):
        yield record
        if done % every == 0:
            progress(done)
    progress(done)


def write_export(session: Session, export: PreparedExport, path: str | Path, *,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write the export to `path` atomically (a temporary file beside it, renamed at the end); return bytes."""
    return write_atomically(path, stream_export(session, export, progress=progress))


def command_line_actor(session: Session, platform_slug: str) -> Actor:
    """The person at the command line holds the database itself: let them export as the platform's admin."""
    platform = get_platform(session, platform_slug)
    return Actor(None, frozenset({(ADMIN, platform.id, None)}))

