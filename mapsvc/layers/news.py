"""A layer's news items and timeline of phases: reading officials' input and finding the current phase (pure).

Input is the JSON the API receives; every broken rule becomes a `Problem` (like a feature's), so a form or
script can show all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from mapsvc.layers.rules import Problem

LANGUAGES = ("nl", "fr", "en")
PHASES = ("inform", "consult", "decide", "realise")
TITLE_MAX = 200
BODY_MAX = 20_000
NOTE_MAX = 2_000
URL_MAX = 2_000
NEWS_FIELDS = ("title", "body", "link_url", "published_on")
PHASE_FIELDS = ("phase", "starts_on", "ends_on", "note")

DONE, CURRENT, UPCOMING = "done", "current", "upcoming"


class InputInvalid(ValueError):
    """News or a timeline that breaks one or more rules."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__(" ".join(p.message for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class NewsInput:
    """A checked news item: texts per language (Dutch required), an optional link, the day it appears."""

    title: dict[str, str | None]
    body: dict[str, str | None]
    link_url: str | None
    published_on: date


@dataclass(frozen=True)
class PhaseInput:
    """A checked phase of a timeline."""

    phase: str
    starts_on: date | None
    ends_on: date | None
    note: dict[str, str | None] = field(default_factory=dict)


def _unknown(body: Mapping, allowed: tuple[str, ...], prefix: str, problems: list[Problem]) -> None:
    for name in sorted(set(body) - set(allowed), key=str):
        problems.append(Problem(f"{prefix}{name}"[:80], "unknown_field",
                                f"{str(name)[:40]!r} is not a field here; fields: {', '.join(allowed)}."))


def _texts(value: Any, name: str, limit: int, problems: list[Problem], *, required: bool) -> dict[str, str | None]:
    """Read {"nl": ..., "fr": ..., "en": ...}; plain text counts as Dutch."""
    if value is None:
        value = {}
    elif isinstance(value, str):
        value = {"nl": value}
    if not isinstance(value, Mapping):
        problems.append(Problem(name, "type", f"{name} is an object of texts per language, e.g. "
                                              '{"nl": "…", "fr": "…", "en": "…"}.'))
        return {}
    found: dict[str, str | None] = {}
    for language in sorted(set(value) - set(LANGUAGES), key=str):
        problems.append(Problem(f"{name}.{str(language)[:8]}", "unknown_language",
                                f"Languages are {', '.join(LANGUAGES)}; {str(language)[:8]!r} is not one."))
    for language in LANGUAGES:
        text = value.get(language)
        if text is not None and not isinstance(text, str):
            problems.append(Problem(f"{name}.{language}", "type", f"{name}.{language} must be text."))
            continue
        text = (text or "").strip() or None
        if text is not None and len(text) > limit:
            problems.append(Problem(f"{name}.{language}", "too_long",
                                    f"{name}.{language} is {len(text)} characters; at most {limit}."))
        found[language] = text
    if required and not found.get("nl"):
        problems.append(Problem(f"{name}.nl", "required", f"{name}.nl (the Dutch text) is required."))
    return found


def _day(value: Any, name: str, problems: list[Problem]) -> date | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    problems.append(Problem(name, "format", f"{name} is a date written as YYYY-MM-DD, e.g. 2026-09-01."))
    return None


