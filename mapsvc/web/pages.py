"""HTML pages: the service's front page."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from mapsvc.services.catalogue import may_see
from mapsvc.storage import catalogue as store
from mapsvc.web.auth import current_actor

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def index():
    session = g.db_session
    platforms = store.list_platforms(session)
    actor = current_actor()
    visible = {p.id: [layer for layer in p.layers if may_see(actor, p, layer)] for p in platforms}
    counts = store.feature_counts(session, [layer.id for layers in visible.values() for layer in layers])
    return render_template("index.html", platforms=platforms, visible=visible, counts=counts)
