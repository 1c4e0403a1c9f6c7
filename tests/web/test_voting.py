"""Voting: one vote per person (enforced by the database), budgets, windows, and counts under concurrency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from mapsvc.services import accounts
from mapsvc.storage.models import Feature, Vote, utcnow
from tests.web.conftest import bearer, pin, set_layer

LAYER = "/api/platforms/testdorp/layers/unpaving-spots"


@pytest.fixture
def spots(client, people):
    """Four unpaving spots dropped by the resident, 200 m apart."""
    return [client.post(f"{LAYER}/features", json=pin(i * 200.0), headers=bearer(people["resident"])).get_json()["id"]
            for i in range(4)]


def vote(client, person, feature_id, method="post"):
    return getattr(client, method)(f"{LAYER}/features/{feature_id}/vote", headers=bearer(person))


def test_vote_unvote_and_counts(client, people, spots):
    first = vote(client, people["neighbour"], spots[0])
    assert first.status_code == 201 and first.get_json() == {"vote_count": 1, "voted": True, "votes_left": 2,
                                                                "follow_offer": True}
    again = vote(client, people["neighbour"], spots[0])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_voted"
    assert vote(client, people["official"], spots[0]).get_json()["vote_count"] == 2
    listed = {f["id"]: f["properties"]["vote_count"] for f in client.get(f"{LAYER}/features").get_json()["features"]}
    assert listed[spots[0]] == 2 and listed[spots[1]] == 0
    undone = vote(client, people["neighbour"], spots[0], "delete")
    assert undone.status_code == 200 and undone.get_json() == {"vote_count": 1, "voted": False, "votes_left": 3}
    assert vote(client, people["neighbour"], spots[0], "delete").status_code == 404


def test_the_budget_of_three(client, people, spots):
    assert [vote(client, people["neighbour"], s).status_code for s in spots] == [201, 201, 201, 409]
    assert vote(client, people["neighbour"], spots[3]).get_json()["error"]["code"] == "vote_budget_exhausted"
    mine = client.get(f"{LAYER}/my-votes", headers=bearer(people["neighbour"])).get_json()
    assert mine == {"feature_ids": spots[:3], "votes_left": 0}
    vote(client, people["neighbour"], spots[0], "delete")
    assert vote(client, people["neighbour"], spots[3]).status_code == 201


def test_no_budget_means_no_limit(client, db, people, spots):
    set_layer(db, "unpaving-spots", votes_per_person=None)
    assert [vote(client, people["neighbour"], s).status_code for s in spots] == [201] * 4
    assert client.get(f"{LAYER}/my-votes", headers=bearer(people["neighbour"])).get_json()["votes_left"] is None


def test_voting_only_while_open_and_enabled(client, db, people, spots):
    set_layer(db, "unpaving-spots", closes_at=utcnow() - timedelta(minutes=1))
    closed = vote(client, people["neighbour"], spots[0])
    assert closed.status_code == 403 and closed.get_json()["error"]["code"] == "layer_closed"
    set_layer(db, "unpaving-spots", closes_at=utcnow() + timedelta(days=1), voting_enabled=False)
    assert vote(client, people["neighbour"], spots[0]).get_json()["error"]["code"] == "voting_disabled"


def test_no_votes_for_rejected_suggestions(client, db, people, spots):
    with db.transaction() as session:
        session.get(Feature, spots[0]).status = "rejected"
    assert vote(client, people["neighbour"], spots[0]).get_json()["error"]["code"] == "voting_finished"


def test_anonymous_cannot_vote_or_read_votes(client, people, spots):
    assert client.post(f"{LAYER}/features/{spots[0]}/vote").status_code == 401
    assert client.get(f"{LAYER}/my-votes").status_code == 401


def test_the_database_itself_refuses_a_second_vote(db, people, spots):
    with db.sessions() as session:
        layer_id = session.get(Feature, spots[0]).layer_id
        session.add_all([Vote(feature_id=spots[0], layer_id=layer_id, user_id=people["neighbour"].user_id,
                              created_at=utcnow()) for _ in range(2)])
        with pytest.raises(IntegrityError):
            session.commit()


def test_who_voted_is_not_in_any_public_answer(client, people, spots):
    vote(client, people["neighbour"], spots[0])
    texts = [client.get(f"{LAYER}/features").get_data(as_text=True),
             client.get(f"{LAYER}/features/{spots[0]}").get_data(as_text=True),
             client.get(LAYER).get_data(as_text=True)]
    for text in texts:
        assert people["neighbour"].email not in text and "Neighbour" not in text and people["neighbour"].token not in text


def test_many_people_voting_at_once_lose_no_vote(app, db, testdorp, people, spots):
    with db.transaction() as session:
        tokens = [accounts.issue_token(session, accounts.create_user(session, f"v{i}@testdorp.example", None), "t")
                  for i in range(24)]

    def cast(token):
        return app.test_client().post(f"{LAYER}/features/{spots[1]}/vote",
                                      headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(cast, tokens))
    assert statuses == [201] * 24
    assert app.test_client().get(f"{LAYER}/features/{spots[1]}").get_json()["properties"]["vote_count"] == 24


def test_one_person_at_once_never_exceeds_the_budget_or_votes_twice(app, people, spots):
    person = people["neighbour"]

    def cast(feature_id):
        return app.test_client().post(f"{LAYER}/features/{feature_id}/vote", headers=bearer(person)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(cast, spots * 3))  # 12 attempts at 4 spots, budget 3
    assert statuses.count(201) == 3 and statuses.count(409) == 9
    mine = app.test_client().get(f"{LAYER}/my-votes", headers=bearer(person)).get_json()
    assert len(mine["feature_ids"]) == len(set(mine["feature_ids"])) == 3 and mine["votes_left"] == 0
