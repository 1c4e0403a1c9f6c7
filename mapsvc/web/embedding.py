"""Who may frame an embed page, and the snippet officials paste into their website (no Flask here)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup

# An origin as browsers send it: scheme, host, optional port; nothing that could break out of the header.
_ORIGIN = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$", re.IGNORECASE)


def valid_origins(origins: Iterable[str] | None) -> list[str]:
    """Keep the well-formed origins (scheme://host[:port], no path), lower-cased, without duplicates."""
    kept: list[str] = []
    for origin in origins or ():
        if isinstance(origin, str):
            candidate = origin.strip().rstrip("/").lower()
            if _ORIGIN.match(candidate) and candidate not in kept:
                kept.append(candidate)
    return kept


def frame_ancestors(origins: Iterable[str] | None) -> str:
    """Return the Content-Security-Policy that lets the platform itself and its embed origins frame a page."""
    return " ".join(["frame-ancestors 'self'", *valid_origins(origins)])


def embed_snippet(src: str, title: str, height: int = 600) -> str:
    """Return the <iframe> code for a municipal website (values escaped for HTML attributes)."""
    return str(Markup('<iframe src="{}" title="{}" width="100%" height="{}" style="border:0" loading="lazy" '
                      'referrerpolicy="strict-origin-when-cross-origin"></iframe>').format(src, title, int(height)))
