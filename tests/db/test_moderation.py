"""Moderation on both backends: the use cases, and that hidden and pending pins stay off every public surface."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from shapely.geometry import shape

from mapsvc.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from mapsvc.services import accounts, moderation, suggestions
from mapsvc.services.permissions import ANONYMOUS
from mapsvc.storage import moderation as moderation_store
from mapsvc.storage.models import Feature, Flag, Layer, OutgoingMail, Vote, utcnow
from tests.web.conftest import bearer, people, pin, set_layer, testdorp  # noqa: F401 (fixtures)

P, L = "testdorp", "unpaving-spots"
API = f"/api/platforms/{P}/layers/{L}"


@pytest.fixture
def app(make_app):
    """The app with the settings the mails of a status change need (links in them, signed unsubscribe tokens)."""
    return make_app(PUBLIC_URL="https://kaart.testdorp.example", SECRET_KEY="moderation-tests-secret")


def actor(session, person):
    return accounts.actor_for(session, person.user_id)


def drop(db, person, east_m: float, title: str, *, layer: str = L, when=None) -> int:
    """Store a suggestion by `person` (east_m metres east of the centre, far enough apart to be no duplicate)."""
    with db.transaction() as session:
        feature, _geometry, _votes = suggestions.create_suggestion(
            session, actor(session, person), P, layer, pin(east_m, title=title), now=utcnow(), allow_nearby=True)
        if when is not None:
            feature.created_at = when
        return feature.id


def act(db, name, person, feature_id, *args, layer: str = L, **kwargs):
    """Run a moderation use case as `person`; return the feature's (visibility, status, reason)."""
    with db.transaction() as session:
        feature = getattr(moderation, name)(session, actor(session, person), P, layer, feature_id, *args,
                                            now=utcnow(), **kwargs)
        return feature.visibility, feature.status, feature.moderation_reason


def events(db, feature_id):
    with db.transaction() as session:
        return [(e.action, e.reason) for e in moderation_store.events_of(session, feature_id)]


def test_hide_and_restore_with_reason_and_audit_trail(db, people):
    fid = drop(db, people["resident"], 0, "Schelden op de buren")
    assert act(db, "hide", people["moderator"], fid, "  Beledigend  ") == ("hidden", "submitted", "Beledigend")
    with pytest.raises(Conflict) as hidden_twice:
        act(db, "hide", people["moderator"], fid, "nog eens")
    assert hidden_twice.value.code == "already_hidden"
    assert act(db, "restore", people["official"], fid) == ("visible", "submitted", None)
    with pytest.raises(Conflict) as not_hidden:
        act(db, "restore", people["official"], fid)
    assert not_hidden.value.code == "not_hidden"
    assert events(db, fid) == [("hide", "Beledigend"), ("restore", None)]
    with db.transaction() as session:
        feature = session.get(Feature, fid)
        assert feature.moderated_by == people["official"].user_id and feature.moderated_at is not None


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_hiding_needs_a_reason(db, people, reason):
    fid = drop(db, people["resident"], 0, "Een pin")
    with pytest.raises(ValidationFailed) as missing:
        act(db, "hide", people["moderator"], fid, reason)
    assert missing.value.code == "reason_required"
    with db.transaction() as session:
        assert session.get(Feature, fid).visibility == "visible"
    assert events(db, fid) == []


def test_who_may_moderate(db, people):
    fid = drop(db, people["resident"], 0, "Een pin")
    with pytest.raises(Unauthorized):
        with db.transaction() as session:
            moderation.hide(session, ANONYMOUS, P, L, fid, "x", now=utcnow())
    for name in ("resident", "neighbour"):
        with pytest.raises(Forbidden) as refused:
            act(db, "hide", people[name], fid, "x")
        assert refused.value.code == "not_a_moderator"
    # The initiative manager moderates their own layer, not the others.
    assert act(db, "hide", people["manager"], fid, "dubbel")[0] == "hidden"
    other = drop(db, people["resident"], 0, "Kerststal", layer="christmas-village")
    with pytest.raises(Forbidden):
        act(db, "hide", people["manager"], other, "x", layer="christmas-village")
    act(db, "restore", people["manager"], fid)
    for name in ("moderator", "official", "admin"):
        assert act(db, "hide", people[name], fid, f"door {name}")[0] == "hidden"
        assert act(db, "restore", people[name], fid)[0] == "visible"


