"""Find a place by address through a Nominatim-compatible geocoder, only inside one platform's box.

The browser never calls the geocoder itself: mapsvc asks it (MAPSVC_GEOCODER_URL) and hands back the
results, so a page loads nothing from another site and the geocoder never sees who searched.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, MapsvcError, NotFound
from mapsvc.services.catalogue import get_platform

MAX_QUERY = 200
MAX_RESULTS = 8
# Nominatim's usage policy asks every application to name itself.
USER_AGENT = "mapsvc-geocoder-adapter/1 (participation maps; server-side address search)"


class GeocoderFailed(MapsvcError):
    """The geocoder could not be reached or answered nonsense: not the caller's fault, not ours either."""

    status = 502
    code = "geocoder_failed"


@dataclass(frozen=True)
class Place:
    """One address found: a label to show and where it is (WGS84)."""

    label: str
    lat: float
    lon: float
    kind: str | None

    def to_json(self) -> dict[str, Any]:
        """Render for the API."""
        return {"label": self.label, "lat": round(self.lat, 7), "lon": round(self.lon, 7), "kind": self.kind}


def parse_results(payload: Any, bbox: tuple[float, float, float, float], limit: int = MAX_RESULTS) -> list[Place]:
    """Read a Nominatim jsonv2 answer; keep well-formed places inside bbox (minlon, minlat, maxlon, maxlat)."""
    if not isinstance(payload, list):
        raise GeocoderFailed("The address search answered something that is not a list of places.")
    minlon, minlat, maxlon, maxlat = bbox
    places = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        try:
            lat, lon = float(item["lat"]), float(item["lon"])
        except (KeyError, TypeError, ValueError):
            continue
        if not (math.isfinite(lat) and math.isfinite(lon) and minlat <= lat <= maxlat and minlon <= lon <= maxlon):
            continue   # the geocoder may ignore `bounded`: places elsewhere are no use on this map
        label = str(item.get("display_name") or item.get("name") or f"{lat:.5f}, {lon:.5f}")[:300]
        kind = item.get("type") or item.get("addresstype")
        places.append(Place(label, lat, lon, str(kind)[:40] if kind else None))
        if len(places) >= limit:
            break
    return places


def search_url(base_url: str, query: str, bbox: tuple[float, float, float, float], language: str) -> str:
    """Build the Nominatim /search URL for a query restricted to bbox."""
    minlon, minlat, maxlon, maxlat = bbox
    params = {"format": "jsonv2", "q": query, "limit": str(MAX_RESULTS), "bounded": "1",
              "viewbox": f"{minlon:.6f},{maxlat:.6f},{maxlon:.6f},{minlat:.6f}", "countrycodes": "be",
              "accept-language": language}
    return base_url.rstrip("/") + "/search?" + urllib.parse.urlencode(params)


def find_places(session: Session, base_url: str, platform_slug: str, query: str, *, language: str = "nl",
                timeout: float = 5.0) -> list[Place]:
    """Ask the geocoder for a free-text address and return the places inside the platform's box."""
    if not base_url:
        raise NotFound("Address search is not set up on this service (MAPSVC_GEOCODER_URL is empty); "
                       "give the place as coordinates instead.", code="geocoder_not_configured")
    query = " ".join((query or "").split())
    if not query:
        raise BadRequest("Give an address to look for in q, e.g. q=Grote Markt 1.", code="missing_parameter")
    if len(query) > MAX_QUERY:
        raise BadRequest(f"q is at most {MAX_QUERY} characters long, got {len(query)}.", code="invalid_parameter")
    platform = get_platform(session, platform_slug)
    bbox = to_shape(platform.boundary).bounds
    request = urllib.request.Request(search_url(base_url, query, bbox, language),
                                     headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            payload = json.loads(answer.read(2_000_000).decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise GeocoderFailed(f"The address search did not answer ({exc.__class__.__name__}); try again later "
                             "or give coordinates.") from None
    except (ValueError, UnicodeDecodeError):
        raise GeocoderFailed("The address search answered something that is not JSON.") from None
    return parse_results(payload, bbox)
