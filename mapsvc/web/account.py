"""A person's own account: language, their data as JSON, deleting the account."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, current_app, flash, g, get_flashed_messages, redirect, render_template,
                   request, session, url_for)

from mapsvc.errors import BadRequest, MapsvcError
from mapsvc.services import privacy
from mapsvc.storage.models import utcnow
from mapsvc.web.auth import current_actor, require_login
from mapsvc.web.language import COOKIE, current_language, localised
from mapsvc.web.ui_text import text

bp = Blueprint("account", __name__)

BRUSSELS = ZoneInfo("Europe/Brussels")
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
# Form errors the page explains in the person's language; any other error goes to the error page.
FORM_ERRORS = {"password_required", "wrong_password", "confirmation_required", "invalid_display_name",
               "invalid_locale"}


def _database():
    return current_app.extensions["mapsvc.db"]


def _remember_language(response: Response, language: str) -> None:
    """Set the language cookie the pages read (mapsvc.web.language), as its switcher does."""
    response.set_cookie(COOKIE, language, max_age=LANGUAGE_COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=not current_app.config["MAPSVC"]["DEVELOPMENT"])


def _page(status: int = 200, *, error: MapsvcError | None = None, form: str | None = None):
    actor = current_actor()
    user = privacy.account_of(g.db_session, actor)
    lang = current_language()
    consequences = [(localised(c.platform, "name", lang), c)
                    for c in privacy.deletion_consequences(g.db_session, actor)]
    error_text = None
    if error is not None:
        error_text = text(f"account.error.{error.code}", lang, max=privacy.MAX_DISPLAY_NAME)
    body = render_template(
        "account.html", text=text, lang=lang, user=user, consequences=consequences,
        member_since=user.created_at.astimezone(BRUSSELS).strftime("%d/%m/%Y"),
        languages=privacy.LOCALES, max_name=privacy.MAX_DISPLAY_NAME,
        confirm_word=privacy.CONFIRM_WORDS[lang], notices=get_flashed_messages(),
        error=error_text, error_form=form)
    return body, status


@bp.get("/account")
def account_page():
    """Show the person's account: language, name, e-mail preferences, download, deletion."""
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next="/account"))
    return _page()


def _form_write(form: str, change):
    """Run a form's change in one transaction; re-show the page with the reason when it is refused."""
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next="/account"))
    try:
        with _database().transaction() as db_session:
            result = change(db_session)
    except MapsvcError as exc:
        if exc.code not in FORM_ERRORS:
            raise
        return _page(exc.status, error=exc, form=form)
    return result


@bp.post("/account/language")
def choose_language():
    """Store the chosen language as the person's locale and in the language cookie."""
    language = request.form.get("locale", "")

    def change(db_session):
        privacy.update_profile(db_session, current_actor(), {"locale": language})
        flash("account.saved_language")
        response = redirect(url_for("account.account_page"), code=303)
        _remember_language(response, language)
        g.mapsvc_language = language
        return response

    return _form_write("language", change)


@bp.post("/account/name")
def choose_name():
    """Change the name shown beside the person's pins (empty: anonymous)."""
    name = request.form.get("display_name", "")

    def change(db_session):
        privacy.update_profile(db_session, current_actor(), {"display_name": name})
        flash("account.saved_name")
        return redirect(url_for("account.account_page"), code=303)

    return _form_write("name", change)


@bp.post("/account/delete")
def delete_from_page():
    """Delete the account from the page's form (password or confirmation word), then log out."""

    def change(db_session):
        privacy.delete_account(db_session, current_actor(), password=request.form.get("password"),
                               confirm=request.form.get("confirm"))
        return None

    refused = _form_write("delete", change)
    if refused is not None:  # the page again, with the reason
        return refused
    session.clear()  # only once the deletion is committed: a failed commit leaves the person logged in
    return redirect(url_for("account.deleted"), code=303)


@bp.get("/account/deleted")
def deleted():
    """Say that the account is gone."""
    return render_template("account_deleted.html", text=text, lang=current_language())


@bp.get("/api/me/data")
def my_data():
    """Download everything stored about the logged-in person as a JSON attachment."""
    actor = require_login()
    now = utcnow()
    data = privacy.my_data(g.db_session, actor, now)
    day = now.astimezone(BRUSSELS).date().isoformat()
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="mapsvc-my-data-{day}.json"',
        "Cache-Control": "no-store"})  # personal data: no shared or browser cache keeps a copy


@bp.patch("/api/me")
def update_me():
    """Change one's language (locale) and display name; the language cookie follows the locale."""
    actor = require_login()
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("Send a JSON body with Content-Type: application/json.", code="invalid_json")
    with _database().transaction() as db_session:
        result = privacy.update_profile(db_session, actor, body)
    response = current_app.json.response(result)
    if "locale" in body:
        _remember_language(response, result["locale"])
    return response


@bp.delete("/api/me")
def delete_me():
    """Delete one's account (cookie session with CSRF; JSON body with password, or confirm for OIDC accounts)."""
    actor = require_login()
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object with password (or confirm).", code="invalid_json")
    with _database().transaction() as db_session:
        done = privacy.delete_account(db_session, actor, password=body.get("password"), confirm=body.get("confirm"),
                                      by_token=bool(g.get("bearer_token")))
    session.clear()
    return {"deleted": True, **done}
