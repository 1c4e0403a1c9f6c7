"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from mapsvc.config import load_settings
from mapsvc.errors import MapsvcError
from mapsvc.storage.session import Database

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; `config` overrides defaults and MAPSVC_* environment variables."""
    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(config, app.instance_path)
    app.config["MAPSVC"] = settings
    app.json.ensure_ascii = False  # Dutch and French names stay readable
    app.json.sort_keys = False

    database = Database.connect(settings["DATABASE_URL"])
    if settings["AUTO_MIGRATE"]:
        database.upgrade()
    app.extensions["mapsvc.db"] = database

    @app.before_request
    def _open_session():
        g.db_session = database.sessions()

    @app.teardown_request
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    _register_errors(app)

    from mapsvc.web import access, account, api, contributions, following, maps, moderation, news, ogc, oidc, pages, ranking
    from mapsvc.web import export as export_views
    from mapsvc.web.auth import init_auth
    from mapsvc.web.language import init_language

    init_auth(app)
    init_language(app)                         # ?lang=, the remembered choice, text() in templates, /language

    app.register_blueprint(api.bp)             # the JSON API of platforms, layers and features
    app.register_blueprint(contributions.bp)   # pins, votes, settings
    app.register_blueprint(export_views.bp)    # file exports
    app.register_blueprint(ogc.bp)             # OGC API - Features at /ogc
    app.register_blueprint(maps.bp)            # map pages, embeds, pins per view
    app.register_blueprint(ranking.bp)         # rankings, rollout, dashboards
    app.register_blueprint(oidc.bp)            # OpenID Connect logins
    app.register_blueprint(moderation.bp)      # moderation and flags
    app.register_blueprint(account.bp)         # one's own account and data
    app.register_blueprint(following.bp)       # follows, e-mail preferences, officials' updates
    app.register_blueprint(news.bp)            # news and timelines of layers
    app.register_blueprint(access.bp)          # list view, place search
    app.register_blueprint(pages.bp)
    return app


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _register_errors(app: Flask) -> None:
    @app.errorhandler(MapsvcError)
    def _mapsvc_error(exc: MapsvcError):
        if exc.status >= 500:
            log.error("%s: %s", exc.code, exc.message)
        if _wants_json():
            return jsonify(exc.to_json()), exc.status
        return _error_page(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 404:
            message = f"No such path: {request.path[:200]}. The API starts at /api/platforms."
        if _wants_json():
            return jsonify({"error": {"code": code, "message": message}}), exc.code
        return _error_page(exc.code, "not_found" if exc.code == 404 else code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        message = "Something went wrong on our side; it has been logged. Please try again later."
        if _wants_json():
            return jsonify({"error": {"code": "internal_error", "message": message}}), 500
        return _error_page(500, "internal_error", message)


def _error_page(status: int, code: str, message: str):
    """An error page in the request's language; the API's English message stays as the detail."""
    from mapsvc.web.language import error_text

    shown = error_text(code, message)
    return render_template("error.html", status=status, message=shown,
                           detail=message if shown != message and status not in (404, 500) else None), status
