"""A person's own account: language, their data as JSON, deleting the account."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__)
