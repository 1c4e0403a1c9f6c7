"""The OpenAPI 3.0 definition of the OGC API - Features service, with each collection's filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mapsvc.services.ogc import GEOJSON, HTML, JSON, OPENAPI, SCHEMA, collection_id
from mapsvc.services.ogc_query import queryables
from mapsvc.spatial.ogc_crs import CRS84, SERVED
from mapsvc.storage import ogc as store

_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema,
            "style": "form", "explode": False}


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _parameters(default_limit: int, max_limit: int) -> dict[str, Any]:
    crs_uris = {"type": "string", "format": "uri", "enum": list(SERVED)}
    return {
        "f": _param("f", "The encoding: json (GeoJSON for features) or html.",
                    {"type": "string", "enum": ["json", "html"]}),
        "bbox": _param("bbox", "Only features that intersect this box: minx,miny,maxx,maxy (in bbox-crs).",
                       {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        "bbox-crs": _param("bbox-crs", "The CRS of bbox (default CRS84, lon/lat).", {**crs_uris, "default": CRS84}),
        "crs": _param("crs", "The CRS of the returned coordinates; the response names it in Content-Crs.",
                      {**crs_uris, "default": CRS84}),
        "datetime": _param("datetime", "Only features created at this instant, on this day or in this interval "
                                       "(RFC 3339; '..' for an open end), e.g. 2026-09-01T00:00:00Z/..",
                           {"type": "string"}),
        "limit": _param("limit", f"Features per page; a larger value is lowered to {max_limit}.",
                        {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit}),
        "offset": _param("offset", "Skip this many features (prefer the next/prev links).",
                         {"type": "integer", "minimum": 0, "default": 0}),
        "after": _param("after", "Cursor of a next link: features with a higher id.", {"type": "integer"}),
        "before": _param("before", "Cursor of a prev link: features with a lower id.", {"type": "integer"}),
        "collectionId": _path("collectionId", "A collection id, '{platform}.{layer}'.", {"type": "string"}),
        "featureId": _path("featureId", "A feature id.", {"type": "integer"}),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _ok(description: str, *media: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {m: {} for m in media}},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "404": {"$ref": "#/components/responses/NotFound"}}


ITEM_PARAMETERS = ["f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "after", "before"]


def openapi_document(session: Session, base: str, *, default_limit: int, max_limit: int) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of the service at `base`."""
    items_params = [_ref(p) for p in ITEM_PARAMETERS]
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "parameters": [_ref("f")],
                      "responses": _ok("The landing page", JSON, HTML)}},
        "/api": {"get": {"summary": "This API definition", "operationId": "getAPI",
                         "responses": _ok("The OpenAPI document", OPENAPI)}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "parameters": [_ref("f")], "responses": _ok("Conformance", JSON, HTML)}},
        "/collections": {"get": {"summary": "The collections: one per public layer", "operationId": "getCollections",
                                 "parameters": [_ref("f")], "responses": _ok("Collections", JSON, HTML)}},
        "/collections/{collectionId}": {"get": {
            "summary": "One collection", "operationId": "describeCollection",
            "parameters": [_ref("collectionId"), _ref("f")], "responses": _ok("A collection", JSON, HTML)}},
        "/collections/{collectionId}/items": {"get": {
            "summary": "Features of a collection (each collection's own path lists its property filters)",
            "operationId": "getFeatures", "parameters": [_ref("collectionId"), *items_params],
            "responses": _ok("A GeoJSON FeatureCollection", GEOJSON, HTML)}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature", "operationId": "getFeature",
            "parameters": [_ref("collectionId"), _ref("featureId"), _ref("f"), _ref("crs")],
            "responses": _ok("A GeoJSON Feature", GEOJSON, HTML)}},
        "/collections/{collectionId}/queryables": {"get": {
            "summary": "Properties to filter on", "operationId": "getQueryables",
            "parameters": [_ref("collectionId"), _ref("f")], "responses": _ok("A JSON Schema", SCHEMA)}},
    }
    for platform, layer in store.public_layers(session):
        cid = collection_id(platform, layer)
        filters = [_param(name, f"Only features whose {name} equals this value.",
                          {"type": _TYPES.get(kind, "string")})
                   for name, kind in queryables(layer.property_schema).items()]
        paths[f"/collections/{cid}/items"] = {"get": {
            "summary": f"{layer.title_nl} – {platform.name_nl}", "operationId": f"getFeatures.{cid}",
            "parameters": [*items_params, *filters],
            "responses": _ok("A GeoJSON FeatureCollection", GEOJSON, HTML)}}
    exception = {"type": "object", "required": ["code"],
                 "properties": {"code": {"type": "string"}, "description": {"type": "string"},
                                "status": {"type": "integer"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "mapsvc OGC API - Features", "version": "1.0.0",
                 "description": "Public participation map layers of Belgian platforms. Personal data is never "
                                "served: authors appear only by the display name they chose, votes as counts.",
                 "license": {"name": "Data: see each collection's attribution; code: EUPL-1.2"}},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "parameters": _parameters(default_limit, max_limit),
            "schemas": {"exception": exception},
            "responses": {
                "BadRequest": {"description": "A parameter is wrong; the description says which and why.",
                               "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
                "NotFound": {"description": "No such collection or feature.",
                             "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
            },
        },
    }
