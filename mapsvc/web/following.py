"""Following platforms, themes, layers and pins; e-mail preferences; unsubscribe links; officials' updates."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from mapsvc.errors import BadRequest, Forbidden, MapsvcError
from mapsvc.services import announcements, following
from mapsvc.services.catalogue import get_platform
from mapsvc.services.following_mail import MailLinks, configure_links
from mapsvc.services.following_text import theme_name
from mapsvc.services.permissions import is_official
from mapsvc.storage.models import User, utcnow
from mapsvc.web import params
from mapsvc.web.auth import CSRF_EXEMPT, current_actor, require_login
from mapsvc.web.language import current_language
from mapsvc.web.ui_text import text

bp = Blueprint("following", __name__)

LAYER = "/api/platforms/<platform>/layers/<layer>"
# Form errors the pages explain in the person's language; any other error goes to the error page.
FORM_ERRORS = {"invalid_announcement", "unknown_theme", "invalid_follow", "unknown_layer", "unknown_feature",
               "unknown_platform"}


@bp.record_once
def _mail_links(state) -> None:
    """Give the services what mail links need (PUBLIC_URL, SECRET_KEY) through the app's database sessions."""
    settings = state.app.config["MAPSVC"]
    configure_links(state.app.extensions["mapsvc.db"].sessions,
                    MailLinks(settings["PUBLIC_URL"], settings["SECRET_KEY"]))


@bp.app_context_processor
def _following_context():
    return {"following_layer": lambda layer: following.is_following_layer(g.db_session, current_actor(), layer),
            "theme_label": lambda theme: theme_name(theme, current_language())}


def _database():
    return current_app.extensions["mapsvc.db"]


def _form_error(exc: MapsvcError) -> str:
    code = exc.code if exc.code in FORM_ERRORS else None
    if code in ("unknown_layer", "unknown_feature", "unknown_platform"):
        code = "invalid_follow"
    return text(f"following.error.{code}") if code else exc.message


# ---------------------------------------------------------------------------------------------- JSON API

@bp.get("/api/me/follows")
def my_follows():
    params.reject_unknown(request.args, ())
    return following.my_follows(g.db_session, require_login(), current_language())


@bp.put("/api/me/follows")
def set_follows():
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        return following.set_preferences(session, actor, params.json_body(), now=utcnow(), language=current_language())


def _follow(platform: str, layer: str, feature_id: int | None):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        if request.method == "POST":
            state = following.follow_layer(session, actor, platform, layer, feature_id=feature_id, now=utcnow())
            return state, 201 if state["created"] else 200
        return following.unfollow_layer(session, actor, platform, layer, feature_id=feature_id)


@bp.route(LAYER + "/follow", methods=["POST", "DELETE"])
def follow_layer(platform: str, layer: str):
    return _follow(platform, layer, None)


@bp.route(LAYER + "/features/<feature_id>/follow", methods=["POST", "DELETE"])
def follow_feature(platform: str, layer: str, feature_id: str):
    return _follow(platform, layer, params.feature_id(feature_id))


@bp.post("/api/platforms/<platform>/announcements/preview")
def preview_announcement(platform: str):
    params.reject_unknown(request.args, ())
    return announcements.preview(g.db_session, require_login(), platform, params.json_body(), language=current_language())


@bp.post("/api/platforms/<platform>/announcements")
def send_announcement(platform: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        return announcements.send(session, actor, platform, params.json_body(), now=utcnow()), 201


# ---------------------------------------------------------------------------------------------- pages

def _preferences_page(status: int = 200, *, error: str | None = None, saved: bool = False):
    actor = current_actor()
    user = g.db_session.get(User, actor.user_id)
    return render_template("account_updates.html", user=user, saved=saved, error=error,
                           choices=following.preference_choices(g.db_session, actor)), status


def _scope_of(value: str) -> dict:
    """Read one checkbox value: p:<platform>, t:<platform>:<theme>, l:<platform>:<layer>, f:<platform>:<layer>:<id>."""
    kind, _sep, rest = value.partition(":")
    parts = rest.split(":")
    if kind == "p" and len(parts) == 1:
        return {"platform": parts[0]}
    if kind == "t" and len(parts) == 2:
        return {"platform": parts[0], "theme": parts[1]}
    if kind == "l" and len(parts) == 2:
        return {"platform": parts[0], "layer": parts[1]}
    if kind == "f" and len(parts) == 3 and parts[2].isascii() and parts[2].isdigit() and len(parts[2]) < 19:
        return {"platform": parts[0], "layer": parts[1], "feature": int(parts[2])}
    raise BadRequest(f"Unknown choice {value[:80]!r}.", code="invalid_follow")


@bp.route("/account/updates", methods=["GET", "POST"])
def preferences_page():
    """Show and change what the person follows and which e-mails they get (a plain form, keyboard first)."""
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next=url_for("following.preferences_page")))
    if request.method == "GET":
        params.reject_unknown(request.args, ("saved",))
        return _preferences_page(saved=request.args.get("saved") == "1")
    try:
        body = {"follows": [_scope_of(v) for v in request.form.getlist("follow")],
                "weekly_digest": request.form.get("weekly_digest") == "1",
                "own_pin_updates": request.form.get("own_pin_updates") == "1"}
        with _database().transaction() as session:
            following.set_preferences(session, current_actor(), body, now=utcnow())
    except MapsvcError as exc:
        if exc.status >= 500:
            raise
        return _preferences_page(exc.status, error=_form_error(exc))
    return redirect(url_for("following.preferences_page", saved="1"))


