"""Following: a resident opts in to updates on a platform, a theme, a layer or one pin; unsubscribe links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, NotFound, Unauthorized
from mapsvc.services.catalogue import get_platform, get_visible_layer, may_see
from mapsvc.services.following_mail import ALL, DIGEST, FOLLOW, OWN, PREFERENCES_PATH, account_stamp, read_token
from mapsvc.services.following_text import localised, mail_text, theme_name
from mapsvc.services.permissions import Actor
from mapsvc.storage import catalogue as catalogue_store
from mapsvc.storage import following as store
from mapsvc.storage.models import Feature, Follow, Layer, Platform, User

FOLLOW_KEYS = ("platform", "layer", "feature", "theme")
PREFERENCE_KEYS = ("follows", "weekly_digest", "own_pin_updates")
MAX_FOLLOWS = 500


@dataclass(frozen=True)
class Scope:
    """What one follow covers, by id."""

    platform_id: int
    layer_id: int | None = None
    feature_id: int | None = None
    theme: str | None = None


def _user(session: Session, actor: Actor) -> User:
    if not actor.is_authenticated:
        raise Unauthorized("Log in to follow platforms, themes, layers or pins.")
    return session.get(User, actor.user_id)


def platform_themes(platform: Platform) -> list[str]:
    """Return the themes of a platform's public layers, in layer order, each once."""
    themes: list[str] = []
    for layer in platform.layers:
        for theme in (layer.themes or []) if layer.is_public else []:
            if theme not in themes:
                themes.append(theme)
    return themes


def _visible_feature(session: Session, layer: Layer, feature_id: int) -> Feature:
    feature = session.get(Feature, feature_id)
    if feature is None or feature.layer_id != layer.id or feature.visibility != "visible":
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    return feature


def follow_layer(session: Session, actor: Actor, platform_slug: str, layer_slug: str, *, now: datetime,
                 feature_id: int | None = None) -> dict[str, Any]:
    """Follow a layer (or one pin of it); following twice changes nothing."""
    user = _user(session, actor)
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    if feature_id is not None:
        _visible_feature(session, layer, feature_id)
    _follow, created = store.add_follow(session, user.id, platform.id, layer_id=layer.id, feature_id=feature_id,
                                        now=now)
    return {"following": True, "created": created}


def unfollow_layer(session: Session, actor: Actor, platform_slug: str, layer_slug: str, *,
                   feature_id: int | None = None) -> dict[str, Any]:
    """Stop following a layer (or one pin of it); not following is not an error."""
    user = _user(session, actor)
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    removed = store.remove_follow(session, user.id, platform.id, layer_id=layer.id, feature_id=feature_id)
    return {"following": False, "removed": bool(removed)}


def follow_offer(session: Session, actor: Actor, feature_id: int) -> bool:
    """Say whether to offer a contributor (new pin, vote) to follow the pin's layer: not yet, and mailable.

    Only an offer: nothing is followed until the person says so.
    """
    if not actor.is_authenticated:
        return False
    user, feature = session.get(User, actor.user_id), session.get(Feature, feature_id)
    if user is None or feature is None or not user.email or not user.is_active:
        return False
    layer = session.get(Layer, feature.layer_id)
    return store.find_follow(session, user.id, layer.platform_id, layer_id=layer.id) is None


def is_following_layer(session: Session, actor: Actor, layer: Layer) -> bool | None:
    """Say whether the actor follows the whole layer (None for anonymous visitors)."""
    if not actor.is_authenticated:
        return None
    return store.find_follow(session, actor.user_id, layer.platform_id, layer_id=layer.id) is not None


def describe(session: Session, follow: Follow, language: str) -> str:
    """Name what a follow covers, in a language ("the map “Unpaving” of Poperinge")."""
    platform = session.get(Platform, follow.platform_id)
    platform_name = localised(platform, "name", language)
    if follow.feature_id is not None:
        feature = session.get(Feature, follow.feature_id)
        title = (feature.properties or {}).get("title") or (feature.properties or {}).get("name")
        if feature.visibility != "visible":  # hidden by a moderator since: its text is no longer shown
            title = f"#{feature.id}"
        return mail_text("scope.feature", language, title=title or mail_text("untitled", language))
    if follow.layer_id is not None:
        layer = session.get(Layer, follow.layer_id)
        return mail_text("scope.layer", language, layer=localised(layer, "title", language), platform=platform_name)
    if follow.theme is not None:
        return mail_text("scope.theme", language, theme=theme_name(follow.theme, language), platform=platform_name)
    return mail_text("scope.platform", language, platform=platform_name)