def test_premoderation_keeps_new_pins_pending_until_approved(db, people):
    set_layer(db, L, premoderation=True)
    fid = drop(db, people["resident"], 0, "Wacht op goedkeuring")
    own = drop(db, people["moderator"], 300, "Van de moderator zelf")
    with db.transaction() as session:
        assert session.get(Feature, fid).visibility == "pending"
        assert session.get(Feature, own).visibility == "visible"
    with pytest.raises(Conflict) as not_pending:
        act(db, "approve", people["moderator"], own)
    assert not_pending.value.code == "not_pending"
    assert act(db, "approve", people["moderator"], fid)[0] == "visible"
    assert events(db, fid) == [("approve", None)]


def test_rejecting_a_pending_pin_hides_it_with_the_reason(db, people):
    set_layer(db, L, premoderation=True)
    first, second = drop(db, people["resident"], 0, "Reclame"), drop(db, people["resident"], 300, "Ook reclame")
    assert act(db, "reject", people["moderator"], first, "Reclame") == ("hidden", "submitted", "Reclame")
    assert act(db, "hide", people["moderator"], second, "Reclame") == ("hidden", "submitted", "Reclame")
    assert events(db, first) == [("reject", "Reclame")] and events(db, second) == [("reject", "Reclame")]
    with pytest.raises(Conflict):
        act(db, "reject", people["moderator"], first, "nogmaals")


def test_an_edited_pin_on_a_premoderated_layer_waits_again(db, people):
    fid = drop(db, people["resident"], 0, "Eerst zichtbaar")
    set_layer(db, L, premoderation=True)
    with db.transaction() as session:
        suggestions.update_suggestion(session, actor(session, people["resident"]), P, L, fid,
                                      pin(0, title="Nu met een link naar een webshop"), now=utcnow())
        assert session.get(Feature, fid).visibility == "pending"


def mails(db) -> list[tuple[str | None, str | None]]:
    """The queued mails: (dedupe key, address)."""
    with db.transaction() as session:
        return [(m.dedupe_key, m.to_address) for m in session.query(OutgoingMail).order_by(OutgoingMail.id)]


def test_status_changes_follow_the_workflow_with_an_official_answer(db, people):
    fid = drop(db, people["resident"], 0, "Speelplaats ontharden")
    assert act(db, "change_status", people["official"], fid, "under_review", "We bekijken het.")[1] == "under_review"
    assert mails(db) == []  # "under review" is a step inside the town hall: no mail
    with pytest.raises(ValidationFailed) as no_answer:
        act(db, "change_status", people["official"], fid, "rejected", "  ")
    assert no_answer.value.code == "official_answer_required"
    with pytest.raises(BadRequest) as unknown:
        act(db, "change_status", people["official"], fid, "approved", "ok")
    assert unknown.value.code == "invalid_status"
    with pytest.raises(Conflict) as skipping:
        act(db, "change_status", people["official"], fid, "realised", "klaar")
    assert skipping.value.code == "invalid_transition"
    assert act(db, "change_status", people["official"], fid, "rejected", "Te weinig ruimte.")[1] == "rejected"
    with db.transaction() as session:
        assert session.get(Feature, fid).official_answer == "Te weinig ruimte."
    # The author hears of the decision (own_pin_updates is on by default), once.
    resident = people["resident"]
    assert mails(db) == [(f"status:{fid}:rejected:{resident.user_id}", resident.email)]
    assert events(db, fid) == [("status:under_review", "We bekijken het."), ("status:rejected", "Te weinig ruimte.")]


