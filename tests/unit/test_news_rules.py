"""Reading officials' news and timelines, and which phase is current (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from mapsvc.layers.news import CURRENT, DONE, UPCOMING, InputInvalid, parse_news, parse_timeline, phase_states

TODAY = date(2026, 11, 15)


def codes(exc: pytest.ExceptionInfo) -> list[tuple[str | None, str]]:
    return [(p.field, p.code) for p in exc.value.problems]


def test_a_news_item_with_dutch_only():
    item = parse_news({"title": {"nl": " Nieuws "}}, today=TODAY)
    assert item.title == {"nl": "Nieuws", "fr": None, "en": None}
    assert item.published_on == TODAY and item.link_url is None


def test_plain_text_counts_as_dutch():
    assert parse_news({"title": "Nieuws", "body": "Tekst"}, today=TODAY).body["nl"] == "Tekst"


@pytest.mark.parametrize(("body", "expected"), [
    ({"title": {"fr": "Titre"}}, [("title.nl", "required")]),
    ({"title": {"nl": "x" * 201}}, [("title.nl", "too_long")]),
    ({"title": {"nl": "x", "de": "y"}}, [("title.de", "unknown_language")]),
    ({"title": {"nl": 3}}, [("title.nl", "type"), ("title.nl", "required")]),
    ({"title": {"nl": "x"}, "link_url": "javascript:alert(1)"}, [("link_url", "format")]),
    ({"title": {"nl": "x"}, "link_url": "/verslag.pdf"}, [("link_url", "format")]),
    ({"title": {"nl": "x"}, "link_url": "data:text/html,x"}, [("link_url", "format")]),
    ({"title": {"nl": "x"}, "published_on": "1/9/2026"}, [("published_on", "format")]),
    ({"title": {"nl": "x"}, "author_id": 3}, [("author_id", "unknown_field")]),
])
def test_news_problems(body, expected):
    with pytest.raises(InputInvalid) as exc:
        parse_news(body, today=TODAY)
    assert codes(exc) == expected


def test_a_report_is_a_link():
    item = parse_news({"title": {"nl": "x"}, "link_url": "https://www.gemeente.be/wg.pdf"}, today=TODAY)
    assert item.link_url == "https://www.gemeente.be/wg.pdf"


def test_a_whole_timeline():
    phases = parse_timeline({"phases": [
        {"phase": "inform", "starts_on": "2026-09-01", "ends_on": "2026-09-30"},
        {"phase": "consult", "starts_on": "2026-09-30", "ends_on": "2026-12-31", "note": {"nl": "Zet een pin"}},
        {"phase": "realise"},
    ]})
    assert [p.phase for p in phases] == ["inform", "consult", "realise"]
    assert phases[1].note["nl"] == "Zet een pin" and phases[2].starts_on is None


def test_an_empty_timeline_clears_it():
    assert parse_timeline({"phases": []}) == []


@pytest.mark.parametrize(("phases", "expected"), [
    ([{"phase": "vote"}], [("phases[0].phase", "choice")]),
    ([{"phase": "inform"}, {"phase": "inform"}], [("phases[1].phase", "duplicate")]),
    ([{"phase": "decide"}, {"phase": "consult"}], [("phases[1].phase", "sequence")]),
    ([{"phase": "inform", "starts_on": "2026-10-01", "ends_on": "2026-09-01"}],
     [("phases[0].ends_on", "ends_before_start")]),
    ([{"phase": "inform", "starts_on": "2026-09-01", "ends_on": "2026-10-01"},
      {"phase": "consult", "starts_on": "2026-09-15"}], [("phases[1].starts_on", "out_of_order")]),
    ([{"phase": "inform", "starts_on": "2026-09-01"}, {"phase": "decide", "ends_on": "2026-08-01"}],
     [("phases[1].starts_on", "out_of_order")]),
    ([{"phase": "inform", "starts_on": "2026-02-30"}], [("phases[0].starts_on", "format")]),
    ([{"phase": "inform", "when": "soon"}], [("phases[0].when", "unknown_field")]),
    ([{"phase": "inform", "note": {"nl": "x" * 2001}}], [("phases[0].note.nl", "too_long")]),
    (["inform"], [("phases[0]", "type")]),
])
def test_timeline_problems(phases, expected):
    with pytest.raises(InputInvalid) as exc:
        parse_timeline({"phases": phases})
    assert codes(exc) == expected


def test_a_timeline_is_a_list_of_phases():
    with pytest.raises(InputInvalid) as exc:
        parse_timeline({"phases": "inform"})
    assert codes(exc) == [("phases", "type")]


PLAN = [("inform", date(2026, 9, 1), date(2026, 9, 30)), ("consult", date(2026, 10, 1), date(2026, 12, 31)),
        ("decide", date(2027, 2, 1), date(2027, 3, 31)), ("realise", date(2027, 6, 1), date(2027, 12, 31))]


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 8, 1), [UPCOMING, UPCOMING, UPCOMING, UPCOMING]),
    (date(2026, 9, 1), [CURRENT, UPCOMING, UPCOMING, UPCOMING]),
    (date(2026, 11, 15), [DONE, CURRENT, UPCOMING, UPCOMING]),
    (date(2027, 1, 15), [DONE, CURRENT, UPCOMING, UPCOMING]),  # a gap: consult stays current until decide starts
    (date(2027, 2, 1), [DONE, DONE, CURRENT, UPCOMING]),
    (date(2027, 12, 31), [DONE, DONE, DONE, CURRENT]),
    (date(2028, 1, 1), [DONE, DONE, DONE, DONE]),
])
def test_the_current_phase(today, expected):
    states = phase_states(PLAN, today)
    assert [states[name] for name, _s, _e in PLAN] == expected


def test_phases_without_dates_are_upcoming():
    states = phase_states([("inform", date(2026, 9, 1), None), ("realise", None, None)], date(2026, 10, 1))
    assert states == {"inform": CURRENT, "realise": UPCOMING}
