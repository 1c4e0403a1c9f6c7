"""Moderation: moderators hide, restore and approve pins; officials (and a layer's initiative manager) change a
suggestion's status with an official answer; residents flag a pin once. Every moderator's action writes a line of the audit trail and resolves
the pin's open flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.layers.status import REJECTED, STATUSES, TRANSITIONS, StatusError, check_transition
from mapsvc.services import notify
from mapsvc.services.catalogue import get_visible_layer
from mapsvc.services.permissions import Actor, can_answer, can_moderate
from mapsvc.storage import moderation as store
from mapsvc.storage.features import HIDDEN, PENDING, VISIBLE
from mapsvc.storage.models import Feature, Layer, Platform

REASON_MAX = 1000         # a moderator's reason for hiding or rejecting
FLAG_REASON_MAX = 500     # a resident's reason for flagging
ANSWER_MAX = 5000         # an official answer
QUEUE_MAX = 500

# The actions of the audit trail (ModerationEvent.action); a status change is "status:<new status>".
HIDE, REJECT, RESTORE, APPROVE, DISMISS, ANSWER = "hide", "reject", "restore", "approve", "dismiss_flags", "answer"


@dataclass
class Queue:
    """A page of a layer's moderation queue and how many pins match."""

    platform: Platform
    layer: Layer
    rows: list[store.QueueRow]
    total: int
    show: str
    limit: int
    offset: int


def moderated_layer(session: Session, actor: Actor, platform_slug: str, layer_slug: str) -> tuple[Platform, Layer]:
    """Return a layer the actor moderates: 401 for anonymous people, 403 for people without the role."""
    if not actor.is_authenticated:
        raise Unauthorized("Log in as a moderator or official of this platform to moderate.")
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    if not can_moderate(actor, platform.id, layer.id):
        raise Forbidden(f"Only moderators, officials and admins of {platform.slug!r} (or the manager of this layer) "
                        "may moderate it.", code="not_a_moderator")
    return platform, layer


def _feature(session: Session, layer: Layer, feature_id: int) -> Feature:
    feature = store.find_feature(session, layer.id, feature_id, lock=True)
    if feature is None:
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    return feature


def _text(value: Any, name: str, maximum: int, *, required: bool, code: str) -> str | None:
    """Read an optional or required free text; blank counts as missing."""
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be text.", code=f"invalid_{name}")
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationFailed(f"Give a {name.replace('_', ' ')}: {code.replace('_', ' ')}.",
                                   code=f"{name}_required")
        return None
    if len(value) > maximum:
        raise ValidationFailed(f"The {name.replace('_', ' ')} is {len(value)} characters long; at most {maximum}.",
                               code="too_long", details={"field": name, "max": maximum})
    return value


def _set_visibility(session: Session, actor: Actor, feature: Feature, visibility: str, action: str,
                    reason: str | None, now: datetime) -> Feature:
    feature.visibility, feature.moderated_at, feature.moderated_by = visibility, now, actor.user_id
    feature.moderation_reason = reason if visibility == HIDDEN else None
    feature.updated_at = now
    store.add_event(session, feature.id, actor.user_id, action, reason, now)
    store.resolve_flags(session, feature.id, now)
    session.flush()
    return feature


def hide(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, reason: Any, *,
         now: datetime) -> Feature:
    """Take a pin off the public map with a reason (a pending pin: reject it)."""
    _platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    reason = _text(reason, "reason", REASON_MAX, required=True, code="say why the pin goes off the map")
    feature = _feature(session, layer, feature_id)
    if feature.visibility == HIDDEN:
        raise Conflict("This pin is hidden already; restore it first to hide it for another reason.",
                       code="already_hidden")
    action = REJECT if feature.visibility == PENDING else HIDE
    return _set_visibility(session, actor, feature, HIDDEN, action, reason, now)


def reject(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, reason: Any, *,
           now: datetime) -> Feature:
    """Refuse a pending pin with a reason: it stays off the map (hidden)."""
    _platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    reason = _text(reason, "reason", REASON_MAX, required=True, code="say why the pin is refused")
    feature = _feature(session, layer, feature_id)
    if feature.visibility != PENDING:
        raise Conflict(f"Only a pending pin can be rejected; this one is {feature.visibility} (hide it instead).",
                       code="not_pending")
    return _set_visibility(session, actor, feature, HIDDEN, REJECT, reason, now)


def restore(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int,
            reason: Any = None, *, now: datetime) -> Feature:
    """Put a hidden pin back on the public map."""
    _platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    reason = _text(reason, "reason", REASON_MAX, required=False, code="")
    feature = _feature(session, layer, feature_id)
    if feature.visibility != HIDDEN:
        raise Conflict(f"Only a hidden pin can be restored; this one is {feature.visibility}.", code="not_hidden")
    return _set_visibility(session, actor, feature, VISIBLE, RESTORE, reason, now)