def test_only_officials_and_the_layers_manager_change_a_status(db, people):
    fid = drop(db, people["resident"], 0, "Speelplaats ontharden")
    with pytest.raises(Forbidden) as moderator:
        act(db, "change_status", people["moderator"], fid, "under_review", "We bekijken het.")
    assert moderator.value.code == "not_an_official"
    assert act(db, "hide", people["moderator"], fid, "Dubbel")[0] == "hidden"  # moderators still moderate
    act(db, "restore", people["moderator"], fid)
    assert act(db, "change_status", people["manager"], fid, "under_review", "Bekeken")[1] == "under_review"
    assert act(db, "change_status", people["admin"], fid, "selected", "Komt er")[1] == "selected"
    other = drop(db, people["resident"], 0, "Kerststal", layer="christmas-village")
    with pytest.raises(Forbidden):  # the manager of the unpaving layer, not of the Christmas village
        act(db, "change_status", people["manager"], other, "under_review", "x", layer="christmas-village")
    assert events(db, fid) == [("hide", "Dubbel"), ("restore", None), ("status:under_review", "Bekeken"),
                               ("status:selected", "Komt er")]


def test_a_person_flags_a_pin_once(db, people):
    fid = drop(db, people["resident"], 0, "Een pin")
    with db.transaction() as session:
        moderation.flag(session, actor(session, people["neighbour"]), P, L, fid, "Dubbel met de pin ernaast",
                        now=utcnow())
    with pytest.raises(Conflict) as again:
        with db.transaction() as session:
            moderation.flag(session, actor(session, people["neighbour"]), P, L, fid, None, now=utcnow())
    assert again.value.code == "already_flagged"
    with pytest.raises(ValidationFailed) as too_long:
        with db.transaction() as session:
            moderation.flag(session, actor(session, people["admin"]), P, L, fid, "x" * 501, now=utcnow())
    assert too_long.value.code == "too_long"
    with pytest.raises(Unauthorized):
        with db.transaction() as session:
            moderation.flag(session, ANONYMOUS, P, L, fid, None, now=utcnow())
    act(db, "hide", people["moderator"], fid, "Dubbel")
    with pytest.raises(NotFound):  # a hidden pin cannot be flagged (nor found)
        with db.transaction() as session:
            moderation.flag(session, actor(session, people["admin"]), P, L, fid, None, now=utcnow())
    with db.transaction() as session:
        flags = session.query(Flag).filter_by(feature_id=fid).all()
        assert len(flags) == 1 and flags[0].resolved_at is not None  # hiding resolved the open flag


def test_queue_puts_flagged_first_then_pending_then_newest(db, people):
    now = utcnow()
    old = drop(db, people["resident"], 0, "oud", when=now - timedelta(days=3))
    new = drop(db, people["resident"], 300, "nieuw", when=now - timedelta(days=1))
    once = drop(db, people["resident"], 600, "een keer gemeld", when=now - timedelta(days=5))
    twice = drop(db, people["resident"], 900, "twee keer gemeld", when=now - timedelta(days=6))
    set_layer(db, L, premoderation=True)
    waiting = drop(db, people["resident"], 1200, "wacht", when=now - timedelta(days=4))
    with db.transaction() as session:
        for flagger, fid in (("neighbour", once), ("neighbour", twice), ("admin", twice)):
            moderation.flag(session, actor(session, people[flagger]), P, L, fid,
                            "Niet op deze plek" if flagger == "admin" else None, now=now)

    def order(**kwargs):
        with db.transaction() as session:
            queue = moderation.moderation_queue(session, actor(session, people["moderator"]), P, L, **kwargs)
            return [r.feature.id for r in queue.rows], {r.feature.id: (r.open_flags, r.flag_reasons)
                                                        for r in queue.rows}, queue.total

    ids, flags, total = order()
    assert ids == [twice, once, waiting, new, old] and total == 5
    assert flags[twice] == (2, ("Niet op deze plek",)) and flags[once] == (1, ()) and flags[new] == (0, ())
    assert order(show="flagged")[0] == [twice, once]
    assert order(show="pending")[0] == [waiting]
    assert order(limit=2, offset=2)[0] == [waiting, new] and order(limit=2, offset=2)[2] == 5
    with db.transaction() as session:
        moderation.dismiss_flags(session, actor(session, people["moderator"]), P, L, twice, now=now)
    assert order()[0] == [once, waiting, new, old, twice]
    with pytest.raises(Forbidden):
        with db.transaction() as session:
            moderation.moderation_queue(session, actor(session, people["resident"]), P, L)
    with pytest.raises(BadRequest):
        order(show="everything")


