"""The status workflow of a citizen's suggestion."""

from __future__ import annotations

SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
SELECTED = "selected"
REALISED = "realised"
REJECTED = "rejected"

STATUSES = (SUBMITTED, UNDER_REVIEW, SELECTED, REALISED, REJECTED)

# submitted → under_review → selected → realised; rejected from any open step, with an answer.
TRANSITIONS: dict[str, frozenset[str]] = {
    SUBMITTED: frozenset({UNDER_REVIEW, REJECTED}),
    UNDER_REVIEW: frozenset({SELECTED, REJECTED}),
    SELECTED: frozenset({REALISED, REJECTED}),
    REALISED: frozenset(),
    REJECTED: frozenset(),
}


class StatusError(ValueError):
    """A status change the workflow does not allow."""


def check_transition(current: str, new: str, official_answer: str | None = None) -> None:
    """Raise StatusError unless a suggestion may go from `current` to `new`."""
    if new not in STATUSES:
        raise StatusError(f"Unknown status {new!r}; use one of: {', '.join(STATUSES)}.")
    if new not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none (it is final)"
        raise StatusError(f"A suggestion that is {current!r} cannot become {new!r}; allowed: {allowed}.")
    if new == REJECTED and not (official_answer and official_answer.strip()):
        raise StatusError("Rejecting a suggestion needs an official answer that explains why.")
