"""Change a platform's embedded look and a layer's participation rules, by the people allowed to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Forbidden
from mapsvc.layers.window import check_window
from mapsvc.services.catalogue import get_layer, get_platform
from mapsvc.services.permissions import INITIATIVE_MANAGER, Actor, can_administer
from mapsvc.services.privacy import check_policy, check_retention_days

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
PLATFORM_FIELDS = ("embed_origins", "colour_primary", "colour_secondary", "logo_url",
                   "deleted_account_pins", "deleted_account_votes", "voting_acr_values")
LAYER_FIELDS = ("opens_at", "closes_at", "voting_enabled", "votes_per_person", "duplicate_distance_m",
                "vote_retention_days", "premoderation")


def _unknown(body: Mapping, allowed: tuple[str, ...]) -> None:
    if not isinstance(body, Mapping):
        raise BadRequest("Send a JSON object with the settings to change.", code="invalid_json")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"Unknown setting(s): {', '.join(map(str, unknown))[:200]}; allowed: {', '.join(allowed)}.",
                         code="unknown_setting")


def origin(value: Any) -> str:
    """Check an origin that may frame the embed page: scheme and host (and port), nothing more."""
    if not isinstance(value, str):
        raise BadRequest("Each embed origin is text like https://www.poperinge.be.", code="invalid_origin")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or "*" in value or " " in value.strip():
        raise BadRequest(f"{value[:80]!r} is not an origin: write scheme and host only, e.g. "
                         "https://www.poperinge.be.", code="invalid_origin")
    return f"{parts.scheme}://{parts.netloc}"


def acr_values(value: Any) -> list[str]:
    """Check the assurance levels (OIDC acr) a vote needs: up to 10 non-empty texts; [] lets any login vote."""
    if not isinstance(value, list) or len(value) > 10 or not all(
            isinstance(v, str) and v.strip() and len(v.strip()) <= 200 for v in value):
        raise BadRequest("voting_acr_values is a list of at most 10 assurance levels (the provider's acr values, "
                         "e.g. [\"urn:be:vlaanderen:acm:niveau:substantieel\"]), or [] to let any login vote.",
                         code="invalid_acr_values")
    return list(dict.fromkeys(v.strip() for v in value))


def _moment(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date and time, e.g. 2026-09-01T00:00:00Z.",
                         code="invalid_datetime") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} needs a time zone (end it with Z for UTC, or +01:00).", code="invalid_datetime")
    return moment.astimezone(timezone.utc)


def update_platform(session: Session, actor: Actor, platform_slug: str, body: Mapping) -> dict:
    """Let a platform admin change which sites may embed its maps and how they look."""
    platform = get_platform(session, platform_slug)
    if not can_administer(actor, platform.id):
        raise Forbidden("Only an admin of this platform may change its settings.", code="not_allowed")
    _unknown(body, PLATFORM_FIELDS)
    if "embed_origins" in body:
        origins = body["embed_origins"]
        if not isinstance(origins, list) or len(origins) > 20:
            raise BadRequest("embed_origins is a list of at most 20 origins.", code="invalid_origin")
        platform.embed_origins = sorted({origin(o) for o in origins})
    for name in ("colour_primary", "colour_secondary"):
        if name in body:
            if not isinstance(body[name], str) or not COLOUR.match(body[name]):
                raise BadRequest(f"{name} is a colour like #00589c.", code="invalid_colour")
            setattr(platform, name, body[name].lower())
    if "logo_url" in body:
        url = body["logo_url"]
        if url is not None and (not isinstance(url, str) or urlsplit(url).scheme != "https" or len(url) > 2000):
            raise BadRequest("logo_url must be an https:// address (or null).", code="invalid_url")
        platform.logo_url = url
    if "voting_acr_values" in body:
        platform.voting_acr_values = acr_values(body["voting_acr_values"])
    for name in ("deleted_account_pins", "deleted_account_votes"):  # what an account deletion does here
        if name in body:
            setattr(platform, name, check_policy(name, body[name]))
    session.flush()
    return {name: getattr(platform, name) for name in PLATFORM_FIELDS}


def update_layer(session: Session, actor: Actor, platform_slug: str, layer_slug: str, body: Mapping) -> dict:
    """Let a platform admin, or the initiative manager of this layer, change its participation rules."""
    platform, layer = get_layer(session, platform_slug, layer_slug)
    if not (can_administer(actor, platform.id) or actor.has(INITIATIVE_MANAGER, platform.id, layer.id)):
        raise Forbidden("Only an admin of this platform or the manager of this layer may change it.",
                        code="not_allowed")
    _unknown(body, LAYER_FIELDS)
    opens = _moment("opens_at", body["opens_at"]) if "opens_at" in body else layer.opens_at
    closes = _moment("closes_at", body["closes_at"]) if "closes_at" in body else layer.closes_at
    try:
        check_window(opens, closes)
    except ValueError as exc:
        raise BadRequest(str(exc), code="invalid_window") from None
    layer.opens_at, layer.closes_at = opens, closes
    if "voting_enabled" in body:
        if not isinstance(body["voting_enabled"], bool):
            raise BadRequest("voting_enabled is true or false.", code="invalid_setting")
        layer.voting_enabled = body["voting_enabled"]
    if "votes_per_person" in body:
        value = body["votes_per_person"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100):
            raise BadRequest("votes_per_person is a whole number from 1 to 100, or null for no budget.",
                             code="invalid_setting")
        layer.votes_per_person = value
    if "duplicate_distance_m" in body:
        value = body["duplicate_distance_m"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1000:
            raise BadRequest("duplicate_distance_m is a number of metres from 0 (off) to 1000.", code="invalid_setting")
        layer.duplicate_distance_m = float(value)
    if "premoderation" in body:  # new pins wait for a moderator's approval; pins already there stay as they are
        if not isinstance(body["premoderation"], bool):
            raise BadRequest("premoderation is true or false.", code="invalid_setting")
        layer.premoderation = body["premoderation"]
    if "vote_retention_days" in body:
        layer.vote_retention_days = check_retention_days(body["vote_retention_days"])
    session.flush()
    stamp = lambda m: None if m is None else m.isoformat().replace("+00:00", "Z")  # noqa: E731
    answer = {"opens_at": stamp(layer.opens_at), "closes_at": stamp(layer.closes_at),
              "voting_enabled": layer.voting_enabled, "votes_per_person": layer.votes_per_person,
              "duplicate_distance_m": layer.duplicate_distance_m, "vote_retention_days": layer.vote_retention_days,
              "votes_unlinked_at": stamp(layer.votes_unlinked_at), "premoderation": layer.premoderation}
    if layer.votes_unlinked_at is not None and layer.voting_enabled:
        # The window may reopen (for new pins, say), but voting never does: the voting service refuses it.
        answer["warnings"] = [{"code": "votes_unlinked", "message": (
            "Who voted on this layer was deleted (vote retention), so it takes no new votes even while open: "
            "earlier voters could not be recognised. Open a new layer for a new round of voting.")}]
    return answer
