"""Parse query-string parameters into checked values, with messages a person can act on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mapsvc.errors import BadRequest
from mapsvc.spatial.bbox import BBox, parse_bbox

MAX_OFFSET = 2**31 - 1


def reject_unknown(args: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse query parameters the endpoint does not know (a typo would otherwise be ignored silently)."""
    allowed = tuple(allowed)
    # `lang` (the interface language, mapsvc.web.language) is understood on every request.
    unknown = sorted(set(args) - set(allowed) - {"lang"})
    if unknown:
        raise BadRequest(f"Unknown query parameter(s): {', '.join(u[:40] for u in unknown)}; "
                         f"this endpoint takes: {', '.join(allowed) or 'none'}.", code="unknown_parameter")


def whole_number(args: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """Read an integer parameter within [low, high]."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, got {raw[:40]!r}.", code="invalid_parameter") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must lie between {low} and {high}, got {value}.", code="invalid_parameter")
    return value


def bbox(args: Mapping[str, str]) -> BBox | None:
    """Read the optional bbox=minlon,minlat,maxlon,maxlat parameter."""
    raw = args.get("bbox")
    if raw is None:
        return None
    try:
        return parse_bbox(raw)
    except ValueError as exc:
        raise BadRequest(str(exc), code="invalid_bbox") from None


def feature_id(raw: str) -> int:
    """Read a feature id from the path."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit(), yet int("²") fails
        raise BadRequest(f"A feature id is a positive whole number, got {raw[:40]!r}.", code="invalid_feature_id")
    return int(raw)


def json_body():
    """Return the request's JSON body, or raise a 400 that says how to send one."""
    from flask import request

    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("Send a JSON body with Content-Type: application/json.", code="invalid_json")
    return body
