"""OGC API - Features at /ogc: adapts requests to mapsvc.services.ogc and picks JSON or HTML."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from mapsvc.services import ogc
from mapsvc.services.ogc_openapi import openapi_document
from mapsvc.services.ogc_query import InvalidParameter, OGCError, OGCNotFound, OGCServerError, reject_unknown

log = logging.getLogger(__name__)

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")


@bp.app_template_filter("ogc_value")
def _ogc_value(value) -> str:
    """Show a property in the HTML pages: yes/no in Dutch, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return str(value)


def _base() -> str:
    return url_for("ogc.landing", _external=True).rstrip("/")


def _as_html() -> bool:
    """Choose the encoding: f=json|html wins, else the Accept header (browsers get HTML, clients JSON)."""
    wanted = request.args.get("f")
    if wanted is not None:
        if wanted.lower() in ("json", "geojson"):
            return False
        if wanted.lower() == "html":
            return True
        raise InvalidParameter(f"f must be json or html, got {wanted[:40]!r}.")
    best = request.accept_mimetypes.best_match(["application/json", "application/geo+json", "text/html"])
    return best == "text/html"


def _json(body, media: str = ogc.JSON, status: int = 200, headers=None):
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(text, status=status, mimetype=None, content_type=media, headers=headers)


def _settings() -> tuple[int, int]:
    settings = current_app.config["MAPSVC"]
    return settings["DEFAULT_PAGE_SIZE"], settings["MAX_PAGE_SIZE"]


@bp.get("/", strict_slashes=False)
def landing():
    reject_unknown(request.args, ("f",))
    html = _as_html()
    body = ogc.landing_page(_base(), as_html=html)
    return render_template("ogc/landing.html", doc=body) if html else _json(body)


@bp.get("/conformance")
def conformance():
    reject_unknown(request.args, ("f",))
    body = ogc.conformance()
    return render_template("ogc/conformance.html", doc=body) if _as_html() else _json(body)


@bp.get("/api")
def api():
    reject_unknown(request.args, ("f",))
    default_limit, max_limit = _settings()
    body = openapi_document(g.db_session, _base(), default_limit=default_limit, max_limit=max_limit)
    return _json(body, ogc.OPENAPI)


@bp.get("/collections")
def collections():
    reject_unknown(request.args, ("f",))
    html = _as_html()
    body = ogc.collections(g.db_session, _base(), as_html=html)
    return render_template("ogc/collections.html", doc=body) if html else _json(body)


@bp.get("/collections/<cid>")
def collection(cid: str):
    reject_unknown(request.args, ("f",))
    html = _as_html()
    body = ogc.collection(g.db_session, _base(), cid, as_html=html)
    return render_template("ogc/collection.html", doc=body) if html else _json(body)


@bp.get("/collections/<cid>/queryables")
def queryables(cid: str):
    reject_unknown(request.args, ("f",))
    _as_html()  # an unknown f is still refused; the schema is JSON in both cases
    return _json(ogc.queryables_schema(g.db_session, _base(), cid), ogc.SCHEMA)


@bp.get("/collections/<cid>/items")
def items(cid: str):
    html = _as_html()
    default_limit, max_limit = _settings()
    page = ogc.items(g.db_session, _base(), cid, request.args, default_limit=default_limit, max_limit=max_limit,
                     as_html=html)
    headers = {"Content-Crs": f"<{page.crs}>"}
    if html:
        doc = json.loads(page.body)
        return render_template("ogc/items.html", doc=doc, page=page), 200, headers
    return _json(page.body, ogc.GEOJSON, headers=headers)


@bp.get("/collections/<cid>/items/<feature_id>")
def item(cid: str, feature_id: str):
    html = _as_html()
    found = ogc.item(g.db_session, _base(), cid, feature_id, request.args, as_html=html)
    headers = {"Content-Crs": f"<{found.crs}>"}
    if html:
        return render_template("ogc/item.html", feature=(feature := json.loads(found.body)), doc=feature,
                               page=found), 200, headers
    return _json(found.body, ogc.GEOJSON, headers=headers)


@bp.get("/<path:rest>")
def unknown(rest: str):
    raise OGCNotFound(f"No such path: /ogc/{rest[:200]}. Start at the landing page /ogc.")


def _wants_html_error() -> bool:
    wanted = (request.args.get("f") or "").lower()
    if wanted in ("json", "geojson", "html"):
        return wanted == "html"
    return request.accept_mimetypes.best_match(["application/json", "application/geo+json", "text/html"]) == "text/html"


@bp.errorhandler(OGCError)
def _ogc_error(exc: OGCError):
    if exc.status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    if _wants_html_error():
        return render_template("error.html", status=exc.status, message=exc.message), exc.status
    return _json(exc.to_ogc_json(), status=exc.status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    error = OGCError(exc.description or exc.name, code=(exc.name or "Error").replace(" ", ""))
    error.status = exc.code or 500
    return _ogc_error(error)


@bp.errorhandler(Exception)
def _unexpected(_exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    return _ogc_error(OGCServerError("Something went wrong on our side; it has been logged. Please try again later."))
