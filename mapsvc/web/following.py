"""Following platforms, themes, layers and pins; e-mail preferences; unsubscribe links; officials' updates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("following", __name__)
