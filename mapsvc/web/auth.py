"""Who is asking: session cookie or bearer token → Actor; CSRF on cookie writes; rate limits; login pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from mapsvc.errors import MapsvcError, Unauthorized
from mapsvc.services import accounts, oidc
from mapsvc.services.permissions import ANONYMOUS, Actor
from mapsvc.web.ui_text import text

WRITES = {"POST", "PUT", "PATCH", "DELETE"}

csrf = CSRFProtect()
# Endpoints whose own signed token is the proof (one-click unsubscribe, RFC 8058): mail providers POST
# there without any page, cookie or CSRF token.
CSRF_EXEMPT: set[str] = set()


def _rate_key() -> str:
    """Count a logged-in person's writes per person, everyone else's per address."""
    actor = g.get("actor", ANONYMOUS)
    return f"user:{actor.user_id}" if actor.is_authenticated else f"ip:{get_remote_address()}"


limiter = Limiter(key_func=_rate_key)


def limit(setting: str):
    """Rate-limit a view with the limit named by a MAPSVC setting (e.g. RATE_LIMIT_VOTES)."""
    return limiter.limit(lambda: current_app.config["MAPSVC"][setting])


bp = Blueprint("auth", __name__)


def current_actor() -> Actor:
    """Return the actor of the current request (anonymous when nobody is logged in)."""
    return g.get("actor", ANONYMOUS)


def require_login() -> Actor:
    """Return the logged-in actor or raise a 401 that says to log in."""
    actor = current_actor()
    if not actor.is_authenticated:
        raise Unauthorized("Log in first: dropping pins and voting need an account.")
    return actor


def init_auth(app: Flask) -> None:
    """Wire sessions, CSRF, rate limits and the login pages into the app."""
    settings = app.config["MAPSVC"]
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings["DEVELOPMENT"],
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, only for cookie-authenticated writes
        WTF_CSRF_TIME_LIMIT=None,      # valid for the session's lifetime
        RATELIMIT_STORAGE_URI=settings["RATELIMIT_STORAGE_URL"],
        RATELIMIT_HEADERS_ENABLED=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(_identify)
    app.register_blueprint(bp)

    @app.context_processor
    def _auth_context():
        return {"actor": current_actor(), "csrf_token": generate_csrf}


def _identify() -> None:
    db_session = g.db_session
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        holder = accounts.token_holder(db_session, header[7:].strip())
        if holder is None:
            raise Unauthorized("The API token is unknown or revoked.", code="invalid_token")
        # An embed token carries its session's acr and the issuer that vouched for it.
        g.actor = accounts.actor_for(db_session, holder.user_id, holder.acr,
                                     _acr_scope(holder.acr, holder.acr_issuer))
        g.bearer_token = header[7:].strip()
        return  # token requests carry no cookie, so CSRF does not apply
    user_id, acr = session.get("user_id"), session.get("acr")
    g.actor = accounts.session_actor(db_session, user_id, session.get("user_since"), acr,
                                     _acr_scope(acr, session.get("acr_issuer")))
    if user_id is not None and not g.actor.is_authenticated:
        session.clear()  # a deleted or deactivated account, or an id handed to someone else since
    # A 404/405 says more than a CSRF error, and so does the 401 an anonymous API write gets; forms (login)
    # are checked for everyone, against login CSRF.
    anonymous_api = not g.actor.is_authenticated and request.path.startswith("/api/")
    if (request.method in WRITES and request.routing_exception is None and not anonymous_api
            and request.endpoint not in CSRF_EXEMPT):
        try:
            csrf.protect()
        except CSRFError:
            raise MapsvcError(
                "The form or request lacks a valid CSRF token; reload the page and try again "
                "(scripts use an API token in the Authorization header instead).", code="csrf_failed") from None


def _acr_scope(acr: str | None, issuer: str | None) -> frozenset[int | None]:
    """Where a login's acr counts, by the providers configured now (one small query, only for OIDC logins)."""
    if not acr or not issuer:
        return frozenset()
    return oidc.acr_scope(g.db_session, current_app.config["MAPSVC"], issuer)


def log_in(user_id: int, stamp: str) -> None:
    """Start a fresh cookie session for an account: its id, and its login stamp so that a reused id never matches."""
    session.clear()
    session["user_id"] = user_id
    session["user_since"] = stamp


def safe_next(target: str | None) -> str:
    """Only follow relative redirects after login (no open redirect to another site)."""
    if not target:
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MAPSVC"]["RATE_LIMIT_LOGIN"], methods=["POST"],
               key_func=get_remote_address)
def login():
    error = None
    if request.method == "POST":
        user = accounts.authenticate(g.db_session, request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            log_in(user.id, accounts.login_stamp(user))
            return redirect(safe_next(request.form.get("next")))
        error = text("login.failed")
    return render_template("login.html", error=error, next=request.values.get("next", "")), 401 if error else 200


@bp.post("/logout")
def logout():
    from mapsvc.web.oidc import provider_logout_url

    provider_logout = provider_logout_url()  # read before the session (and its acr) is cleared
    session.clear()
    return redirect(provider_logout or url_for("pages.index"))


@bp.get("/login/embedded")
def embedded_login():
    """The popup an embedded map opens: log in first-party, then hand the frame a token (embed_login.js)."""
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next=url_for("auth.embedded_login")))
    return render_template("embed_login.html")


@bp.post("/api/embed-token")
def embed_token():
    """Give an embedded map a login token of its own; only a first-party cookie session may ask (with CSRF)."""
    actor = require_login()
    if g.get("bearer_token"):
        raise MapsvcError("An embedded map's token is issued to a logged-in browser session, not to a token.",
                          code="session_required")
    from mapsvc.storage.models import User

    with current_app.extensions["mapsvc.db"].transaction() as session:
        user = session.get(User, actor.user_id)
        token = accounts.issue_embed_token(session, user, actor.acr, _acr_issuer())
        answer = {"token": token, "expires_in": accounts.EMBED_TOKEN_HOURS * 3600,
                  "user": {"id": user.id, "display_name": user.display_name}}
    return answer, 201


def _acr_issuer() -> str | None:
    return session.get("acr_issuer") if isinstance(session.get("acr_issuer"), str) else None


@bp.delete("/api/embed-token")
def revoke_embed_token():
    """Log an embedded map out: revoke the token it sent."""
    token = g.get("bearer_token")
    if not token or not token.startswith(accounts.EMBED_TOKEN_PREFIX):
        raise MapsvcError("Send the embedded map's token in the Authorization header to log it out.",
                          code="embed_token_required")
    with current_app.extensions["mapsvc.db"].transaction() as session:
        accounts.revoke_token(session, token)
    return "", 204


@bp.get("/api/me")
def me():
    actor = current_actor()
    if not actor.is_authenticated:
        return {"user": None}
    from mapsvc.storage.models import User

    user = g.db_session.get(User, actor.user_id)
    return {"user": {"id": user.id, "display_name": user.display_name, "locale": user.locale,
                     "roles": [{"role": r, "platform_id": p, "layer_id": l} for r, p, l in sorted(
                         actor.grants, key=lambda t: (t[0], t[1], t[2] or 0))]},
            "csrf_token": generate_csrf()}