@pytest.fixture
def three_pins(db, people, client):
    """A visible pin, a hidden one and a pending one on testdorp's unpaving layer, each with a vote."""
    shown = drop(db, people["resident"], 0, "Zichtbaar")
    hidden = drop(db, people["resident"], 300, "Verborgen")
    act(db, "hide", people["moderator"], hidden, "Beledigend")
    set_layer(db, L, premoderation=True)
    pending = drop(db, people["resident"], 600, "Wacht")
    with db.transaction() as session:
        layer_id = session.get(Feature, shown).layer_id
        for fid in (shown, hidden, pending):
            session.add(Vote(feature_id=fid, layer_id=layer_id, user_id=people["neighbour"].user_id,
                             created_at=utcnow()))
    return shown, hidden, pending


def test_hidden_and_pending_pins_are_off_the_api_and_counts(client, three_pins, people):
    shown, hidden, pending = three_pins
    body = client.get(f"{API}/features").get_json()
    assert [f["id"] for f in body["features"]] == [shown] and body["numberMatched"] == 1
    assert client.get(f"{API}/features?limit=1&offset=0&bbox=4.3,50.8,4.5,51.0").get_json()["numberMatched"] == 1
    for fid in (hidden, pending):
        assert client.get(f"{API}/features/{fid}").status_code == 404
    # The author sees their own pending pin; nobody sees a hidden one.
    assert client.get(f"{API}/features/{pending}", headers=bearer(people["resident"])).status_code == 200
    assert client.get(f"{API}/features/{pending}", headers=bearer(people["neighbour"])).status_code == 404
    assert client.get(f"{API}/features/{hidden}", headers=bearer(people["resident"])).status_code == 404
    layers = {item["slug"]: item for item in client.get(f"/api/platforms/{P}/layers").get_json()["layers"]}
    assert layers[L]["feature_count"] == 1
    # No vote on a pin that is not public.
    answer = client.post(f"{API}/features/{hidden}/vote", headers=bearer(people["admin"]))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "unknown_feature"


def test_hidden_and_pending_pins_are_off_the_pins_endpoint_except_for_their_author(client, three_pins, people):
    shown, hidden, pending = three_pins
    url = f"{API}/pins?bbox=4.38,50.88,4.42,50.92&zoom=16"
    anonymous = client.get(url).get_json()
    assert [p["id"] for p in anonymous["pins"]] == [shown] and anonymous["count"] == 1
    author = client.get(url, headers=bearer(people["resident"])).get_json()
    assert {p["id"]: p.get("visibility") for p in author["pins"]} == {shown: None, pending: "pending"}
    assert author["count"] == 2
    assert [p["id"] for p in client.get(url, headers=bearer(people["moderator"])).get_json()["pins"]] == [shown]


@pytest.mark.parametrize("bbox", [None, "4.38,50.88,4.42,50.92"])
def test_hidden_and_pending_pins_are_off_ogc_items_and_counts(client, three_pins, bbox):
    shown, hidden, pending = three_pins
    base = f"/ogc/collections/{P}.{L}/items?f=json" + (f"&bbox={bbox}" if bbox else "")
    body = client.get(base + "&limit=10").get_json()
    assert [f["id"] for f in body["features"]] == [shown] and body["numberMatched"] == 1
    assert body["features"][0]["properties"]["vote_count"] == 1
    # Paging by cursor over a layer whose hidden pins lie between the visible ones.
    first = client.get(base + "&limit=1").get_json()
    assert first["numberMatched"] == 1 and not any(link["rel"] == "next" for link in first["links"])
    for fid in (hidden, pending):
        assert client.get(f"/ogc/collections/{P}.{L}/items/{fid}?f=json").status_code == 404
    collection = client.get(f"/ogc/collections/{P}.{L}?f=json").get_json()
    assert collection["feature_count"] == 1


def test_ogc_paging_skips_hidden_pins_between_pages(db, client, people):
    ids = [drop(db, people["resident"], 300 * k, f"pin {k}") for k in range(5)]
    for fid in ids[1::2]:
        act(db, "hide", people["moderator"], fid, "weg")
    url = f"/ogc/collections/{P}.{L}/items?f=json&limit=1&bbox=4.38,50.88,4.42,50.92"
    seen, matched = [], set()
    while url:
        body = client.get(url).get_json()
        seen += [f["id"] for f in body["features"]]
        matched.add(body["numberMatched"])
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == ids[0::2] and matched == {3}


