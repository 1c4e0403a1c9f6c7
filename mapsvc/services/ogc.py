"""OGC API - Features: the landing page, conformance, collections (one per public layer) and their items.

Every function takes a Session, the service's base URL (for links) and parsed values; none knows Flask.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from mapsvc.services.ogc_query import (
    PAGING_PARAMETERS,
    InvalidParameter,
    OGCNotFound,
    parse_items_query,
    queryables,
    reject_unknown,
)
from mapsvc.spatial.ogc_crs import CRS84, SERVED, canonical_crs
from mapsvc.storage import ogc as store
from mapsvc.storage.catalogue import feature_counts
from mapsvc.storage.models import Layer, Platform

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)
_SCHEMA_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def collection_id(platform: Platform, layer: Layer) -> str:
    """Name a layer as a collection: '{platform}.{layer}' (GDAL, QGIS and OWSLib take it as a layer name)."""
    return f"{platform.slug}.{layer.slug}"


def find_collection(session: Session, cid: str) -> tuple[Platform, Layer]:
    """Return the public layer behind a collection id, or raise a 404 listing the collections."""
    platform_slug, _, layer_slug = cid.partition(".")
    found = store.find_public_layer(session, platform_slug, layer_slug) if layer_slug else None
    if found is None:
        known = ", ".join(collection_id(p, layer) for p, layer in store.public_layers(session)) or "none yet"
        raise OGCNotFound(f"No collection {cid[:130]!r}; the collections are: {known}.")
    return found


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _url(base: str, path: str, query: Mapping[str, Any] | None = None) -> str:
    return base + path + ("?" + urlencode(query) if query else "")


def _self_links(base: str, path: str, what: str, as_html: bool) -> list[dict[str, str]]:
    """Return the self and alternate links of a JSON/HTML resource."""
    json_link = _link(_url(base, path, {"f": "json"}), "alternate" if as_html else "self", JSON, f"{what} (JSON)")
    html_link = _link(_url(base, path, {"f": "html"}), "self" if as_html else "alternate", HTML, f"{what} (HTML)")
    return [html_link, json_link] if as_html else [json_link, html_link]


def landing_page(base: str, *, as_html: bool = False) -> dict[str, Any]:
    """Return the landing page: what the service is and where its parts are."""
    return {
        "title": "mapsvc – kaartlagen voor burgerparticipatie",
        "description": "Public map layers of Belgian participation platforms as OGC API - Features: one "
                       "collection per public layer, in CRS84, Belgian Lambert 72 (EPSG:31370) or Lambert 2008 "
                       "(EPSG:3812).",
        "links": _self_links(base, "/", "Landing page", as_html) + [
            _link(_url(base, "/api"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            _link(_url(base, "/conformance", {"f": "json"}), "conformance", JSON, "Conformance classes"),
            _link(_url(base, "/conformance", {"f": "json"}), "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                  JSON, "Conformance classes"),
            _link(_url(base, "/collections", {"f": "json"}), "data", JSON, "The collections"),
            _link(_url(base, "/collections", {"f": "json"}), "http://www.opengis.net/def/rel/ogc/1.0/data", JSON,
                  "The collections"),
            _link(_url(base, "/collections", {"f": "html"}), "data", HTML, "The collections (HTML)"),
        ],
    }


def conformance() -> dict[str, Any]:
    """Return the conformance classes the service implements."""
    return {"conformsTo": list(CONFORMANCE)}


def _collection(base: str, platform: Platform, layer: Layer, extent: store.LayerExtent,
                counts: tuple[int, int], as_html: bool = False) -> dict[str, Any]:
    cid = collection_id(platform, layer)
    path = f"/collections/{quote(cid)}"
    total, demo = counts
    description = layer.description_nl or ""
    if demo:
        description += f" Demodata: {demo} van de {total} objecten zijn gegenereerd (demo = true)."
    bbox = extent.bbox or _boundary_bbox(platform)
    body: dict[str, Any] = {
        "id": cid,
        "title": f"{'Demo – ' if demo and demo == total else ''}{layer.title_nl} – {platform.name_nl}",
        "description": description.strip(),
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [[round(v, 7) for v in bbox]], "crs": CRS84}},
        "crs": list(SERVED),
        "storageCrs": CRS84,
        "links": _self_links(base, path, "Collection", as_html) + [
            _link(_url(base, path + "/items", {"f": "json"}), "items", GEOJSON, "Features (GeoJSON)"),
            _link(_url(base, path + "/items", {"f": "html"}), "items", HTML, "Features (HTML)"),
            _link(_url(base, path + "/queryables", {"f": "json"}), "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  SCHEMA, "Properties to filter on"),
        ],
    }
    if extent.first is not None:
        body["extent"]["temporal"] = {"interval": [[_stamp(extent.first), _stamp(extent.last)]], "trs": GREGORIAN}
    if layer.attribution:
        body["attribution"] = layer.attribution
    body["feature_count"] = total
    return body


def _boundary_bbox(platform: Platform) -> tuple[float, float, float, float]:
    return to_shape(platform.boundary).bounds


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def collections(session: Session, base: str, *, as_html: bool = False) -> dict[str, Any]:
    """Return every public layer as a collection."""
    found = store.public_layers(session)
    ids = [layer.id for _, layer in found]
    extents, counts = store.layer_extents(session, ids), feature_counts(session, ids)
    return {
        "links": _self_links(base, "/collections", "Collections", as_html),
        "collections": [_collection(base, p, layer, extents[layer.id], counts[layer.id]) for p, layer in found],
    }


def collection(session: Session, base: str, cid: str, *, as_html: bool = False) -> dict[str, Any]:
    """Return one collection's description."""
    platform, layer = find_collection(session, cid)
    extent = store.layer_extents(session, [layer.id])[layer.id]
    return _collection(base, platform, layer, extent, feature_counts(session, [layer.id])[layer.id], as_html)


