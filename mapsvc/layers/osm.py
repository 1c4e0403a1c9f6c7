"""Turn OpenStreetMap objects into layer properties, and decide which ones are public."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# access=* values that keep the public out: https://wiki.openstreetmap.org/wiki/Key:access
NOT_PUBLIC = frozenset({"private", "customers", "employees", "staff", "no", "permit", "key",
                        "car_sharing", "hgv", "delivery", "residents", "unknown"})

# Above this, an OSM max_output_kw is a tagging mistake (the data holds values like 56,683,060 kW).
PLAUSIBLE_MAX_KW = 1000


def is_public(tags: Mapping[str, Any]) -> bool:
    """Say whether an OSM object with these tags is open to the public (no access tag counts as open)."""
    return str(tags.get("access", "")).strip().lower() not in NOT_PUBLIC


def _int_tag(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _text(value: Any) -> str | None:
    return value.strip()[:200] if isinstance(value, str) and value.strip() else None


def charging_point_properties(tags: Mapping[str, Any], max_output_kw: Any, osm_url: str) -> dict[str, Any]:
    """Map an OSM charging station to the charging-points layer's fields."""
    kw = None
    if isinstance(max_output_kw, (int, float)) and math.isfinite(max_output_kw):
        kw = float(max_output_kw) if 0 <= max_output_kw <= PLAUSIBLE_MAX_KW else None
    props = {"name": _text(tags.get("name")), "operator": _text(tags.get("operator")), "max_output_kw": kw,
             "capacity": _int_tag(tags.get("capacity")), "access": _text(tags.get("access")), "osm_url": osm_url}
    return {k: v for k, v in props.items() if v is not None}


def book_cabinet_properties(tags: Mapping[str, Any], osm_url: str) -> dict[str, Any]:
    """Map an OSM public bookcase to the book-cabinets layer's fields."""
    props = {"name": _text(tags.get("name")),
             "maintainer": _text(tags.get("operator") or tags.get("maintainer")), "osm_url": osm_url}
    return {k: v for k, v in props.items() if v is not None}
