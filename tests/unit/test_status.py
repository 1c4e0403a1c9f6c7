import pytest

from mapsvc.layers.status import StatusError, check_transition


@pytest.mark.parametrize("current, new", [
    ("submitted", "under_review"), ("under_review", "selected"), ("selected", "realised"),
])
def test_the_workflow_moves_forward(current, new):
    check_transition(current, new)


@pytest.mark.parametrize("current", ["submitted", "under_review", "selected"])
def test_rejection_needs_an_answer(current):
    with pytest.raises(StatusError, match="official answer"):
        check_transition(current, "rejected", "  ")
    check_transition(current, "rejected", "Te dicht bij een bestaande laadpaal.")


@pytest.mark.parametrize("current, new", [
    ("submitted", "selected"), ("submitted", "realised"), ("realised", "rejected"),
    ("rejected", "submitted"), ("under_review", "submitted"), ("submitted", "approved"),
])
def test_no_skipping_or_going_back(current, new):
    with pytest.raises(StatusError):
        check_transition(current, new, "answer")
