"""The list view of a suggestion layer: its public suggestions, sorted and paged, for keyboard and screen readers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, NotFound
from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.services.catalogue import get_visible_layer
from mapsvc.services.permissions import Actor
from mapsvc.storage import suggestion_list as store
from mapsvc.storage.suggestion_list import SORTS, ListedSuggestion


@dataclass(frozen=True)
class SuggestionPage:
    """One page of the list and where it sits in the whole."""

    total: int
    sort: str
    limit: int
    offset: int
    items: list[ListedSuggestion]


def list_suggestions(session: Session, actor: Actor, platform_slug: str, layer_slug: str, *, sort: str,
                     limit: int, offset: int) -> SuggestionPage:
    """Return a page of a suggestion layer's public suggestions (and the actor's own pending pins), marked."""
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}.", code="invalid_parameter")
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    if layer.kind != SUGGESTIONS:
        raise NotFound(f"Layer {layer.slug!r} holds no suggestions, so it has no list of them; its features are "
                       f"at /api/platforms/{_platform.slug}/layers/{layer.slug}/features.",
                       code="not_a_suggestion_layer")
    items = store.page_of_suggestions(session, layer.id, sort=sort, limit=limit, offset=offset,
                                      viewer_id=actor.user_id)
    return SuggestionPage(store.count_listed(session, layer.id, actor.user_id), sort, limit, offset, items)
