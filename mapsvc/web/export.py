"""Downloads: a layer as GeoJSON, GeoPackage, CSV or zipped Shapefile.

GET /api/platforms/{platform}/layers/{layer}/export.{geojson|gpkg|csv|shp.zip}
    ?crs=EPSG:31370&bbox=...&status=a,b&theme=a,b&from=2026-09-01&to=2026-09-30&include_moderation=false

Session lifetime: the app closes `g.db_session` in teardown_request, which runs as soon as the view
returns the response, before the first byte is sent. So the file is produced by a generator that opens
its own session and closes it when the download ends or the client goes away (generator close).
The generator needs nothing from the request context (everything is checked and copied into a
PreparedExport first), so it is not wrapped in stream_with_context: that would push the request context
again and run teardown_request a second time at the end of the stream.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, request

from mapsvc.errors import BadRequest
from mapsvc.services import export
from mapsvc.services.permissions import Actor
from mapsvc.web import params

log = logging.getLogger(__name__)

bp = Blueprint("export", __name__, url_prefix="/api")

PARAMETERS = ("crs", "bbox", "status", "theme", "from", "to", "include_moderation")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


def _actor() -> Actor:
    """Return who is asking."""
    from mapsvc.web.auth import current_actor

    return current_actor()


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise BadRequest(f"{name} must be true or false, got {raw[:20]!r}.", code="invalid_parameter")
    return raw in _TRUE


@bp.get("/platforms/<platform>/layers/<layer>/export.<fmt>")
def layer_export(platform: str, layer: str, fmt: str):
    args = request.args
    params.reject_unknown(args, PARAMETERS)
    options = export.parse_options(fmt, crs=args.get("crs"), bbox=args.get("bbox"), status=args.get("status"),
                                   theme=args.get("theme"), date_from=args.get("from"), date_to=args.get("to"),
                                   include_moderation=_flag("include_moderation"))
    prepared = export.prepare_export(g.db_session, _actor(), platform, layer, options)
    database = current_app.extensions["mapsvc.db"]

    def generate():
        with database.sessions() as session:
            try:
                yield from export.stream_export(session, prepared)
            except Exception:  # headers are sent: the client sees a cut-off file; say why in the log
                log.exception("export of %s/%s as %s failed while streaming", prepared.platform, prepared.layer,
                              prepared.options.format.key)
                raise

    response = current_app.response_class(generate(), content_type=prepared.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not prepared.is_public or options.include_moderation:
        response.headers["Cache-Control"] = "private, no-store"
    return response