@bp.post("/p/<platform>/<layer>/follow")
def layer_follow_form(platform: str, layer: str):
    """The layer page's follow button (works without scripts): follow or stop, then back to the map."""
    back = url_for("maps.layer_map", platform=platform, layer=layer)
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next=back))
    with _database().transaction() as session:
        if request.form.get("action") == "unfollow":
            following.unfollow_layer(session, current_actor(), platform, layer)
        else:
            following.follow_layer(session, current_actor(), platform, layer, now=utcnow())
    return redirect(back + "#mapsvc-follow")


def _unsubscribe_page(token: str, *, done: bool):
    language = current_language()
    secret = current_app.config["MAPSVC"]["SECRET_KEY"]
    try:
        if done:
            with _database().transaction() as session:
                order = following.unsubscribe(session, secret, token, language)
        else:
            order = following.read_unsubscribe(g.db_session, secret, token, language)
    except MapsvcError as exc:
        if exc.status != 400:
            raise
        message = text({"unsubscribe_link_expired": "following.unsub.expired",
                        "unsubscribe_link_other_account": "following.unsub.other_account"}
                       .get(exc.code, "following.unsub.invalid"))
        return render_template("unsubscribe.html", message=message, ask=False, done=False), 400
    if not order.active:
        message = text("following.unsub.nothing")
    else:
        message = text(f"following.unsub.{'done' if done else 'ask'}_{order.scope}", scope=order.label or "")
    return render_template("unsubscribe.html", message=message, ask=order.active and not done, done=done,
                           token=token, language=language)


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """Show what an e-mail's unsubscribe link stops, with one button (no login needed)."""
    return _unsubscribe_page(token, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe_now(token: str):
    """Carry out an unsubscribe link: the page's button, or a mail client's RFC 8058 one-click POST."""
    return _unsubscribe_page(token, done=True)


CSRF_EXEMPT.add("following.unsubscribe_now")  # the signed token is the proof; mail clients send no CSRF token


def _announcement_body(form) -> dict:
    target = form.get("target", "")
    kind, _sep, value = target.partition(":")
    body = {"subject": form.get("subject", ""), "body": form.get("body", "")}
    if kind == "layer" and value:
        body["layer"] = value
    elif kind == "theme" and value:
        body["theme"] = value
    return body


@bp.route("/p/<platform>/announcements", methods=["GET", "POST"])
def announcements_page(platform: str):
    """Compose an update for followers, preview it with the number of recipients, then send it."""
    actor = current_actor()
    if not actor.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    found = get_platform(g.db_session, platform)
    if not is_official(actor, found.id):
        raise Forbidden(f"Only officials and admins of {found.slug!r} send updates to its followers.")
    form = request.form if request.method == "POST" else {}
    context = {"platform": found, "layers": found.layers, "themes": following.platform_themes(found),
               "form": form, "subject_max": announcements.SUBJECT_MAX, "body_max": announcements.BODY_MAX,
               "sent": None, "preview": None, "error": None}
    if request.method == "GET":
        params.reject_unknown(request.args, ("sent",))
        sent = request.args.get("sent", "")
        context["sent"] = int(sent) if sent.isascii() and sent.isdigit() and len(sent) < 19 else None
        return render_template("announcements.html", **context)
    step = request.form.get("step")
    try:
        if step == "send":
            with _database().transaction() as session:
                result = announcements.send(session, actor, platform, _announcement_body(form), now=utcnow())
            return redirect(url_for("following.announcements_page", platform=found.slug,
                                    sent=result["recipient_count"]))
        if step == "preview":
            context["preview"] = announcements.preview(g.db_session, actor, platform, _announcement_body(form),
                                                       language=current_language())
    except MapsvcError as exc:
        if exc.status >= 500 or exc.code not in FORM_ERRORS:
            raise
        context["error"] = _form_error(exc)
        return render_template("announcements.html", **context), exc.status
    return render_template("announcements.html", **context)

