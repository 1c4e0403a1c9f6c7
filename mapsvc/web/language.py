"""Which language a request is answered in: Dutch by default, French or English when the person chose it.

Order: an explicit `?lang=` on the request (which also sets the remembered `mapsvc_lang` cookie, one year,
SameSite=Lax), the cookie, the logged-in person's `User.locale`, Dutch. The browser's Accept-Language is
deliberately not used: Flemish municipalities speak Dutch first (language legislation), and another language
is the person's own choice, not their browser's. `POST /language` (form: lang, next; CSRF) is the switcher of
the pages: it sets the cookie and, for a logged-in person, stores the choice as their locale. Views and
templates call `current_language()`; `ui_text.text(id)` answers in it, and `localised(obj, "title")` reads the
per-language columns (`title_nl`, `title_fr`, `title_en`, …).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, g, has_request_context, redirect, request

from mapsvc.web import ui_text
from mapsvc.web.ui_text import DEFAULT_LANGUAGE, text

LANGUAGES = ("nl", "fr", "en")
# Each language named in itself: a person looking for their language must recognise it in any interface.
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
COOKIE = "mapsvc_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
BRUSSELS = ZoneInfo("Europe/Brussels")

bp = Blueprint("language", __name__)


def chosen(value: str | None) -> str | None:
    """Return a supported language code for a user-supplied value, or None."""
    if not value:
        return None
    code = value.strip().lower()[:2]
    return code if code in LANGUAGES else None


def _user_locale() -> str | None:
    """The logged-in person's stored language (the row is already in the session: actor_for loaded it)."""
    actor = g.get("actor")
    session = g.get("db_session")
    if actor is None or not actor.is_authenticated or session is None:
        return None
    from mapsvc.storage.models import User

    user = session.get(User, actor.user_id)
    return chosen(user.locale) if user is not None else None


def current_language() -> str:
    """The language of the current request (Dutch outside a request)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    cached = g.get("mapsvc_language")
    if cached:
        return cached
    language = (chosen(request.args.get("lang")) or chosen(request.cookies.get(COOKIE)) or _user_locale()
                or DEFAULT_LANGUAGE)
    # Only cache once the person is known: an error page drawn before _identify must not fix the language.
    if "actor" in g:
        g.mapsvc_language = language
    return language


def localised(obj: object, attribute: str, language: str | None = None) -> str | None:
    """Read `attribute_<language>` of an object, falling back to Dutch (e.g. localised(layer, "title"))."""
    language = language or current_language()
    return getattr(obj, f"{attribute}_{language}", None) or getattr(obj, f"{attribute}_{DEFAULT_LANGUAGE}", None)


def format_date(value: date | datetime | None) -> str:
    """Write a date as dd/mm/yyyy (Belgian usage in all three languages); moments in Belgian time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        value = moment.astimezone(BRUSSELS).date()
    return value.strftime("%d/%m/%Y")


def language_links() -> list[dict[str, object]]:
    """The switcher's entries: each language, its own name, the current URL with ?lang=, and whether it is current."""
    current = current_language()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return [{"code": code, "name": LANGUAGE_NAMES[code], "current": code == current,
             "href": f"{request.path}?{urlencode([*args, ('lang', code)])}"} for code in LANGUAGES]


def next_path() -> str:
    """The current page's path and query without `lang`, for the switcher's form to come back to."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + (f"?{urlencode(args)}" if args else "")


def error_text(code: str | None, fallback: str, **values: object) -> str:
    """Translate an error code for a page (`error.<code>`), or keep the fallback when there is no message."""
    try:
        return text(f"error.{code}", **values) if code else fallback
    except (KeyError, IndexError):  # no such message, or it needs values the error did not carry
        return fallback


def theme_label(theme: str) -> str:
    """The label of a layer theme (the catalogue's themes have messages `theme.<value>`; others show as they are)."""
    try:
        return text(f"theme.{theme}")
    except KeyError:
        return theme


def _remember(response):
    """After a request with a valid ?lang=, remember the choice in the cookie."""
    language = chosen(request.args.get("lang"))
    if language and request.cookies.get(COOKIE) != language:
        _set_cookie(response, language)
    return response


def _set_cookie(response, language: str) -> None:
    response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=not current_app.config["MAPSVC"]["DEVELOPMENT"])


@bp.post("/language")
def switch_language():
    """Switch the interface language: set the cookie, store it as a logged-in person's locale, go back."""
    from mapsvc.web.auth import current_actor, safe_next

    language = chosen(request.form.get("lang"))
    target = safe_next(request.form.get("next"))
    if language is None:
        from mapsvc.errors import BadRequest

        raise BadRequest(f"lang must be one of {', '.join(LANGUAGES)}.", code="invalid_locale")
    actor = current_actor()
    if actor.is_authenticated:
        from mapsvc.services.privacy import update_profile

        with current_app.extensions["mapsvc.db"].transaction() as session:
            update_profile(session, actor, {"locale": language})
    g.mapsvc_language = language
    response = redirect(target, code=303)
    _set_cookie(response, language)
    return response


def init_language(app: Flask) -> None:
    """Answer every request in its language: text() resolver, template helpers, the cookie, the switcher."""
    ui_text.use_language_resolver(current_language)
    app.jinja_env.globals.update(text=text, current_language=current_language, localised=localised,
                                 language_links=language_links, language_next=next_path, theme_label=theme_label,
                                 language_names=LANGUAGE_NAMES)
    app.jinja_env.filters["date"] = format_date
    app.after_request(_remember)
    app.register_blueprint(bp)