def test_hidden_and_pending_pins_are_off_exports_unless_officials_ask(client, three_pins, people):
    shown, hidden, pending = three_pins
    body = client.get(f"{API}/export.geojson").get_json()
    assert [f["id"] for f in body["features"]] == [shown]
    rows = list(csv.DictReader(io.StringIO(client.get(f"{API}/export.csv").get_data().decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [shown] and "visibility" not in rows[0]
    detail = client.get(f"{API}/export.csv?include_moderation=true", headers=bearer(people["official"]))
    text = detail.get_data().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert {"visibility", "moderation_reason", "open_flags"} <= set(header)
    # Who wrote, voted, flagged or moderated stays out of the export, even the officials' one.
    assert not {"author_id", "user_id", "moderated_by", "email"} & {name.lower() for name in header}
    assert not any(person.email in text for person in people.values())
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(text))}
    assert {fid: rows[fid]["visibility"] for fid in rows} == {shown: "visible", hidden: "hidden", pending: "pending"}
    assert rows[hidden]["moderation_reason"] == "Beledigend" and rows[shown]["open_flags"] == "0"


def test_hidden_and_pending_pins_are_off_rankings_and_nearby_duplicates(db, client, three_pins, people):
    shown, hidden, pending = three_pins
    answer = client.get(f"{API}/ranking?min_pins=1", headers=bearer(people["official"]))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    places = answer.get_json()["features"]
    members = sorted(m for place in places for m in place["properties"]["feature_ids"])
    assert members == [shown]
    assert sum(place["properties"]["votes"] for place in places) == 1
    # A new pin right beside the hidden one is no duplicate of it; beside the visible one it is.
    set_layer(db, L, premoderation=False)
    with db.transaction() as session:
        layer = session.get(Layer, session.get(Feature, shown).layer_id)
        near_hidden = suggestions.nearby_suggestions(session, layer, shape(pin(305)["geometry"]))
        near_shown = suggestions.nearby_suggestions(session, layer, shape(pin(5)["geometry"]))
    assert near_hidden == [] and [n.id for n in near_shown] == [shown]


def test_votes_on_pins_off_the_map_use_no_budget_and_can_be_withdrawn(db, client, people):
    """testdorp's unpaving layer gives each person 3 votes."""
    a, b, c, d, e = (drop(db, people["resident"], 300 * k, f"plek {k}") for k in range(5))
    voter = bearer(people["neighbour"])

    def vote(fid, method="post"):
        return getattr(client, method)(f"{API}/features/{fid}/vote", headers=voter)

    def left():
        return client.get(f"{API}/my-votes", headers=voter).get_json()["votes_left"]

    assert [vote(fid).get_json()["votes_left"] for fid in (a, b, c)] == [2, 1, 0]
    act(db, "hide", people["moderator"], c, "Beledigend")
    assert left() == 1  # the vote on the hidden pin no longer counts
    assert vote(d).get_json()["votes_left"] == 0
    # Restored, the pin's vote counts again: four votes on a budget of three; no new vote until under it.
    act(db, "restore", people["moderator"], c)
    assert left() == 0
    refused = vote(e)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "vote_budget_exhausted"
    # A vote on a hidden pin can be withdrawn; someone who did not vote for it learns nothing of the pin.
    act(db, "hide", people["moderator"], c, "Beledigend")
    stranger = client.delete(f"{API}/features/{c}/vote", headers=bearer(people["admin"]))
    assert stranger.status_code == 404 and stranger.get_json()["error"]["code"] == "unknown_feature"
    withdrawn = vote(c, "delete")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["voted"] is False
    act(db, "restore", people["moderator"], c)
    assert left() == 0  # a, b and d
    assert vote(a, "delete").status_code == 200 and left() == 1
    assert vote(e).status_code == 201
    with db.transaction() as session:
        assert sorted(v.feature_id for v in session.query(Vote).filter_by(user_id=people["neighbour"].user_id)) \
            == sorted([b, d, e])
