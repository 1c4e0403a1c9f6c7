"""OpenID Connect login: the provider's redirect, the callback, linking and logout.

The secrets of a login in progress (state, nonce, PKCE verifier) wait in the signed session cookie, keyed
by state, and are used once. After the callback the session holds `user_id` and `user_since` (like the local
login), the login's assurance level `acr` with the issuer that vouched for it (`acr_issuer`: a platform's own
provider counts on that platform only), and which provider it came from (for the provider's logout).
"""

from __future__ import annotations

import re
import time

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask_limiter.util import get_remote_address

from mapsvc.errors import BadRequest, MapsvcError, Unauthorized
from mapsvc.services import oidc
from mapsvc.services import oidc_protocol as protocol
from mapsvc.storage.models import utcnow
from mapsvc.web import params
from mapsvc.web.auth import current_actor, limiter, log_in, safe_next
from mapsvc.web.language import current_language
from mapsvc.web.ui_text import text

bp = Blueprint("oidc", __name__)

PENDING = "oidc_pending"
PENDING_SECONDS = 600  # a login left half-way at the provider for longer than this starts over
MAX_PENDING = 3  # logins started in several tabs at once; older ones are dropped
# The platform of a map page a person came from (/p/<slug>/…, /embed/<slug>/…), to offer its own provider.
PLATFORM_PAGE = re.compile(r"^/(?:p|embed)/([a-z0-9-]{1,64})(?:/|$)")


def _settings() -> dict:
    return current_app.config["MAPSVC"]


def _cache() -> protocol.MetadataCache:
    return current_app.extensions.setdefault("mapsvc.oidc_metadata", protocol.MetadataCache())


def _redirect_uri() -> str:
    return url_for("oidc.callback", _external=True)


def _flag(name: str) -> bool:
    raw = request.args.get(name, "0").strip().lower()
    if raw not in ("1", "0", "true", "false"):
        raise BadRequest(f"{name} must be 1 or 0.", code="invalid_parameter")
    return raw in ("1", "true")


@bp.get("/login/oidc")
@limiter.limit(lambda: _settings()["RATE_LIMIT_LOGIN"], key_func=get_remote_address)
def start():
    """Send the browser to the provider (the platform's own, else the instance's); link=1 links the account."""
    params.reject_unknown(request.args, ("platform", "next", "link", "lang"))
    link = _flag("link")
    actor = current_actor()
    if link and not actor.is_authenticated:
        raise Unauthorized("Log in with your e-mail address and password first; then link the government login "
                           "to your account.", code="oidc_link_needs_login")
    provider = oidc.provider_for_login(g.db_session, _settings(), request.args.get("platform") or None)
    metadata = _cache().metadata(provider.issuer)
    url, secrets = protocol.authorization_request(provider, metadata, _redirect_uri(),
                                                  ui_locales=current_language())
    waiting = dict(session.get(PENDING) or {})
    waiting[secrets["state"]] = {
        "nonce": secrets["nonce"], "verifier": secrets["code_verifier"], "provider": provider.key,
        "issuer": provider.issuer, "next": safe_next(request.args.get("next")),
        "link_user_id": actor.user_id if link else None, "started": int(time.time()),
    }
    newest = sorted(waiting.items(), key=lambda item: item[1]["started"])[-MAX_PENDING:]
    session[PENDING] = dict(newest)
    return redirect(url)


@bp.get("/login/oidc/callback")
def callback():
    """Finish a login at the provider: check state, exchange the code, verify the ID token, log in."""
    state = request.args.get("state", "")
    waiting = dict(session.get(PENDING) or {})
    pending = waiting.pop(state, None) if state else None
    if pending is None:
        raise BadRequest("This login attempt is unknown, used already, or was started in another browser; "
                         "log in again.", code="oidc_state_mismatch")
    session[PENDING] = waiting  # a state is used once, whatever happens next
    if time.time() - pending["started"] > PENDING_SECONDS:
        raise BadRequest("The login took too long; log in again.", code="oidc_login_expired")
    if request.args.get("error"):
        error, description = request.args["error"][:100], request.args.get("error_description", "")[:200]
        said = f" ({description})" if description else ""
        raise Unauthorized(f"The login provider ended the login with {error!r}{said}; log in again.",
                           code="oidc_provider_error", details={"provider_error": error})
    returned_issuer = request.args.get("iss")  # RFC 9207: the answer names its issuer (mix-up defence)
    if returned_issuer and returned_issuer.rstrip("/") != pending["issuer"].rstrip("/"):
        raise BadRequest("The answer came from another login provider than the one asked; log in again.",
                         code="oidc_state_mismatch")
    code = request.args.get("code")
    if not code:
        raise BadRequest("The login provider sent no code back; log in again.", code="oidc_code_missing")
    provider = oidc.provider_by_key(g.db_session, _settings(), pending["provider"])
    if provider is None or provider.issuer != pending["issuer"]:
        raise BadRequest("The login provider's settings changed during the login; log in again.",
                         code="oidc_state_mismatch")
    login = protocol.authenticate(provider, _cache(), _redirect_uri(), code=code, nonce=pending["nonce"],
                                  code_verifier=pending["verifier"])
    link_user_id = pending.get("link_user_id")
    if link_user_id is not None and current_actor().user_id != link_user_id:
        raise BadRequest("You logged in with another account while linking; start linking again.",
                         code="oidc_session_changed")
    with current_app.extensions["mapsvc.db"].transaction() as db_session:
        found = oidc.sign_in(db_session, oidc.subject_key(_settings()), login, now=utcnow(),
                             link_user_id=link_user_id, locale=current_language())
    log_in(found.user_id, found.stamp)
    session["acr"] = login.acr
    session["acr_issuer"] = login.issuer
    session["oidc_provider"] = provider.key
    return redirect(pending["next"])


def provider_logout_url() -> str | None:
    """Return where logout continues: the provider's end_session_endpoint after an OIDC login, else None."""
    key = session.get("oidc_provider")
    if not key:
        return None
    try:
        provider = oidc.provider_by_key(g.db_session, _settings(), key)
        if provider is None:
            return None
        return protocol.logout_url(provider, _cache(), url_for("pages.index", _external=True))
    except MapsvcError:
        return None  # the local logout never fails on the provider's account


def login_links() -> list[dict[str, str]]:
    """Return the login page's buttons: one per provider for the instance and the page's platform."""
    target = request.values.get("next") or None
    platform = request.args.get("platform")
    if not platform and target:
        found = PLATFORM_PAGE.match(target)
        platform = found.group(1) if found else None
    try:
        providers = oidc.providers_for(g.db_session, _settings(), platform or None)
    except MapsvcError:
        return []
    links = []
    for provider in providers:
        slug = provider.key[len(oidc.PLATFORM_KEY):] if provider.key.startswith(oidc.PLATFORM_KEY) else None
        links.append({"url": url_for("oidc.start", platform=slug, next=target),
                      "text": text("oidc.login_with", label=provider.label)})
    return links


@bp.app_context_processor
def _login_links():
    return {"oidc_login_links": login_links}
