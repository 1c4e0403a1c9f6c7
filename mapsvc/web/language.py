"""Which language a request is answered in: Dutch by default, French or English when the person chose it.

Order: an explicit `?lang=` on the request, the `mapsvc_lang` cookie (the remembered choice), Dutch.
The browser's Accept-Language is deliberately not used: Flemish municipalities speak Dutch first (language
legislation), and another language is the person's own choice, not their browser's. Views and templates call `current_language()`; `ui_text.text(id, language)` and the
per-language columns (`title_nl`, `title_fr`, `title_en`, …) do the rest.
"""

from __future__ import annotations

from flask import g, has_request_context, request

from mapsvc.web.ui_text import DEFAULT_LANGUAGE

LANGUAGES = ("nl", "fr", "en")
COOKIE = "mapsvc_lang"


def chosen(value: str | None) -> str | None:
    """Return a supported language code for a user-supplied value, or None."""
    if not value:
        return None
    code = value.strip().lower()[:2]
    return code if code in LANGUAGES else None


def current_language() -> str:
    """The language of the current request (Dutch outside a request)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    cached = g.get("mapsvc_language")
    if cached:
        return cached
    language = chosen(request.args.get("lang")) or chosen(request.cookies.get(COOKIE)) or DEFAULT_LANGUAGE
    g.mapsvc_language = language
    return language


def localised(obj: object, attribute: str, language: str | None = None) -> str | None:
    """Read `attribute_<language>` of an object, falling back to Dutch (e.g. localised(layer, "title"))."""
    language = language or current_language()
    return getattr(obj, f"{attribute}_{language}", None) or getattr(obj, f"{attribute}_{DEFAULT_LANGUAGE}", None)
