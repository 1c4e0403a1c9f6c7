"""Keyboard and screen-reader access: the list view of a layer's suggestions and finding a place by address."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("access", __name__)
