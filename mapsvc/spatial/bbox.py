"""Parse a bounding box given by a person or a client."""

from __future__ import annotations

import math

BBox = tuple[float, float, float, float]


def parse_bbox(text: str) -> BBox:
    """Turn 'minlon,minlat,maxlon,maxlat' into four floats, or raise ValueError saying what is wrong."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4:
        raise ValueError(
            f"bbox needs four numbers minlon,minlat,maxlon,maxlat separated by commas; got {len(parts)} value(s)."
        )
    numbers = []
    for name, part in zip(("minlon", "minlat", "maxlon", "maxlat"), parts):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"bbox {name} must be a number, got {part[:40]!r}.") from None
        if not math.isfinite(value):
            raise ValueError(f"bbox {name} must be a finite number, got {part[:40]!r}.")
        numbers.append(value)
    minx, miny, maxx, maxy = numbers
    for name, value in (("minlon", minx), ("maxlon", maxx)):
        if not -180 <= value <= 180:
            raise ValueError(f"bbox {name} must lie between -180 and 180 (degrees longitude), got {value}.")
    for name, value in (("minlat", miny), ("maxlat", maxy)):
        if not -90 <= value <= 90:
            raise ValueError(f"bbox {name} must lie between -90 and 90 (degrees latitude), got {value}.")
    if minx > maxx or miny > maxy:
        raise ValueError(
            "bbox is inverted: give minlon,minlat,maxlon,maxlat with the minimum values first "
            f"(got {minx},{miny},{maxx},{maxy})."
        )
    return minx, miny, maxx, maxy
