"""Personal data on both backends: the download, deleting an account (per platform policy), vote retention."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box
from sqlalchemy import func, inspect, select, text

from mapsvc.errors import BadRequest, Forbidden
from mapsvc.services import accounts, privacy
from mapsvc.services.permissions import Actor
from mapsvc.services.ranking import rank_layer
from mapsvc.services.sample import SamplePlatform, create_platform
from mapsvc.storage.models import (
    Announcement,
    ApiToken,
    Feature,
    Flag,
    Follow,
    Layer,
    ModerationEvent,
    NewsItem,
    OidcIdentity,
    OutgoingMail,
    Platform,
    User,
    Vote,
    utcnow,
)

PASSWORD = "correct horse battery"
LEAVER = "Leaver.Person@Example.be"      # mixed case: matching must ignore it
OTHER = "other@example.be"
BOUNDARY = box(4.38, 50.88, 4.42, 50.92)
# Column names that point at a person even where a schema might forget the foreign key.
PERSON_COLUMNS = {"user_id", "author_id", "moderator_id", "moderated_by"}


@dataclass
class World:
    leaver: int
    other: int
    official: int
    pins: dict[str, int]          # name -> feature id
    layers: dict[str, int]        # platform slug -> unpaving layer id
    platforms: dict[str, int]     # platform slug -> id


def _platform(session, slug: str, **policy) -> Platform:
    spec = SamplePlatform(slug, "99999", "municipality", (slug.capitalize(), slug, slug), 13, ("#123456", "#ffffff"),
                          {"unpaving-spots": 0})
    platform = create_platform(session, spec, BOUNDARY)
    for name, value in policy.items():
        setattr(platform, name, value)
    return platform


def _pin(session, layer: Layer, author: int | None, title: str, **extra) -> int:
    feature = Feature(layer_id=layer.id, geom=from_shape(Point(4.40, 50.90), srid=4326), source="resident",
                      properties={"title": title, **extra}, status="submitted", author_id=author)
    session.add(feature)
    session.flush()
    return feature.id


def _vote(session, feature_id: int, layer: Layer, user_id: int) -> None:
    session.add(Vote(feature_id=feature_id, layer_id=layer.id, user_id=user_id))


@pytest.fixture
def world(db) -> World:
    """Two platforms with opposite policies; a leaver who touched every table, and another person."""
    with db.transaction() as session:
        keep = _platform(session, "keepdorp")                      # defaults: anonymise pins, keep votes
        wipe = _platform(session, "wipedorp", deleted_account_pins="remove", deleted_account_votes="remove")
        leaver = accounts.create_user(session, LEAVER, PASSWORD, display_name="Lea Ver")
        other = accounts.create_user(session, OTHER, PASSWORD, display_name="Otto")
        official = accounts.create_user(session, "official@example.be", PASSWORD)
        accounts.grant_role(session, leaver, "moderator", "keepdorp")
        accounts.grant_role(session, official, "official", "keepdorp")
        accounts.grant_role(session, official, "official", "wipedorp")
        accounts.issue_token(session, leaver, "my script")
        accounts.issue_token(session, other, "their script")
        k, w = keep.layers[0], wipe.layers[0]
        pins = {
            "leaver_keep": _pin(session, k, leaver.id, "Mijn tegels", description=f"Mail me: {LEAVER.lower()}"),
            "leaver_wipe": _pin(session, w, leaver.id, "Mijn tuin"),
            "other_keep": _pin(session, k, other.id, "Andere tegels"),
            "other_wipe": _pin(session, w, other.id, "Andere tuin"),
        }
        _vote(session, pins["other_keep"], k, leaver.id)
        _vote(session, pins["other_wipe"], w, leaver.id)
        _vote(session, pins["leaver_keep"], k, other.id)
        _vote(session, pins["leaver_wipe"], w, other.id)
        _vote(session, pins["other_keep"], k, other.id)
        session.get(Feature, pins["other_keep"]).moderated_by = leaver.id
        session.add_all([
            ModerationEvent(feature_id=pins["other_keep"], moderator_id=leaver.id, action="hide", reason="spam"),
            Flag(feature_id=pins["other_wipe"], user_id=leaver.id, reason=f"Rude; write {LEAVER} for proof"),
            Flag(feature_id=pins["other_keep"], user_id=other.id, reason="duplicate"),
            Follow(user_id=leaver.id, platform_id=keep.id, layer_id=k.id),
            Follow(user_id=other.id, platform_id=keep.id, theme="groen"),
            OidcIdentity(user_id=leaver.id, issuer="https://idp.example", subject_hash="a" * 64),
            NewsItem(layer_id=k.id, title_nl="Nieuws", published_on=date(2026, 11, 1), author_id=leaver.id),
            Announcement(platform_id=keep.id, subject="Oproep", body="Kom", author_id=leaver.id),
            OutgoingMail(user_id=leaver.id, to_address=LEAVER, subject="Welkom", body_text=f"Dag {LEAVER}",
                         headers={"To": LEAVER}, message_id="<1@mapsvc>", dedupe_key=f"welcome:{leaver.id}",
                         state="sent", sent_at=utcnow()),
            OutgoingMail(user_id=leaver.id, to_address=LEAVER, subject="Digest", body_text="…",
                         message_id="<2@mapsvc>", state="queued"),
            OutgoingMail(user_id=None, to_address=LEAVER.upper(), subject="Uitnodiging", body_text="…",
                         message_id="<3@mapsvc>", state="failed", last_error=f"550 {LEAVER} unknown"),
            OutgoingMail(user_id=other.id, to_address=OTHER, subject="Welkom", body_text=f"Dag {OTHER}",
                         message_id="<4@mapsvc>", state="sent"),
        ])
        return World(leaver.id, other.id, official.id, pins, {"keepdorp": k.id, "wipedorp": w.id},
                     {"keepdorp": keep.id, "wipedorp": wipe.id})


def _votes(session, feature_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Vote).where(Vote.feature_id == feature_id))


def _delete(db, user_id: int, **kwargs) -> dict:
    with db.transaction() as session:
        return privacy.delete_account(session, Actor(user_id), **kwargs)


def _every_row(db):
    """Yield (table, column names, row) of every table of the database, as the database has them."""
    inspector = inspect(db.engine)
    with db.engine.connect() as conn:
        for table in inspector.get_table_names():
            result = conn.execute(text(f'SELECT * FROM "{table}"'))
            names = list(result.keys())
            for row in result:
                yield table, names, row


def traces_of(db, user_id: int) -> list[str]:
    """Collect what would give a person away: e-mail, display name, password hash, API token and OIDC subject
    hashes (call it before the deletion)."""
    with db.sessions() as session:
        user = session.get(User, user_id)
        needles = [user.email, user.display_name, user.password_hash,
                   *session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user_id)),
                   *session.scalars(select(OidcIdentity.subject_hash).where(OidcIdentity.user_id == user_id))]
    return [needle for needle in needles if needle]


def assert_no_trace(db, user_id: int, needles: list[str]) -> None:
    """Scan every column of every table: no needle anywhere (any case), the id in no column that names a person."""
    inspector = inspect(db.engine)
    referencing = {(t, c) for t in inspector.get_table_names() for fk in inspector.get_foreign_keys(t)
                   if fk["referred_table"] == "users" for c in fk["constrained_columns"]}
    assert len(referencing) >= 12  # the walk below really looks at the person columns of the schema
    lowered = [needle.lower() for needle in needles]
    rows = 0
    for table, names, row in _every_row(db):
        rows += 1
        for name, value in zip(names, row):
            if (table, name) in referencing or name in PERSON_COLUMNS or (table, name) == ("users", "id"):
                assert value != user_id, f"{table}.{name} still holds the deleted person's id"
            shown = (value.decode("latin-1") if isinstance(value, bytes) else str(value)).lower()  # JSON: its repr
            for needle in lowered:
                assert needle not in shown, f"{table}.{name} still holds {needle[:16]!r}"
    assert rows > 20


def test_deleting_an_account_leaves_none_of_its_personal_data(db, world):
    needles = traces_of(db, world.leaver)
    assert len(needles) == 5  # e-mail, name, password hash, one token hash, one subject hash
    done = _delete(db, world.leaver, password=PASSWORD)
    assert done["users_deleted"] == 1
    assert_no_trace(db, world.leaver, needles)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.email == OTHER)) == 1
        assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == world.other)) == 1


def test_pins_and_votes_follow_each_platforms_policy(db, world):
    with db.sessions() as session:
        before = {name: _votes(session, fid) for name, fid in world.pins.items()}
    _delete(db, world.leaver, password=PASSWORD)
    with db.sessions() as session:
        kept = session.get(Feature, world.pins["leaver_keep"])
        assert kept is not None and kept.author_id is None                   # keepdorp: anonymised
        assert kept.properties["title"] == "Mijn tegels"
        assert session.get(Feature, world.pins["leaver_wipe"]) is None       # wipedorp: removed ...
        assert _votes(session, world.pins["leaver_wipe"]) == 0               # ... with the votes it got
        assert _votes(session, world.pins["other_keep"]) == before["other_keep"] == 2   # keepdorp: kept
        assert session.scalar(select(func.count()).select_from(Vote).where(
            Vote.feature_id == world.pins["other_keep"], Vote.user_id.is_(None))) == 1
        assert _votes(session, world.pins["other_wipe"]) == before["other_wipe"] - 1 == 0  # wipedorp: removed
        assert _votes(session, world.pins["leaver_keep"]) == 1               # the other's vote stays
        flags = session.scalars(select(Flag).order_by(Flag.id)).all()
        assert [f.user_id for f in flags] == [None, world.other]            # anonymous, still counted
        mail = {m.message_id: m for m in session.scalars(select(OutgoingMail))}
        assert set(mail) == {"<1@mapsvc>", "<4@mapsvc>"}                     # unsent mail to them is gone
        assert mail["<1@mapsvc>"].to_address is None and mail["<1@mapsvc>"].dedupe_key is None
        assert mail["<1@mapsvc>"].state == "sent" and mail["<4@mapsvc>"].to_address == OTHER
        assert session.scalar(select(func.count()).select_from(ModerationEvent)) == 1
        assert session.scalar(select(func.count()).select_from(Follow)) == 1


def test_deletion_is_all_or_nothing_and_needs_the_password(db, world):
    with pytest.raises(Forbidden):
        _delete(db, world.leaver, password="not the password")
    with pytest.raises(BadRequest):
        _delete(db, world.leaver)
    with pytest.raises(Forbidden):
        _delete(db, world.leaver, password=PASSWORD, by_token=True)
    with db.sessions() as session:
        assert session.get(User, world.leaver) is not None
        assert session.get(Feature, world.pins["leaver_wipe"]).author_id == world.leaver


def test_an_account_without_password_confirms_with_a_word(db, world):
    with db.transaction() as session:
        other = session.get(User, world.other)
        other.password_hash = None   # logs in through OpenID Connect only
        other.display_name = "Otto Oidc-Only"
        session.add_all([
            OidcIdentity(user_id=other.id, issuer="https://idp.example", subject_hash="b" * 64),
            Follow(user_id=other.id, platform_id=world.platforms["wipedorp"], layer_id=world.layers["wipedorp"]),
            Flag(feature_id=world.pins["leaver_keep"], user_id=other.id, reason=f"Dubbel; vraag {OTHER}"),
            OutgoingMail(user_id=other.id, to_address=OTHER, subject="Digest", body_text=f"Dag {OTHER}",
                         message_id="<5@mapsvc>", state="queued"),
        ])
        accounts.issue_embed_token(session, other, "high", "https://idp.example")  # beside "their script"
    needles = traces_of(db, world.other)
    assert len(needles) == 5  # e-mail, name, two token hashes, one subject hash (no password hash)
    with pytest.raises(BadRequest):
        _delete(db, world.other, confirm="yes")
    _delete(db, world.other, confirm=" verwijder ")
    with db.sessions() as session:
        assert session.get(User, world.other) is None
    assert_no_trace(db, world.other, needles)


def test_the_download_holds_every_section_and_only_the_persons_own_data(db, world):
    with db.transaction() as session:  # staff work by someone else, which must not show up
        session.add_all([
            ModerationEvent(feature_id=world.pins["leaver_keep"], moderator_id=world.official, action="approve",
                            reason="their reason"),
            NewsItem(layer_id=world.layers["keepdorp"], title_nl="Their news", published_on=date(2026, 11, 2),
                     author_id=world.official),
            Announcement(platform_id=world.platforms["keepdorp"], subject="Their call", body="…",
                         author_id=world.official),
        ])
        session.get(Feature, world.pins["other_wipe"]).moderated_by = world.official
    with db.sessions() as session:
        data = privacy.my_data(session, Actor(world.leaver), utcnow())
        hashes = [t.token_hash for t in session.scalars(select(ApiToken))]
        password_hash = session.get(User, world.leaver).password_hash
    assert set(data) >= {"account", "pins", "votes", "follows", "flags", "mail", "api_tokens", "news_items",
                         "announcements", "moderation_actions", "moderated_pins"}
    account = data["account"]
    assert account["email"] == LEAVER and account["display_name"] == "Lea Ver" and account["locale"] == "nl"
    assert account["roles"] == [{"role": "moderator", "platform": "keepdorp", "layer": None}]
    assert account["oidc_identities"][0]["issuer"] == "https://idp.example"
    assert set(account["oidc_identities"][0]) == {"issuer", "linked_since", "last_login_at"}
    assert sorted(p["id"] for p in data["pins"]) == sorted([world.pins["leaver_keep"], world.pins["leaver_wipe"]])
    pin = next(p for p in data["pins"] if p["id"] == world.pins["leaver_keep"])
    assert pin["platform"] == "keepdorp" and pin["layer"] == "unpaving-spots"
    assert pin["geometry"]["type"] == "Point" and pin["visibility"] == "visible" and pin["status"] == "submitted"
    assert sorted(v["feature_id"] for v in data["votes"]) == sorted([world.pins["other_keep"],
                                                                     world.pins["other_wipe"]])
    assert [f["layer"] for f in data["follows"]] == ["unpaving-spots"]
    assert [f["feature_id"] for f in data["flags"]] == [world.pins["other_wipe"]]
    assert sorted(m["subject"] for m in data["mail"]) == ["Digest", "Welkom"]
    assert [t["name"] for t in data["api_tokens"]] == ["my script"]
    # What they wrote or did as staff, without the people their work was about.
    assert [(n["platform"], n["layer"], n["title"]["nl"], n["published_on"]) for n in data["news_items"]] \
        == [("keepdorp", "unpaving-spots", "Nieuws", "2026-11-01")]
    assert [(a["platform"], a["subject"], a["body"]) for a in data["announcements"]] == [("keepdorp", "Oproep", "Kom")]
    assert [(e["feature_id"], e["action"], e["reason"]) for e in data["moderation_actions"]] \
        == [(world.pins["other_keep"], "hide", "spam")]
    assert set(data["moderation_actions"][0]) == {"feature_id", "platform", "layer", "action", "reason", "created_at"}
    assert [p["feature_id"] for p in data["moderated_pins"]] == [world.pins["other_keep"]]
    assert set(data["moderated_pins"][0]) == {"feature_id", "platform", "layer", "visibility", "moderation_reason",
                                              "moderated_at"}
    dump = json.dumps(data)
    for secret in [*hashes, password_hash, "a" * 64]:
        assert secret not in dump
    for foreign in (OTHER, "Otto", "Andere tegels", "their script", "duplicate", "groen", "their reason",
                    "Their news", "Their call", "official@example.be"):
        assert foreign not in dump


def test_deletion_consequences_name_each_platforms_policy(db, world):
    with db.sessions() as session:
        found = {c.platform.slug: (c.pins, c.votes, c.pins_policy, c.votes_policy)
                 for c in privacy.deletion_consequences(session, Actor(world.leaver))}
    assert found == {"keepdorp": (1, 1, "anonymise", "keep"), "wipedorp": (1, 1, "remove", "remove")}


def test_retention_unlinks_votes_after_the_window_and_not_before(db, world):
    now = utcnow()
    with db.transaction() as session:
        layer = session.get(Layer, world.layers["keepdorp"])
        layer.closes_at, layer.vote_retention_days = now - timedelta(days=10), 30
    with db.transaction() as session:
        steps = privacy.apply_retention(session, now)
    assert [(s.platform, s.due, s.votes_unlinked) for s in steps] == [("keepdorp", False, 0)]

    later = now + timedelta(days=21)
    with db.transaction() as session:
        dry = privacy.apply_retention(session, later, dry_run=True)
    assert [(s.due, s.votes_unlinked) for s in dry] == [(True, 3)]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Vote).where(Vote.user_id.is_not(None))) == 5

    with db.transaction() as session:
        done = privacy.apply_retention(session, later)
    assert [(s.due, s.votes_unlinked) for s in done] == [(True, 3)]
    with db.sessions() as session:
        keep_votes = select(Vote).where(Vote.layer_id == world.layers["keepdorp"])
        assert [v.user_id for v in session.scalars(keep_votes)] == [None, None, None]
        assert _votes(session, world.pins["other_keep"]) == 2 and _votes(session, world.pins["leaver_keep"]) == 1
        assert session.get(Layer, world.layers["keepdorp"]).votes_unlinked_at == later
        wipe_votes = select(Vote.user_id).where(Vote.layer_id == world.layers["wipedorp"])
        assert None not in session.scalars(wipe_votes).all()               # no retention there: untouched
        official = Actor(world.official, frozenset({("official", world.platforms["keepdorp"], None)}))
        ranking = rank_layer(session, official, "keepdorp", "unpaving-spots")
    assert ranking.n_votes == 3
    assert sum(place.votes for place in ranking.places) == 3
    assert sum(place.unlinked_votes for place in ranking.places) == 3