def _follow_json(session: Session, follow: Follow, language: str) -> dict[str, Any]:
    platform = session.get(Platform, follow.platform_id)
    layer = session.get(Layer, follow.layer_id) if follow.layer_id is not None else None
    return {"id": follow.id, "platform": platform.slug, "layer": layer.slug if layer else None,
            "feature": follow.feature_id, "theme": follow.theme, "label": describe(session, follow, language),
            "created_at": follow.created_at.isoformat()}


def my_follows(session: Session, actor: Actor, language: str = "nl") -> dict[str, Any]:
    """Return the actor's follows and e-mail preferences."""
    user = _user(session, actor)
    return {"weekly_digest": bool(user.weekly_digest), "own_pin_updates": bool(user.own_pin_updates),
            "follows": [_follow_json(session, f, language) for f in store.follows_of(session, user.id)]}


def _text(item: Mapping, key: str) -> str | None:
    value = item.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadRequest(f"{key} must be a non-empty text (a slug).", code="invalid_follow")
    return value.strip() if value is not None else None


def parse_scope(session: Session, actor: Actor, item: Any, kept: frozenset[Scope] = frozenset()) -> Scope:
    """Check one follow of a request ({"platform", "layer"?, "feature"?, "theme"?}) and resolve it to ids.

    A pin follow in `kept` (one the person has already) is accepted whatever the pin's visibility now, so a
    pin hidden after it was followed does not make the person's own list unsavable.
    """
    if not isinstance(item, Mapping):
        raise BadRequest('Each follow is an object like {"platform": "poperinge", "theme": "energie"}.',
                         code="invalid_follow")
    unknown = sorted(set(item) - set(FOLLOW_KEYS))
    if unknown:
        raise BadRequest(f"Unknown key(s) in a follow: {', '.join(unknown)}; use {', '.join(FOLLOW_KEYS)}.",
                         code="invalid_follow")
    platform_slug, layer_slug, theme = _text(item, "platform"), _text(item, "layer"), _text(item, "theme")
    feature_id = item.get("feature")
    if platform_slug is None:
        raise BadRequest("Each follow names its platform.", code="invalid_follow")
    if feature_id is not None and (not isinstance(feature_id, int) or isinstance(feature_id, bool)
                                   or layer_slug is None):
        raise BadRequest("feature is a pin's id (a whole number) and needs its layer.", code="invalid_follow")
    if theme is not None and layer_slug is not None:
        raise BadRequest("Follow a theme or a layer, not both in one follow.", code="invalid_follow")
    if layer_slug is not None:
        platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
        if feature_id is not None and Scope(platform.id, layer.id, feature_id) not in kept:
            _visible_feature(session, layer, feature_id)
        return Scope(platform.id, layer.id, feature_id)
    platform = get_platform(session, platform_slug)
    if theme is not None and theme not in platform_themes(platform):
        known = ", ".join(platform_themes(platform)) or "none"
        raise BadRequest(f"Platform {platform.slug!r} has no theme {theme[:64]!r}; its themes: {known}.",
                         code="unknown_theme")
    return Scope(platform.id, theme=theme)