def queryables_schema(session: Session, base: str, cid: str) -> dict[str, Any]:
    """Return the properties a collection's items can be filtered on, as a JSON Schema."""
    _platform, layer = find_collection(session, cid)
    properties = {}
    for name, kind in queryables(layer.property_schema).items():
        entry: dict[str, Any] = {"title": name, "type": _SCHEMA_TYPES.get(kind, "string")}
        if kind == "date":
            entry["format"] = "date"
        properties[name] = entry
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(base, f"/collections/{quote(cid)}/queryables"),
        "type": "object", "title": cid, "properties": properties, "additionalProperties": False,
    }


def _find_brief(session: Session, cid: str) -> store.LayerBrief:
    platform_slug, _, layer_slug = cid.partition(".")
    found = store.public_layer_brief(session, platform_slug, layer_slug) if layer_slug else None
    if found is None:
        find_collection(session, cid)  # raises the 404 that lists the collections
    return found


@dataclass(frozen=True)
class ItemsResponse:
    """An items or item response: the GeoJSON text, the CRS it is in, and its links (for HTML too)."""

    body: str
    crs: str
    links: list[dict[str, str]]
    collection_id: str
    title: str


def items(session: Session, base: str, cid: str, args: Mapping[str, str], *, default_limit: int, max_limit: int,
          as_html: bool = False) -> ItemsResponse:
    """Return a page of a collection's features as a GeoJSON FeatureCollection, with paging links."""
    layer = _find_brief(session, cid)
    query = parse_items_query(args, layer.property_schema, default_limit=default_limit, max_limit=max_limit)
    page = store.render_page(session, layer, query)
    path = f"/collections/{quote(cid)}/items"
    kept = {k: v for k, v in args.items() if k not in PAGING_PARAMETERS and k != "f"}
    # The filters are encoded once; each link adds its page and format.
    prefix = base + path + "?" + (urlencode(kept) + "&" if kept else "") + f"limit={query.limit}"
    here = prefix + "".join(f"&{name}={getattr(query, name)}" for name in ("offset", "after", "before")
                            if getattr(query, name))
    own, other = ("html", "json") if as_html else ("json", "html")
    media = HTML if as_html else GEOJSON
    links = [
        _link(f"{here}&f={own}", "self", media, "This page"),
        _link(f"{here}&f={other}", "alternate", GEOJSON if as_html else HTML, "This page"),
        _link(_url(base, f"/collections/{quote(cid)}", {"f": "json"}), "collection", JSON, "The collection"),
    ]
    if page.has_next and page.last_id is not None:
        links.append(_link(f"{prefix}&after={page.last_id}&f={own}", "next", media, "Next page"))
    if page.has_prev and page.first_id is not None:
        links.append(_link(f"{prefix}&before={page.first_id}&f={own}", "prev", media, "Previous page"))
    if query.offset and page.returned == 0 and page.matched:  # an offset past the end: offer a way back
        back = max(0, min(query.offset, page.matched) - query.limit)
        links.append(_link(f"{prefix}&offset={back}&f={own}", "prev", media, "Previous page"))
    head = {"type": "FeatureCollection", "numberMatched": page.matched, "numberReturned": page.returned,
            "timeStamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    if layer.attribution:
        head["attribution"] = layer.attribution
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    body = text[:-1] + ',"features":[' + page.features_text + "]}"
    return ItemsResponse(body, query.crs, links, cid, f"{layer.title_nl} – {layer.platform_name_nl}")


def item(session: Session, base: str, cid: str, raw_id: str, args: Mapping[str, str], *,
         as_html: bool = False) -> ItemsResponse:
    """Return one feature of a collection, or raise a 404."""
    layer = _find_brief(session, cid)
    reject_unknown(args, ("f", "crs"))
    crs = CRS84
    if "crs" in args:
        try:
            crs = canonical_crs(args["crs"])
        except ValueError as exc:
            raise InvalidParameter(f"crs: {exc}") from None
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:  # "²" is a digit int() refuses
        raise OGCNotFound(f"Collection {cid!r} has no feature {raw_id[:40]!r}: feature ids are whole numbers.")
    page = store.render_page(session, layer, store.ItemsQuery(limit=1, crs=crs, feature_id=int(raw_id)))
    if page.returned == 0:
        raise OGCNotFound(f"Collection {cid!r} has no feature {raw_id}.")
    path = f"/collections/{quote(cid)}/items/{raw_id}"
    kept = {"crs": args["crs"]} if "crs" in args else {}
    own, other = ("html", "json") if as_html else ("json", "html")
    links = [
        _link(_url(base, path, {**kept, "f": own}), "self", HTML if as_html else GEOJSON, "This feature"),
        _link(_url(base, path, {**kept, "f": other}), "alternate", GEOJSON if as_html else HTML, "This feature"),
        _link(_url(base, f"/collections/{quote(cid)}", {"f": "json"}), "collection", JSON, "The collection"),
    ]
    body = page.features_text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False, separators=(",", ":")) + "}"
    return ItemsResponse(body, crs, links, cid, f"{layer.title_nl} – {layer.platform_name_nl}")