def link_url(value: Any, problems: list[Problem], name: str = "link_url") -> str | None:
    """Check an optional link (a web page or a report online): absolute http(s), at most 2,000 characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        problems.append(Problem(name, "type", f"{name} is text (an address starting with https://) or null."))
        return None
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        problems.append(Problem(name, "format", f"{name} must be a web address starting with https:// (or http://); "
                                               "upload a report elsewhere and link to it."))
        return None
    if len(url) > URL_MAX:
        problems.append(Problem(name, "too_long", f"{name} is {len(url)} characters; at most {URL_MAX}."))
        return None
    return url


def parse_news(body: Any, *, today: date) -> NewsInput:
    """Check a news item sent by an official (published_on defaults to today) or raise InputInvalid."""
    if not isinstance(body, Mapping):
        raise InputInvalid([Problem(None, "type", 'Send a JSON object: {"title": {"nl": "…"}, "body": {"nl": "…"}, '
                                                  '"link_url": null, "published_on": "2026-09-01"}.')])
    problems: list[Problem] = []
    _unknown(body, NEWS_FIELDS, "", problems)
    title = _texts(body.get("title"), "title", TITLE_MAX, problems, required=True)
    text = _texts(body.get("body"), "body", BODY_MAX, problems, required=False)
    link = link_url(body.get("link_url"), problems)
    published = _day(body.get("published_on"), "published_on", problems) if "published_on" in body else today
    if problems:
        raise InputInvalid(problems)
    return NewsInput(title, text, link, published or today)


def parse_timeline(body: Any) -> list[PhaseInput]:
    """Check a whole timeline (the phases in sequence, dates in order) or raise InputInvalid."""
    if isinstance(body, Mapping):
        problems: list[Problem] = []
        _unknown(body, ("phases",), "", problems)
        if problems:
            raise InputInvalid(problems)
        body = body.get("phases")
    if not isinstance(body, list):
        raise InputInvalid([Problem("phases", "type", 'Send {"phases": [{"phase": "inform", "starts_on": '
                                                      '"2026-09-01", "ends_on": "2026-09-30"}, …]} ([] clears it).')])
    problems = []
    phases: list[PhaseInput] = []
    seen: set[str] = set()
    for i, item in enumerate(body):
        where = f"phases[{i}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(where, "type", f"{where} is an object with phase, starts_on, ends_on, note."))
            continue
        _unknown(item, PHASE_FIELDS, f"{where}.", problems)
        name = item.get("phase")
        if name not in PHASES:
            problems.append(Problem(f"{where}.phase", "choice",
                                    f"{where}.phase must be one of {', '.join(PHASES)}; got {str(name)[:40]!r}."))
            continue
        if name in seen:
            problems.append(Problem(f"{where}.phase", "duplicate", f"Phase {name!r} appears twice; list it once."))
            continue
        if phases and PHASES.index(name) < PHASES.index(phases[-1].phase):
            problems.append(Problem(f"{where}.phase", "sequence",
                                    f"Phase {name!r} comes after {phases[-1].phase!r}; list the phases in the order "
                                    f"{' → '.join(PHASES)}."))
        seen.add(name)
        starts = _day(item.get("starts_on"), f"{where}.starts_on", problems)
        ends = _day(item.get("ends_on"), f"{where}.ends_on", problems)
        if starts and ends and ends < starts:
            problems.append(Problem(f"{where}.ends_on", "ends_before_start",
                                    f"Phase {name!r} ends ({ends}) before it starts ({starts})."))
        note = _texts(item.get("note"), f"{where}.note", NOTE_MAX, problems, required=False)
        phases.append(PhaseInput(name, starts, ends, note))
    problems.extend(_order_problems(phases))
    if problems:
        raise InputInvalid(problems)
    return phases


def _order_problems(phases: list[PhaseInput]) -> list[Problem]:
    """A phase may not start before an earlier phase's last known date (they follow each other)."""
    found = []
    latest: tuple[date, str] | None = None
    for i, phase in enumerate(phases):
        first = phase.starts_on or phase.ends_on
        if latest and first and first < latest[0]:
            found.append(Problem(f"phases[{i}].starts_on", "out_of_order",
                                 f"Phase {phase.phase!r} starts ({first}) before phase {latest[1]!r} is over "
                                 f"({latest[0]}); phases follow each other."))
        last = phase.ends_on or phase.starts_on
        if last and (latest is None or last > latest[0]):
            latest = (last, phase.phase)
    return found


def phase_states(phases: Sequence[tuple[str, date | None, date | None]], today: date) -> dict[str, str]:
    """Say of each phase whether it is done, current or upcoming on `today`.

    The current phase is the last one that has started; it stays current in a gap before the next one
    starts (the municipality is still working on it). When the last phase has ended, none is current.
    """
    ordered = sorted(phases, key=lambda p: PHASES.index(p[0]))
    started = [i for i, (_, starts, _ends) in enumerate(ordered) if starts is not None and starts <= today]
    current = started[-1] if started else None
    if current is not None and current == len(ordered) - 1:
        ends = ordered[current][2]
        if ends is not None and ends < today:
            current = None
            started.append(len(ordered))  # everything is done
    states = {}
    for i, (name, _starts, _ends) in enumerate(ordered):
        if current is not None and i == current:
            states[name] = CURRENT
        elif started and i < max(started):
            states[name] = DONE
        else:
            states[name] = UPCOMING
    return states
