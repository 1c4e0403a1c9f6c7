"""OGC API - Features requests: the exception family and the parsing of an items query."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from mapsvc.errors import MapsvcError
from mapsvc.spatial.ogc_crs import CRS84, canonical_crs, parse_frame
from mapsvc.storage.ogc import ItemsQuery


class OGCError(MapsvcError):
    """An error answered in the OGC exception format: {"code", "description"} with its HTTP status."""

    status = 400
    code = "InvalidParameterValue"

    def to_ogc_json(self) -> dict[str, Any]:
        """Render the OGC API exception body."""
        return {"code": self.code, "description": self.message, "status": self.status}


class InvalidParameter(OGCError):
    status = 400
    code = "InvalidParameterValue"


class OGCNotFound(OGCError):
    status = 404
    code = "NotFound"


class OGCServerError(OGCError):
    status = 500
    code = "NoApplicableCode"


# Parameters every items request may carry besides the queryables; `after`/`before` are the cursors in
# next/prev links, `offset` is for clients that page by count.
ITEMS_PARAMETERS = ("f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "after", "before")
PAGING_PARAMETERS = ("limit", "offset", "after", "before")
MAX_ID = 2**63 - 1
MAX_OFFSET = 2**31 - 1
FILTER_TYPES = ("string", "enum", "url", "date", "integer", "number", "boolean")
# System properties a client may filter on, with the type of their values.
SYSTEM_QUERYABLES = {"theme": "string", "status": "string", "demo": "boolean"}


def queryables(property_schema: Mapping[str, Any]) -> dict[str, str]:
    """Return the properties a layer can be filtered on, with their schema type."""
    own = {f["name"]: f["type"] for f in property_schema.get("fields", ()) if f.get("type") in FILTER_TYPES}
    return {**own, **SYSTEM_QUERYABLES}


def reject_unknown(args: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    """Refuse parameters the API definition does not list (OGC requires a 400 for them)."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise InvalidParameter(f"Unknown query parameter(s): {', '.join(u[:40] for u in unknown)}; "
                               f"this resource takes: {', '.join(allowed)}.")


def parse_items_query(args: Mapping[str, str], schema: Mapping[str, Any], *, default_limit: int,
                      max_limit: int) -> ItemsQuery:
    """Check an items request's parameters; a limit above the maximum is lowered to it (OGC allows that)."""
    filterable = queryables(schema)
    reject_unknown(args, ITEMS_PARAMETERS + tuple(filterable))
    limit = min(_whole(args, "limit", default_limit, 1, MAX_OFFSET), max_limit)
    offset = _whole(args, "offset", 0, 0, MAX_OFFSET)
    after = _whole(args, "after", None, 0, MAX_ID)
    before = _whole(args, "before", None, 1, MAX_ID)
    if sum(x is not None for x in (after, before)) + (offset > 0) > 1:
        raise InvalidParameter("Give at most one of offset, after and before: follow the next/prev links.")
    crs = _crs(args, "crs")
    frame = None
    if "bbox" in args:
        try:
            frame = parse_frame(args["bbox"], _crs(args, "bbox-crs"))
        except ValueError as exc:
            raise InvalidParameter(str(exc)) from None
    elif "bbox-crs" in args:
        raise InvalidParameter("bbox-crs only makes sense together with bbox.")
    created_from = created_to = None
    if "datetime" in args:
        created_from, created_to = parse_datetime_interval(args["datetime"])
    equals = {name: _typed(name, args[name], kind) for name, kind in filterable.items() if name in args}
    return ItemsQuery(limit=limit, offset=offset, after=after, before=before, frame=frame, crs=crs,
                      created_from=created_from, created_to=created_to, equals=equals)


def _whole(args: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    raw = args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not low <= int(text) <= high:
        raise InvalidParameter(f"{name} must be a whole number from {low} up, got {raw[:40]!r}.")
    return int(text)


def _crs(args: Mapping[str, str], name: str) -> str:
    if name not in args:
        return CRS84
    try:
        return canonical_crs(args[name])
    except ValueError as exc:
        raise InvalidParameter(f"{name}: {exc}") from None


def _typed(name: str, raw: str, kind: str) -> Any:
    """Turn a filter value into the type the property holds."""
    text = raw.strip()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise InvalidParameter(f"{name} is a whole number; got {raw[:40]!r}.") from None
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InvalidParameter(f"{name} is a number; got {raw[:40]!r}.")
        return value
    if kind == "boolean":
        if text.lower() in ("true", "1"):
            return True
        if text.lower() in ("false", "0"):
            return False
        raise InvalidParameter(f"{name} is true or false; got {raw[:40]!r}.")
    return raw


def parse_datetime_interval(text: str) -> tuple[datetime | None, datetime | None]:
    """Read an RFC 3339 instant, date or interval ('a/b', '../b', 'a/..') into [start, end) in UTC."""
    if "/" not in text:
        start, end = _moment(text, "datetime")
        return start, end
    if text.count("/") != 1:
        raise InvalidParameter(f"datetime takes one instant or one interval start/end; got {text[:80]!r}.")
    left, right = (part.strip() for part in text.split("/"))
    start = None if left in ("", "..") else _moment(left, "datetime start")[0]
    end = None if right in ("", "..") else _moment(right, "datetime end")[1]
    if start is None and end is None:
        raise InvalidParameter("datetime needs at least one bound: '2026-09-01T00:00:00Z/..' or '../2026-10-01'.")
    if start is not None and end is not None and start >= end:
        raise InvalidParameter(f"datetime interval ends before it starts: {text[:80]!r}.")
    return start, end


def _moment(text: str, what: str) -> tuple[datetime, datetime]:
    """Return [start, end) of an instant (one microsecond) or a whole UTC day."""
    value = text.strip()
    try:
        if "T" not in value.upper():
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), timezone.utc)
            return start, start + timedelta(days=1)
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidParameter(f"{what} must be RFC 3339, like 2026-09-01T00:00:00Z or 2026-09-01; "
                               f"got {text[:80]!r}.") from None
    if moment.tzinfo is None:
        raise InvalidParameter(f"{what} needs a time zone, like 2026-09-01T00:00:00Z; got {text[:80]!r}.")
    moment = moment.astimezone(timezone.utc)
    return moment, moment + timedelta(microseconds=1)