def approve(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, *,
            now: datetime) -> Feature:
    """Publish a pin that waits for pre-moderation."""
    _platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    feature = _feature(session, layer, feature_id)
    if feature.visibility != PENDING:
        raise Conflict(f"Only a pending pin can be approved; this one is {feature.visibility}.", code="not_pending")
    return _set_visibility(session, actor, feature, VISIBLE, APPROVE, None, now)


def dismiss_flags(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, *,
                  now: datetime) -> Feature:
    """Keep a flagged pin as it is: its open flags are resolved."""
    _platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    feature = _feature(session, layer, feature_id)
    if store.resolve_flags(session, feature.id, now) == 0:
        raise Conflict("This pin has no open flags.", code="no_open_flags")
    store.add_event(session, feature.id, actor.user_id, DISMISS, None, now)
    session.flush()
    return feature


def change_status(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int,
                  status: Any, official_answer: Any = None, *, now: datetime) -> Feature:
    """Move a suggestion along its workflow with an official answer (required to reject); the same status
    with an answer only replaces the answer. Officials and admins, or the layer's manager: not moderators."""
    platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    if not can_answer(actor, platform.id, layer.id):
        raise Forbidden(f"Only officials and admins of {platform.slug!r} (or the manager of this layer) change a "
                        "suggestion's status; moderators hide, restore and approve pins.", code="not_an_official")
    if not isinstance(status, str) or status not in STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(STATUSES)}; got {str(status)[:40]!r}.",
                         code="invalid_status")
    answer = _text(official_answer, "official_answer", ANSWER_MAX, required=status == REJECTED,
                   code="explain the decision to the resident")
    if layer.kind != SUGGESTIONS:
        raise Conflict(f"Layer {layer.slug!r} holds no suggestions; its features have no status.",
                       code="not_a_suggestion_layer")
    feature = _feature(session, layer, feature_id)
    old_status = feature.status
    if status == old_status:
        if answer is None:
            raise ValidationFailed("The suggestion has this status already; send an official_answer to change "
                                   "the answer.", code="official_answer_required")
        feature.official_answer, feature.updated_at = answer, now
        store.add_event(session, feature.id, actor.user_id, ANSWER, answer, now)
        session.flush()
        return feature
    try:
        check_transition(old_status, status, answer)
    except StatusError as exc:
        raise Conflict(str(exc), code="invalid_transition",
                       details={"status": old_status, "allowed": sorted(TRANSITIONS.get(old_status, ()))}) from None
    feature.status, feature.updated_at = status, now
    if answer is not None:
        feature.official_answer = answer
    store.add_event(session, feature.id, actor.user_id, f"status:{status}", answer, now)
    session.flush()
    notify.status_changed(session, feature, old_status, now=now)
    return feature


def flag(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int,
         reason: Any = None, *, now: datetime) -> None:
    """Let a logged-in person ask moderators to look at a public pin, once per pin."""
    if not actor.is_authenticated:
        raise Unauthorized("Log in to report a pin.")
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    reason = _text(reason, "reason", FLAG_REASON_MAX, required=False, code="")
    feature = store.find_feature(session, layer.id, feature_id)
    if feature is None or feature.visibility != VISIBLE:
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    if store.has_flagged(session, feature.id, actor.user_id):
        raise Conflict("You have reported this pin already; a moderator will look at it.", code="already_flagged")
    try:
        store.add_flag(session, feature.id, actor.user_id, reason, now)
    except IntegrityError:  # the same person reporting twice at the same moment
        raise Conflict("You have reported this pin already; a moderator will look at it.",
                       code="already_flagged") from None


def moderation_queue(session: Session, actor: Actor, platform_slug: str, layer_slug: str, *, show: str = "all",
                     limit: int = 100, offset: int = 0) -> Queue:
    """Return a layer's pins for its moderators: flagged first, then pending, then the newest."""
    platform, layer = moderated_layer(session, actor, platform_slug, layer_slug)
    if show not in store.SHOW:
        raise BadRequest(f"show must be one of: {', '.join(store.SHOW)}; got {show[:40]!r}.", code="invalid_show")
    limit = max(1, min(limit, QUEUE_MAX))
    rows, total = store.queue(session, layer.id, show=show, limit=limit, offset=max(0, offset))
    return Queue(platform, layer, rows, total, show, limit, offset)


def initial_visibility(actor: Actor, platform: Platform, layer: Layer) -> str:
    """Say how a new pin starts: pending on a pre-moderated layer, unless its moderators drop it themselves."""
    return PENDING if layer.premoderation and not can_moderate(actor, platform.id, layer.id) else VISIBLE
