"""News and the timeline of a layer: officials and the layer's manager write them, everyone who sees the layer reads.

A news item dated after today (the Belgian day, passed in by the caller) is scheduled: only the people who
manage the layer's news see it until that day.

Texts are Markdown; what is shown is rendered and sanitised by mapsvc.layers.richtext. A "file" such as a
working group report is a link (link_url, http(s) only): mapsvc stores no uploads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from mapsvc.errors import Forbidden, NotFound, ValidationFailed
from mapsvc.layers.news import LANGUAGES, InputInvalid, NewsInput, parse_news, parse_timeline, phase_states
from mapsvc.layers.richtext import render_markdown
from mapsvc.services.catalogue import get_visible_layer
from mapsvc.services.permissions import INITIATIVE_MANAGER, Actor, is_official
from mapsvc.storage import news as store
from mapsvc.storage.models import Layer, NewsItem, Platform, TimelinePhase

DEMO_PREFIX = "Demo – "
PANEL_NEWS = 5


def can_manage_news(actor: Actor, platform_id: int, layer_id: int) -> bool:
    """Officials and admins of the platform, and the layer's initiative manager, write its news and timeline."""
    return is_official(actor, platform_id) or actor.has(INITIATIVE_MANAGER, platform_id, layer_id)


def _invalid(exc: InputInvalid) -> ValidationFailed:
    return ValidationFailed(str(exc)[:500], details={"problems": [p.to_json() for p in exc.problems]})


def _managed_layer(session: Session, actor: Actor, platform_slug: str, layer_slug: str) -> tuple[Platform, Layer]:
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    if not can_manage_news(actor, platform.id, layer.id):
        raise Forbidden("Only officials of this platform or the manager of this layer may change its news and "
                        "timeline.", code="not_allowed")
    return platform, layer


def _texts(obj: Any, attribute: str) -> dict[str, str | None]:
    return {language: getattr(obj, f"{attribute}_{language}") for language in LANGUAGES}


def _in(obj: Any, attribute: str, language: str) -> str | None:
    """The text in `language`, else in Dutch (every item has at least its Dutch title)."""
    return getattr(obj, f"{attribute}_{language}", None) or getattr(obj, f"{attribute}_nl", None)


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def news_json(item: NewsItem, *, today: date) -> dict[str, Any]:
    """Render a news item for the API: texts per language (Markdown and sanitised HTML), whether it is still
    scheduled (dated after `today`); never its author."""
    body = _texts(item, "body")
    return {"id": item.id, "title": _texts(item, "title"), "body": body,
            "body_html": {language: render_markdown(text) or None for language, text in body.items()},
            "link_url": item.link_url, "published_on": item.published_on.isoformat(),
            "scheduled": item.published_on > today,
            "demo": item.title_nl.startswith(DEMO_PREFIX), "created_at": _stamp(item.created_at)}


def phase_json(phase: TimelinePhase, state: str) -> dict[str, Any]:
    """Render a timeline phase for the API, with its state (done, current, upcoming) on the given day."""
    note = _texts(phase, "note")
    return {"phase": phase.phase, "starts_on": phase.starts_on and phase.starts_on.isoformat(),
            "ends_on": phase.ends_on and phase.ends_on.isoformat(), "note": note,
            "note_html": {language: render_markdown(text) or None for language, text in note.items()},
            "state": state}


def _news_values(checked: NewsInput) -> dict[str, Any]:
    values: dict[str, Any] = {"link_url": checked.link_url, "published_on": checked.published_on}
    for language in LANGUAGES:
        values[f"title_{language}"] = checked.title.get(language)
        values[f"body_{language}"] = checked.body.get(language)
    return values


def _until(actor: Actor, platform: Platform, layer: Layer, today: date) -> date | None:
    """The last publication day the actor sees: None (scheduled items too) for those who manage the news."""
    return None if can_manage_news(actor, platform.id, layer.id) else today


def list_news(session: Session, actor: Actor, platform_slug: str, layer_slug: str, *,
              today: date) -> list[NewsItem]:
    """Return the news of a layer the actor may see, newest first: published by `today`, or also the scheduled
    items for those who manage the layer's news."""
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    return store.list_news(session, layer.id, until=_until(actor, platform, layer, today))


def create_news(session: Session, actor: Actor, platform_slug: str, layer_slug: str, body: Any, *,
                today: date, now: datetime) -> NewsItem:
    """Add a news item to a layer (officials, the layer's manager)."""
    _platform, layer = _managed_layer(session, actor, platform_slug, layer_slug)
    try:
        checked = parse_news(body, today=today)
    except InputInvalid as exc:
        raise _invalid(exc) from None
    return store.add_news(session, layer.id, {**_news_values(checked), "author_id": actor.user_id, "created_at": now})


