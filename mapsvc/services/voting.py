"""Supporting suggestions: one vote per person per suggestion, an optional budget per layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapsvc.errors import Conflict, Forbidden, NotFound, Unauthorized
from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.layers.status import REALISED, REJECTED
from mapsvc.layers.window import window_state
from mapsvc.services.catalogue import get_visible_layer
from mapsvc.services.permissions import Actor, can_contribute
from mapsvc.storage import accounts as account_store
from mapsvc.storage import votes as store
from mapsvc.storage.models import Feature, Layer


@dataclass
class VoteState:
    """A feature's count and the asking person's own position."""

    vote_count: int
    voted: bool
    votes_left: int | None  # None: no budget on this layer

    def to_json(self) -> dict:
        """Render for the API."""
        return {"vote_count": self.vote_count, "voted": self.voted, "votes_left": self.votes_left}


def _voting_layer(layer: Layer, now: datetime) -> None:
    if layer.kind != SUGGESTIONS or not layer.voting_enabled:
        raise Forbidden(f"Voting is not switched on for layer {layer.slug!r}.", code="voting_disabled")
    if layer.votes_unlinked_at is not None:
        # Who voted was forgotten (retention): nobody's earlier votes can be recognised any more, so a reopened
        # window would let everyone vote a second time and budgets would start again from zero.
        raise Forbidden(f"Voting on layer {layer.slug!r} is over for good: who voted was deleted after it closed "
                        "(vote retention), so new votes cannot be checked against earlier ones. The votes cast "
                        "stay counted; open a new layer for a new round of voting.", code="votes_unlinked")
    if window_state(layer.opens_at, layer.closes_at, now) != "open":
        raise Forbidden("Voting is only possible while the participation moment is open.", code="layer_closed")


def _feature(session: Session, layer: Layer, feature_id: int) -> Feature:
    feature = session.get(Feature, feature_id)
    if feature is None or feature.layer_id != layer.id:
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    return feature


def _left(session: Session, layer: Layer, user_id: int) -> int | None:
    if layer.votes_per_person is None:
        return None
    return max(0, layer.votes_per_person - store.votes_used(session, layer.id, user_id))


def _state(session: Session, layer: Layer, feature_id: int, user_id: int) -> VoteState:
    return VoteState(store.vote_counts(session, [feature_id])[feature_id],
                     store.has_voted(session, feature_id, user_id), _left(session, layer, user_id))


def cast_vote(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, *,
              now: datetime) -> VoteState:
    """Record the actor's vote for a suggestion, within the layer's window and budget."""
    if not can_contribute(actor):
        raise Unauthorized("Log in to vote.")
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    _voting_layer(layer, now)
    # Only an acr from the instance's provider or this platform's own provider counts here.
    if platform.voting_acr_values and actor.acr_on(platform.id) not in platform.voting_acr_values:
        raise Forbidden("Voting on this platform needs the government login at a sufficient assurance level: "
                        "log in with the government login to vote.", code="assurance_level_required",
                        details={"acr_values": list(platform.voting_acr_values)})
    feature = _feature(session, layer, feature_id)
    if feature.visibility != "visible":  # hidden or waiting for approval: not on the public map
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    if feature.status in (REJECTED, REALISED):
        raise Conflict(f"This suggestion is {feature.status}; it takes no more votes.", code="voting_finished")
    account_store.lock_user(session, actor.user_id)  # one person's votes one after another (budget)
    if store.has_voted(session, feature.id, actor.user_id):
        raise Conflict("You support this suggestion already.", code="already_voted")
    left = _left(session, layer, actor.user_id)
    if left == 0:
        raise Conflict(f"You have used all {layer.votes_per_person} votes of this layer; withdraw one to vote here.",
                       code="vote_budget_exhausted")
    try:
        store.add_vote(session, feature.id, layer.id, actor.user_id, now)
    except IntegrityError:  # the same person voting twice at the same moment
        raise Conflict("You support this suggestion already.", code="already_voted") from None
    return _state(session, layer, feature.id, actor.user_id)


def withdraw_vote(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, *,
                  now: datetime) -> VoteState:
    """Remove the actor's vote while voting is open, also on a pin moderators hid or that waits for approval."""
    if not can_contribute(actor):
        raise Unauthorized("Log in to withdraw a vote.")
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    _voting_layer(layer, now)
    feature = _feature(session, layer, feature_id)  # whatever its visibility: a person may take back their vote
    if store.remove_vote(session, feature.id, actor.user_id) == 0:
        if feature.visibility != "visible":  # to anyone but its voters, a pin off the map does not exist
            raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
        raise NotFound("You had not voted for this suggestion.", code="not_voted")
    return _state(session, layer, feature.id, actor.user_id)


def my_votes(session: Session, actor: Actor, platform_slug: str, layer_slug: str) -> tuple[list[int], int | None]:
    """Return the features the actor supports on a layer and the votes they have left."""
    if not can_contribute(actor):
        raise Unauthorized("Log in to see your votes.")
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    return store.voted_features(session, layer.id, actor.user_id), _left(session, layer, actor.user_id)
