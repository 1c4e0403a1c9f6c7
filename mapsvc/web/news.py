"""News items and the timeline of a participation moment."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("news", __name__)
