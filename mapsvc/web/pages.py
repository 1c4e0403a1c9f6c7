"""HTML pages: the service's front page."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from mapsvc.storage import catalogue as store

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def index():
    session = g.db_session
    platforms = store.list_platforms(session)
    counts = store.feature_counts(session, [layer.id for p in platforms for layer in p.layers])
    return render_template("index.html", platforms=platforms, counts=counts)