def _item(session: Session, layer: Layer, news_id: int, *, until: date | None = None) -> NewsItem:
    item = store.get_news(session, layer.id, news_id, until=until)
    if item is None:
        raise NotFound(f"Layer {layer.slug!r} has no news item {news_id}.", code="unknown_news_item")
    return item


def get_news(session: Session, actor: Actor, platform_slug: str, layer_slug: str, news_id: int, *,
             today: date) -> NewsItem:
    """Return one news item of a layer the actor may see (a scheduled one only to those who manage the news)."""
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    return _item(session, layer, news_id, until=_until(actor, platform, layer, today))


def update_news(session: Session, actor: Actor, platform_slug: str, layer_slug: str, news_id: int, body: Any, *,
                today: date) -> NewsItem:
    """Replace a news item's texts, link and day (a field left out is emptied; published_on stays)."""
    _platform, layer = _managed_layer(session, actor, platform_slug, layer_slug)
    item = _item(session, layer, news_id)
    try:
        checked = parse_news(body, today=item.published_on)
    except InputInvalid as exc:
        raise _invalid(exc) from None
    for name, value in _news_values(checked).items():
        setattr(item, name, value)
    session.flush()
    return item


def delete_news(session: Session, actor: Actor, platform_slug: str, layer_slug: str, news_id: int) -> None:
    """Remove a news item."""
    _platform, layer = _managed_layer(session, actor, platform_slug, layer_slug)
    store.delete_news(session, _item(session, layer, news_id))


def states_of(phases: list[TimelinePhase], today: date) -> dict[str, str]:
    """Say of each stored phase whether it is done, current or upcoming."""
    return phase_states([(p.phase, p.starts_on, p.ends_on) for p in phases], today)


def get_timeline(session: Session, actor: Actor, platform_slug: str, layer_slug: str) -> list[TimelinePhase]:
    """Return the phases of a layer the actor may see, in sequence."""
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    return store.timeline(session, layer.id)


def replace_timeline(session: Session, actor: Actor, platform_slug: str, layer_slug: str,
                     body: Any) -> list[TimelinePhase]:
    """Replace a layer's whole timeline after checking names, sequence and dates ([] clears it)."""
    _platform, layer = _managed_layer(session, actor, platform_slug, layer_slug)
    try:
        phases = parse_timeline(body)
    except InputInvalid as exc:
        raise _invalid(exc) from None
    rows = [{"phase": p.phase, "starts_on": p.starts_on, "ends_on": p.ends_on,
             **{f"note_{language}": p.note.get(language) for language in LANGUAGES}} for p in phases]
    return store.replace_timeline(session, layer.id, rows)


@dataclass(frozen=True)
class ShownNews:
    """A news item as a page shows it in one language."""

    id: int
    title: str
    body_html: str
    link_url: str | None
    published_on: date
    demo: bool


@dataclass(frozen=True)
class ShownPhase:
    """A timeline phase as a page shows it in one language."""

    phase: str
    starts_on: date | None
    ends_on: date | None
    note_html: str
    state: str


@dataclass(frozen=True)
class NewsPanel:
    """What the side panel of a layer shows: the latest news (of `total`) and the timeline."""

    news: list[ShownNews]
    total: int
    phases: list[ShownPhase]
    demo: bool = False

    @property
    def empty(self) -> bool:
        """Say whether there is nothing to show."""
        return not self.news and not self.phases


def shown_news(item: NewsItem, language: str) -> ShownNews:
    """Put a news item in one language (falling back to Dutch), its text rendered safely."""
    return ShownNews(item.id, _in(item, "title", language) or "", render_markdown(_in(item, "body", language)),
                     item.link_url, item.published_on, item.title_nl.startswith(DEMO_PREFIX))


def news_panel(session: Session, layer: Layer, language: str, today: date, *,
               limit: int | None = PANEL_NEWS) -> NewsPanel:
    """Gather a layer's latest news published by `today` and its timeline, in one language, with the current
    phase on `today`."""
    items = store.list_news(session, layer.id, until=today, limit=limit)
    total = len(items) if limit is None or len(items) < limit else store.count_news(session, layer.id, until=today)
    phases = store.timeline(session, layer.id)
    states = states_of(phases, today)
    shown = [shown_news(item, language) for item in items]
    demo = any(item.demo for item in shown) or any((p.note_nl or "").startswith(DEMO_PREFIX) for p in phases)
    return NewsPanel(
        shown, total,
        [ShownPhase(p.phase, p.starts_on, p.ends_on, render_markdown(_in(p, "note", language)), states[p.phase])
         for p in phases], demo)