def _flag(body: Mapping, key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{key} must be true or false.", code="invalid_preferences")
    return value


def set_preferences(session: Session, actor: Actor, body: Any, *, now: datetime,
                    language: str = "nl") -> dict[str, Any]:
    """Replace what the actor follows and their e-mail choices with the given ones (keys left out stay)."""
    user = _user(session, actor)
    if not isinstance(body, Mapping):
        raise BadRequest('Send a JSON object like {"follows": [...], "weekly_digest": false}.',
                         code="invalid_preferences")
    unknown = sorted(set(body) - set(PREFERENCE_KEYS))
    if unknown:
        raise BadRequest(f"Unknown key(s): {', '.join(unknown)}; use {', '.join(PREFERENCE_KEYS)}.",
                         code="invalid_preferences")
    digest, own = _flag(body, "weekly_digest"), _flag(body, "own_pin_updates")
    if "follows" in body:
        items = body["follows"]
        if not isinstance(items, list) or len(items) > MAX_FOLLOWS:
            raise BadRequest(f"follows must be a list of at most {MAX_FOLLOWS} follows.", code="invalid_preferences")
        current = {Scope(f.platform_id, f.layer_id, f.feature_id, f.theme): f for f in store.follows_of(session, user.id)}
        wanted = {parse_scope(session, actor, item, frozenset(current)) for item in items}
        for scope, follow in current.items():
            if scope not in wanted:
                store.remove_follow_by_id(session, user.id, follow.id)
        for scope in wanted - set(current):  # kept follows keep their id, so older mail links still work
            store.add_follow(session, user.id, scope.platform_id, layer_id=scope.layer_id,
                             feature_id=scope.feature_id, theme=scope.theme, now=now)
    if digest is not None:
        user.weekly_digest = digest
    if own is not None:
        user.own_pin_updates = own
    session.flush()
    return my_follows(session, actor, language)


def preference_choices(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Return, per platform, what can be followed (whole platform, themes, public layers) and the pins followed."""
    user = _user(session, actor)
    follows = store.follows_of(session, user.id)
    followed = {(f.platform_id, f.layer_id, f.feature_id, f.theme) for f in follows}
    choices = []
    for platform in catalogue_store.list_platforms(session):
        layers = [layer for layer in platform.layers if may_see(actor, platform, layer)]
        choices.append({
            "platform": platform,
            "all": (platform.id, None, None, None) in followed,
            "themes": [(theme, (platform.id, None, None, theme) in followed) for theme in platform_themes(platform)],
            "layers": [(layer, (platform.id, layer.id, None, None) in followed) for layer in layers],
            # Every pin followed, also one hidden since: left out, saving the form would drop its follow.
            "features": [(session.get(Layer, f.layer_id), session.get(Feature, f.feature_id)) for f in follows
                         if f.platform_id == platform.id and f.feature_id is not None],
        })
    return choices


@dataclass
class UnsubscribeOrder:
    """What an unsubscribe link asks, and whether there is still something to stop."""

    scope: str
    user_id: int
    follow_id: int | None
    label: str | None  # what the follow covers, in the asked language
    active: bool


def read_unsubscribe(session: Session, secret_key: str, token: str, language: str) -> UnsubscribeOrder:
    """Check an unsubscribe link and say what it would stop (a bad or changed link is a 400)."""
    payload = read_token(secret_key, token)
    user = session.get(User, payload["u"])
    scope, follow_id = payload["s"], payload.get("f")
    if user is None:
        return UnsubscribeOrder(scope, payload["u"], follow_id, None, False)
    if account_stamp(user.created_at) != payload["c"]:
        # The account the mail went to was deleted and its id given to a new one: not theirs to change.
        raise BadRequest("This unsubscribe link belongs to an account that no longer exists, so it changes "
                         f"nothing. To change your own e-mail preferences, log in and go to {PREFERENCES_PATH}.",
                         code="unsubscribe_link_other_account")
    if scope == FOLLOW:
        follow = store.get_follow(session, follow_id)
        if follow is None or follow.user_id != user.id:
            return UnsubscribeOrder(scope, user.id, follow_id, None, False)
        return UnsubscribeOrder(scope, user.id, follow_id, describe(session, follow, language), True)
    active = {OWN: bool(user.own_pin_updates), DIGEST: bool(user.weekly_digest),
              ALL: bool(user.own_pin_updates or user.weekly_digest or store.follows_of(session, user.id))}[scope]
    return UnsubscribeOrder(scope, user.id, None, None, active)


def unsubscribe(session: Session, secret_key: str, token: str, language: str) -> UnsubscribeOrder:
    """Carry out an unsubscribe link: remove the follow, or stop that kind of mail, or all mail."""
    order = read_unsubscribe(session, secret_key, token, language)
    user = session.get(User, order.user_id)
    if user is None or not order.active:
        return order
    if order.scope == FOLLOW:
        store.remove_follow_by_id(session, user.id, order.follow_id)
    if order.scope in (OWN, ALL):
        user.own_pin_updates = False
    if order.scope in (DIGEST, ALL):
        user.weekly_digest = False
    if order.scope == ALL:
        store.remove_all_follows(session, user.id)
    session.flush()
    return order
