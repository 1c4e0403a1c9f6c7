"""News items and the timeline of a participation moment: the JSON API, the side panel, the news page and its
management forms."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup

from mapsvc.errors import BadRequest, ValidationFailed
from mapsvc.layers.news import BODY_MAX, LANGUAGES, NOTE_MAX, PHASES, TITLE_MAX, URL_MAX
from mapsvc.services import catalogue, news
from mapsvc.storage.models import Layer, Platform, utcnow
from mapsvc.web import params
from mapsvc.web.auth import current_actor, require_login
from mapsvc.web.language import BRUSSELS, current_language
from mapsvc.web.ui_text import text

bp = Blueprint("news", __name__)

LAYER_API = "/api/platforms/<platform>/layers/<layer>"


def _database():
    return current_app.extensions["mapsvc.db"]


def _today() -> date:
    """The Belgian day: news and phases are dated in the municipality's calendar."""
    return datetime.now(BRUSSELS).date()


def _news_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit(), yet int("²") fails
        raise BadRequest(f"A news item id is a positive whole number, got {raw[:40]!r}.", code="invalid_news_id")
    return int(raw)


@bp.get(LAYER_API + "/news")
def list_news(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    today = _today()
    items = news.list_news(g.db_session, current_actor(), platform, layer, today=today)
    return {"items": [news.news_json(item, today=today) for item in items], "count": len(items)}


@bp.post(LAYER_API + "/news")
def create_news(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        today = _today()
        item = news.create_news(session, actor, platform, layer, params.json_body(), today=today, now=utcnow())
        body = news.news_json(item, today=today)
    location = url_for("news.one_news", platform=platform, layer=layer, news_id=str(body["id"]))
    return body, 201, {"Location": location}


@bp.get(LAYER_API + "/news/<news_id>")
def one_news(platform: str, layer: str, news_id: str):
    params.reject_unknown(request.args, ())
    today = _today()
    found = news.get_news(g.db_session, current_actor(), platform, layer, _news_id(news_id), today=today)
    return news.news_json(found, today=today)


@bp.put(LAYER_API + "/news/<news_id>")
def update_news(platform: str, layer: str, news_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        today = _today()
        item = news.update_news(session, actor, platform, layer, _news_id(news_id), params.json_body(), today=today)
        body = news.news_json(item, today=today)
    return body


@bp.delete(LAYER_API + "/news/<news_id>")
def delete_news(platform: str, layer: str, news_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        news.delete_news(session, actor, platform, layer, _news_id(news_id))
    return "", 204


def _timeline_json(phases) -> dict:
    states = news.states_of(phases, _today())
    current = next((name for name, state in states.items() if state == "current"), None)
    return {"phases": [news.phase_json(p, states[p.phase]) for p in phases], "current": current}


@bp.get(LAYER_API + "/timeline")
def get_timeline(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    return _timeline_json(news.get_timeline(g.db_session, current_actor(), platform, layer))


@bp.put(LAYER_API + "/timeline")
def put_timeline(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        phases = news.replace_timeline(session, actor, platform, layer, params.json_body())
        body = _timeline_json(phases)
    return body


# --- pages -------------------------------------------------------------------------------------------------

def format_day(day: date | None, language: str | None = None) -> str:
    """Write a day in words in the page's language: 1 september 2026, 1er septembre 2026, 1 September 2026."""
    if day is None:
        return ""
    language = language or current_language()
    number = text("news.day_first", language) if day.day == 1 else str(day.day)
    return text("news.date", language, day=number, month=text(f"news.month.{day.month}", language), year=day.year)


def phase_dates(phase, language: str | None = None) -> str:
    """Say when a phase runs, with the open ends in words."""
    language = language or current_language()
    starts, ends = format_day(phase.starts_on, language), format_day(phase.ends_on, language)
    if starts and ends:
        return text("news.dates_range", language, start=starts, end=ends)
    if starts:
        return text("news.dates_from", language, start=starts)
    if ends:
        return text("news.dates_until", language, end=ends)
    return text("news.dates_unknown", language)


@bp.app_template_global()
def news_panel(platform: Platform, layer: Layer, limit: int | None = news.PANEL_NEWS) -> news.NewsPanel:
    """The side panel's news and timeline of a layer in the request's language (for _news_timeline.html)."""
    return news.news_panel(g.db_session, layer, current_language(), _today(), limit=limit)


@bp.app_template_global()
def news_html(html: str) -> Markup:
    """Mark text that mapsvc.layers.richtext rendered and sanitised as safe for the template."""
    return Markup(html)


@bp.app_context_processor
def _helpers():
    return {"news_format_day": format_day, "news_phase_dates": phase_dates}


# --- the news page and its management forms ------------------------------------------------------------------
# Officials, admins and the layer's manager write news and the timeline here with plain HTML forms (CSRF):
# POST /p/{p}/{l}/news adds an item, POST /p/{p}/{l}/news/{id}/delete removes one, POST /p/{p}/{l}/timeline
# replaces the timeline. A 422 shows the page again with each problem beside its field.

DONE = ("added", "deleted", "timeline")


def _news_form_body(form) -> dict[str, Any]:
    """The news API's JSON body from the form (a blank day: today)."""
    body: dict[str, Any] = {name: {language: form.get(f"{name}_{language}", "") for language in LANGUAGES}
                            for name in ("title", "body")}
    body["link_url"] = form.get("link_url", "").strip() or None
    if form.get("published_on", "").strip():
        body["published_on"] = form["published_on"].strip()
    return body


def _timeline_form_body(form) -> tuple[dict[str, Any], list[str]]:
    """The timeline API's JSON body from the form, and the phase of each entry sent (a blank phase is left out)."""
    phases, sent = [], []
    for phase in PHASES:
        entry: dict[str, Any] = {"phase": phase}
        for name in ("starts_on", "ends_on"):
            entry[name] = form.get(f"{phase}_{name}", "").strip() or None
        entry["note"] = {language: form.get(f"{phase}_note_{language}", "") for language in LANGUAGES}
        if entry["starts_on"] or entry["ends_on"] or any(v.strip() for v in entry["note"].values()):
            phases.append(entry)
            sent.append(phase)
    return {"phases": phases}, sent


def _field_name(field: str | None, sent: list[str] | None) -> str:
    """The form field a problem belongs to ("title.nl" → title_nl, "phases[1].note.fr" → consult_note_fr)."""
    if not field:
        return ""
    match = re.fullmatch(r"phases\[(\d+)\]\.(.+)", field)
    if match and sent is not None and int(match.group(1)) < len(sent):
        return f"{sent[int(match.group(1))]}_{match.group(2).replace('.', '_')}"
    return field.replace(".", "_")


def _problem_text(problem: dict[str, Any], name: str, language: str) -> str:
    code = problem.get("code")
    if code == "too_long":
        limit = (TITLE_MAX if name.startswith("title") else NOTE_MAX if "_note_" in name
                 else URL_MAX if name == "link_url" else BODY_MAX)
        return text("news.problem.too_long", language, max=limit)
    if code == "format":
        return text("news.problem.link" if name == "link_url" else "news.problem.date", language)
    if code in ("required", "ends_before_start", "out_of_order"):
        return text(f"news.problem.{code}", language)
    return text("news.problem.generic", language)


def _errors(exc: ValidationFailed, sent: list[str] | None, language: str) -> dict[str, list[str]]:
    """Each problem of a 422 in the page's language, by form field ("" for the form as a whole)."""
    found: dict[str, list[str]] = {}
    for problem in exc.details.get("problems", ()):
        name = _field_name(problem.get("field"), sent)
        found.setdefault(name, []).append(_problem_text(problem, name, language))
    return found or {"": [text("news.problem.generic", language)]}


def _timeline_values(phases) -> dict[str, str]:
    """The timeline form filled in with the stored phases."""
    values: dict[str, str] = {}
    for phase in phases:
        values[f"{phase.phase}_starts_on"] = phase.starts_on.isoformat() if phase.starts_on else ""
        values[f"{phase.phase}_ends_on"] = phase.ends_on.isoformat() if phase.ends_on else ""
        for language in LANGUAGES:
            values[f"{phase.phase}_note_{language}"] = getattr(phase, f"note_{language}") or ""
    return values


def _render_page(platform: str, layer: str, *, done: str | None = None, news_form=None, news_errors=None,
                 timeline_form=None, timeline_errors=None, status: int = 200):
    actor, language, today = current_actor(), current_language(), _today()
    found_platform, found = catalogue.get_visible_layer(g.db_session, actor, platform, layer)
    can_manage = news.can_manage_news(actor, found_platform.id, found.id)
    context: dict[str, Any] = {"platform": found_platform, "layer": found, "can_manage": can_manage,
                               "panel": news_panel(found_platform, found, limit=None)}
    if can_manage:
        items = news.list_news(g.db_session, actor, platform, layer, today=today)
        context.update(
            done=text(f"news.done.{done}", language) if done in DONE else None, today=today,
            items=[(news.shown_news(item, language), item.published_on > today) for item in items],
            news_form=news_form if news_form is not None else {"published_on": today.isoformat()},
            news_errors=news_errors or {}, timeline_errors=timeline_errors or {}, phases=PHASES,
            languages=LANGUAGES, title_max=TITLE_MAX, body_max=BODY_MAX, note_max=NOTE_MAX, url_max=URL_MAX,
            timeline_form=timeline_form if timeline_form is not None
            else _timeline_values(news.get_timeline(g.db_session, actor, platform, layer)))
    return render_template("news.html", **context), status


@bp.get("/p/<platform>/<layer>/news")
def news_page(platform: str, layer: str):
    """Every news item of a layer and its timeline (the side panels show the latest five); for those who manage
    them, the forms to write news and set the timeline."""
    params.reject_unknown(request.args, ("done",))
    return _render_page(platform, layer, done=request.args.get("done"))


def _done(platform: str, layer: str, what: str, anchor: str):
    return redirect(url_for("news.news_page", platform=platform, layer=layer, done=what) + anchor, code=303)


@bp.post("/p/<platform>/<layer>/news")
def add_news_form(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    try:
        with _database().transaction() as session:
            news.create_news(session, actor, platform, layer, _news_form_body(request.form), today=_today(),
                             now=utcnow())
    except ValidationFailed as exc:
        return _render_page(platform, layer, news_form=request.form.to_dict(), status=422,
                            news_errors=_errors(exc, None, current_language()))
    return _done(platform, layer, "added", "#mapsvc-news-add-heading")


@bp.post("/p/<platform>/<layer>/news/<news_id>/delete")
def delete_news_form(platform: str, layer: str, news_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        news.delete_news(session, actor, platform, layer, _news_id(news_id))
    return _done(platform, layer, "deleted", "#mapsvc-news-items-heading")


@bp.post("/p/<platform>/<layer>/timeline")
def timeline_form(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    body, sent = _timeline_form_body(request.form)
    try:
        with _database().transaction() as session:
            news.replace_timeline(session, actor, platform, layer, body)
    except ValidationFailed as exc:
        return _render_page(platform, layer, timeline_form=request.form.to_dict(), status=422,
                            timeline_errors=_errors(exc, sent, current_language()))
    return _done(platform, layer, "timeline", "#mapsvc-timeline-form-heading")
