"""Who may do what: plain functions of an actor and a resource (no request, no database)."""

from __future__ import annotations

from dataclasses import dataclass

CITIZEN = "citizen"
MODERATOR = "moderator"
OFFICIAL = "official"
ADMIN = "admin"
INITIATIVE_MANAGER = "initiative_manager"
ROLES = (MODERATOR, OFFICIAL, ADMIN, INITIATIVE_MANAGER)


@dataclass(frozen=True)
class Actor:
    """The person behind a request: a user id, their grants as (role, platform_id, layer_id), and the
    assurance level (OpenID Connect `acr`) of their login, None for a local login. `acr_scope` says where
    that acr counts: None in it for every platform (the instance's provider vouched for it), else the ids of
    the platforms whose own provider did."""

    user_id: int | None
    grants: frozenset[tuple[str, int, int | None]] = frozenset()
    acr: str | None = None
    acr_scope: frozenset[int | None] = frozenset()

    @property
    def is_authenticated(self) -> bool:
        """Say whether the actor is logged in."""
        return self.user_id is not None

    def has(self, role: str, platform_id: int, layer_id: int | None = None) -> bool:
        """Say whether the actor holds `role` on the platform (and layer)."""
        return (role, platform_id, layer_id) in self.grants

    def acr_on(self, platform_id: int) -> str | None:
        """Return the login's acr where it counts on this platform (its provider or the instance's), else None."""
        return self.acr if None in self.acr_scope or platform_id in self.acr_scope else None


ANONYMOUS = Actor(None)


def is_official(actor: Actor, platform_id: int) -> bool:
    """Officials and admins of the platform see moderation detail and run rankings and rollout plans."""
    return actor.has(OFFICIAL, platform_id) or actor.has(ADMIN, platform_id)


def can_moderate(actor: Actor, platform_id: int, layer_id: int | None = None) -> bool:
    """Moderators, officials and admins moderate a platform; an initiative manager moderates their layer."""
    return (actor.has(MODERATOR, platform_id) or is_official(actor, platform_id)
            or (layer_id is not None and actor.has(INITIATIVE_MANAGER, platform_id, layer_id)))


def can_answer(actor: Actor, platform_id: int, layer_id: int) -> bool:
    """Officials and admins of the platform, and the layer's initiative manager, decide on suggestions: they
    change a suggestion's status with an official answer (moderators do not)."""
    return is_official(actor, platform_id) or actor.has(INITIATIVE_MANAGER, platform_id, layer_id)


def can_administer(actor: Actor, platform_id: int) -> bool:
    """Admins change a platform's settings and grant roles on it."""
    return actor.has(ADMIN, platform_id)


def can_contribute(actor: Actor) -> bool:
    """Any logged-in person may drop pins and vote (the layer's own rules come on top)."""
    return actor.is_authenticated


def can_edit_pin(actor: Actor, author_id: int | None) -> bool:
    """Authors edit or withdraw their own pin (while it is still submitted: the caller checks that)."""
    return actor.is_authenticated and author_id is not None and actor.user_id == author_id
