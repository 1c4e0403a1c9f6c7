"""The words of mapsvc's pages and their scripts, by message id, in Dutch (the default), French and English.

`MESSAGES[language][id]` holds, merged in at import, each area's texts (mapsvc/web/messages/<area>.py, the map
pages' in `map.py`; an id defined twice raises). Templates call `text("id", **values)`, which
answers in the request's language (mapsvc.web.language installs the resolver, so this module needs no Flask),
or `text("id", language, **values)`; the scripts get `messages(language)` as JSON and fill in {placeholders}
themselves. Ids are "error.<code>" for the API's error and problem codes: the API speaks English with a stable
code, the pages translate the code. tests/unit/test_messages.py checks that French and English hold every Dutch
id with the same placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_LANGUAGE = "nl"

MESSAGES: dict[str, dict[str, str]] = {"nl": {}, "fr": {}, "en": {}}


def _merge_areas() -> None:
    """Add each area's messages (mapsvc/web/messages/<area>.py) to MESSAGES; an id may be defined once."""
    from importlib import import_module

    from mapsvc.web.messages import AREAS

    for area in AREAS:
        for language, found in import_module(f"mapsvc.web.messages.{area}").MESSAGES.items():
            target = MESSAGES.setdefault(language, {})
            clash = set(found) & set(target)
            if clash:
                raise RuntimeError(f"message ids defined twice ({area}): {sorted(clash)}")
            target.update(found)


_merge_areas()

# Which language text() and messages() use when none is given: Dutch, until mapsvc.web.language installs
# the request's language (kept as an injected function so that this module imports no Flask).
_resolve_language: Callable[[], str] = lambda: DEFAULT_LANGUAGE


def use_language_resolver(resolver: Callable[[], str]) -> None:
    """Make text() and messages() without a language answer in the language `resolver` returns."""
    global _resolve_language
    _resolve_language = resolver


def messages(language: str | None = None) -> dict[str, str]:
    """Return every message of a language (default: the request's); an id it lacks falls back to Dutch."""
    language = language or _resolve_language()
    if language == DEFAULT_LANGUAGE or language not in MESSAGES:
        return MESSAGES[DEFAULT_LANGUAGE]
    return {**MESSAGES[DEFAULT_LANGUAGE], **MESSAGES[language]}


def text(message_id: str, language: str | None = None, **values: Any) -> str:
    """Return one message with its {placeholders} filled in, in `language` or the request's language."""
    language = language or _resolve_language()
    template = MESSAGES.get(language, {}).get(message_id) or MESSAGES[DEFAULT_LANGUAGE].get(message_id)
    if template is None:
        raise KeyError(f"no message {message_id!r}")
    return template.format(**values) if values else template
