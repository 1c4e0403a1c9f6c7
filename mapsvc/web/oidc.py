"""OpenID Connect login: the provider's redirect, the callback, linking and logout."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oidc", __name__)
