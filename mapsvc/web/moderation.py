"""Moderation by officials and moderators; flags by residents."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("moderation", __name__)
