"""News and the timeline of a layer over HTTP, on both backends: the API, who may write, and the pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from mapsvc.web import news as news_views
from tests.web.conftest import bearer, csrf_of, login, set_layer

pytestmark = pytest.mark.db

API = "/api/platforms/testdorp/layers/unpaving-spots"
OTHER = "/api/platforms/testdorp/layers/christmas-village"
PAGE = "/p/testdorp/unpaving-spots/news"
TODAY = date(2026, 11, 15)  # the Belgian day the app is told it is: no test reads the clock


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Fix the app's day; a test moves it with today(date(...))."""
    def set_day(day: date) -> None:
        monkeypatch.setattr(news_views, "_today", lambda: day)

    set_day(TODAY)
    return set_day


def news_body(title="Tegels eruit aan de school", **extra):
    return {"title": {"nl": title, "fr": f"FR {title}", "en": f"EN {title}"},
            "body": {"nl": "De **werkgroep** komt samen.\n\n- punt één\n- punt twee"},
            "link_url": "https://www.testdorp.be/verslag-werkgroep.pdf", "published_on": "2026-09-01", **extra}


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


TIMELINE = {"phases": [
    {"phase": "inform", "starts_on": day(-120), "ends_on": day(-61), "note": {"nl": "Infoavond in de *zaal*"}},
    {"phase": "consult", "starts_on": day(-60), "ends_on": day(60), "note": {"nl": "Zet je pin", "fr": "Placez"}},
    {"phase": "decide", "starts_on": day(61), "ends_on": day(120)},
    {"phase": "realise"},
]}


def test_an_official_writes_reads_changes_and_removes_news(client, people):
    official = bearer(people["official"])
    created = client.post(f"{API}/news", json=news_body(), headers=official)
    assert created.status_code == 201
    item = created.get_json()
    assert created.headers["Location"].endswith(f"/news/{item['id']}")
    assert item["title"]["fr"] == "FR Tegels eruit aan de school" and item["published_on"] == "2026-09-01"
    assert item["body_html"]["nl"].startswith("<p>De <strong>werkgroep</strong> komt samen.</p>")
    assert item["link_url"] == "https://www.testdorp.be/verslag-werkgroep.pdf" and item["demo"] is False
    assert "author_id" not in item and people["official"].email not in created.get_data(as_text=True)

    later = client.post(f"{API}/news", json=news_body("Later", published_on="2026-10-01"), headers=official)
    listed = client.get(f"{API}/news").get_json()  # public: no login
    assert [i["title"]["nl"] for i in listed["items"]] == ["Later", "Tegels eruit aan de school"]

    changed = client.put(f"{API}/news/{item['id']}", json={"title": {"nl": "Nieuwe titel"}}, headers=official)
    assert changed.status_code == 200
    assert changed.get_json()["title"] == {"nl": "Nieuwe titel", "fr": None, "en": None}
    assert changed.get_json()["published_on"] == "2026-09-01"  # kept when left out
    assert client.get(f"{API}/news/{item['id']}").get_json()["title"]["nl"] == "Nieuwe titel"

    assert client.delete(f"{API}/news/{item['id']}", headers=official).status_code == 204
    assert client.get(f"{API}/news/{item['id']}").status_code == 404
    assert [i["id"] for i in client.get(f"{API}/news").get_json()["items"]] == [later.get_json()["id"]]


def test_published_on_defaults_to_today(client, people):
    body = news_body()
    del body["published_on"]
    answer = client.post(f"{API}/news", json=body, headers=bearer(people["admin"])).get_json()
    assert answer["published_on"] == "2026-11-15" and answer["scheduled"] is False


def test_news_dated_later_waits_for_its_day(client, people, today):
    official = bearer(people["official"])
    now = client.post(f"{API}/news", json=news_body("Vandaag", published_on="2026-11-15"), headers=official)
    later = client.post(f"{API}/news", json=news_body("Morgen", published_on="2026-11-16"), headers=official)
    assert later.status_code == 201 and later.get_json()["scheduled"] is True
    later_id = later.get_json()["id"]
    # The public, and residents and moderators, see what is published by today (the Belgian day).
    for headers in ({}, bearer(people["resident"]), bearer(people["moderator"])):
        listed = client.get(f"{API}/news", headers=headers).get_json()
        assert [(i["title"]["nl"], i["scheduled"]) for i in listed["items"]] == [("Vandaag", False)]
        assert client.get(f"{API}/news/{later_id}", headers=headers).status_code == 404
    assert "Morgen" not in client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert "Morgen" not in client.get(PAGE).get_data(as_text=True)
    # Those who write the news see the scheduled item, marked so.
    for who in ("official", "admin", "manager"):
        listed = client.get(f"{API}/news", headers=bearer(people[who])).get_json()
        assert [(i["title"]["nl"], i["scheduled"]) for i in listed["items"]] == [("Morgen", True), ("Vandaag", False)]
        assert client.get(f"{API}/news/{later_id}", headers=bearer(people[who])).get_json()["scheduled"] is True
    assert now.get_json()["scheduled"] is False
    today(date(2026, 11, 16))
    listed = client.get(f"{API}/news").get_json()
    assert [(i["title"]["nl"], i["scheduled"]) for i in listed["items"]] == [("Morgen", False), ("Vandaag", False)]
    assert "<h3>Morgen</h3>" in client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)


@pytest.mark.parametrize(("who", "url", "status"), [
    (None, API, 401), ("resident", API, 403), ("moderator", API, 403), ("manager", OTHER, 403),
    ("manager", API, 201), ("official", OTHER, 201), ("admin", API, 201),
])
def test_who_may_write_news(client, people, who, url, status):
    headers = bearer(people[who]) if who else {}
    answer = client.post(f"{url}/news", json=news_body(), headers=headers)
    assert answer.status_code == status, answer.get_json()
    if status >= 400:
        assert answer.get_json()["error"]["code"] in ("login_required", "not_allowed")
        assert client.get(f"{url}/news").get_json()["count"] == 0


@pytest.mark.parametrize("who", [None, "resident", "moderator"])
def test_who_may_not_change_or_remove_news_or_the_timeline(client, people, who):
    item = client.post(f"{API}/news", json=news_body(), headers=bearer(people["official"])).get_json()
    headers = bearer(people[who]) if who else {}
    expected = 401 if who is None else 403
    assert client.put(f"{API}/news/{item['id']}", json=news_body("x"), headers=headers).status_code == expected
    assert client.delete(f"{API}/news/{item['id']}", headers=headers).status_code == expected
    assert client.put(f"{API}/timeline", json=TIMELINE, headers=headers).status_code == expected
    assert client.get(f"{API}/news/{item['id']}").get_json()["title"]["nl"] == "Tegels eruit aan de school"
    assert client.get(f"{API}/timeline").get_json()["phases"] == []


def test_bad_news_gets_every_problem_at_once(client, people):
    answer = client.post(f"{API}/news", json={"title": {"fr": "Titre"}, "link_url": "javascript:alert(1)",
                                              "published_on": "01/09/2026", "pinned": True},
                         headers=bearer(people["official"]))
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert {(p["field"], p["code"]) for p in error["details"]["problems"]} == {
        ("pinned", "unknown_field"), ("title.nl", "required"), ("link_url", "format"), ("published_on", "format")}
    assert client.get(f"{API}/news").get_json()["count"] == 0


@pytest.mark.parametrize(("send", "status", "code"), [
    ({"data": "not json"}, 400, "invalid_json"), ({"json": ["a list"]}, 422, "validation_failed"),
])
def test_a_body_that_is_not_a_news_object(client, people, send, status, code):
    answer = client.post(f"{API}/news", headers=bearer(people["official"]), **send)
    assert answer.status_code == status and answer.get_json()["error"]["code"] == code


def test_unknown_or_malformed_news_ids(client, people):
    official = bearer(people["official"])
    assert client.get(f"{API}/news/999").get_json()["error"]["code"] == "unknown_news_item"
    assert client.put(f"{API}/news/999", json=news_body(), headers=official).status_code == 404
    assert client.delete(f"{API}/news/abc", headers=official).status_code == 400
    item = client.post(f"{API}/news", json=news_body(), headers=official).get_json()
    assert client.get(f"{OTHER}/news/{item['id']}").status_code == 404  # the id belongs to another layer
    assert client.get(f"{API}/news?limit=3").get_json()["error"]["code"] == "unknown_parameter"


def test_the_timeline_is_replaced_whole_and_says_which_phase_is_current(client, people):
    manager = bearer(people["manager"])
    answer = client.put(f"{API}/timeline", json=TIMELINE, headers=manager)
    assert answer.status_code == 200
    body = client.get(f"{API}/timeline").get_json()
    assert body["current"] == "consult"
    assert [(p["phase"], p["state"]) for p in body["phases"]] == [
        ("inform", "done"), ("consult", "current"), ("decide", "upcoming"), ("realise", "upcoming")]
    assert body["phases"][0]["note_html"]["nl"] == "<p>Infoavond in de <em>zaal</em></p>"
    assert body["phases"][3]["starts_on"] is None

    shorter = {"phases": [{"phase": "decide", "starts_on": day(-5)}]}
    assert client.put(f"{API}/timeline", json=shorter, headers=manager).status_code == 200
    assert [(p["phase"], p["state"]) for p in client.get(f"{API}/timeline").get_json()["phases"]] == [
        ("decide", "current")]
    assert client.put(f"{API}/timeline", json={"phases": []}, headers=manager).get_json()["phases"] == []


def test_a_bad_timeline_changes_nothing(client, people):
    official = bearer(people["official"])
    client.put(f"{API}/timeline", json=TIMELINE, headers=official)
    bad = {"phases": [{"phase": "consult", "starts_on": "2026-10-01", "ends_on": "2026-09-01"},
                      {"phase": "inform", "starts_on": "2026-08-01"}, {"phase": "vote"}]}
    answer = client.put(f"{API}/timeline", json=bad, headers=official)
    assert answer.status_code == 422
    assert {(p["field"], p["code"]) for p in answer.get_json()["error"]["details"]["problems"]} == {
        ("phases[0].ends_on", "ends_before_start"), ("phases[1].phase", "sequence"),
        ("phases[1].starts_on", "out_of_order"), ("phases[2].phase", "choice")}
    assert len(client.get(f"{API}/timeline").get_json()["phases"]) == 4


def test_a_cookie_session_needs_the_csrf_token(client, people):
    login(client, people["official"].email)
    refused = client.post(f"{API}/news", json=news_body())
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    accepted = client.post(f"{API}/news", json=news_body(), headers={"X-CSRFToken": csrf_of(client)})
    assert accepted.status_code == 201


def test_news_of_a_layer_that_is_not_public_stays_private(client, db, people):
    client.post(f"{API}/news", json=news_body(), headers=bearer(people["official"]))
    set_layer(db, "unpaving-spots", is_public=False)
    assert client.get(f"{API}/news").status_code == 404
    assert client.get(f"{API}/timeline").status_code == 404
    assert client.get(f"{API}/news", headers=bearer(people["resident"])).status_code == 404
    assert client.get(f"{API}/news", headers=bearer(people["official"])).get_json()["count"] == 1
    assert client.get("/p/testdorp/unpaving-spots/news").status_code == 404


# --- the pages ------------------------------------------------------------------------------------------------

def side_panel(html: str) -> str:
    match = re.search(r'<div class="mapsvc-news-timeline">.*?</section>\s*</div>', html, re.S)
    assert match, "no news panel on the page"
    return match.group(0)


@pytest.fixture
def layer_news(client, people):
    """The unpaving layer with the timeline and one news item (French, no English title)."""
    official = bearer(people["official"])
    client.put(f"{API}/timeline", json=TIMELINE, headers=official)
    body = news_body(published_on="2026-03-01")
    body["title"] = {"nl": "Werkgroep ontharding", "fr": "Groupe de travail désimperméabilisation"}
    body["body"] = {"nl": "Lees het **verslag**.<script>window.__pwned=1</script> [x](javascript:alert(1))",
                    "en": "Read the **report**."}
    client.post(f"{API}/news", json=body, headers=official)


LANGUAGES = {
    "nl": ("Nieuws", "Tijdlijn", "Inspraak", "Werkgroep ontharding", "1 maart 2026",
           "Lees het <strong>verslag</strong>."),
    "fr": ("Actualités", "Ligne du temps", "Consulter", "Groupe de travail désimperméabilisation", "1er mars 2026",
           "Lees het <strong>verslag</strong>."),  # no French text: the Dutch one
    "en": ("News", "Timeline", "Consult", "Werkgroep ontharding", "1 March 2026", "Read the <strong>report</strong>."),
}


@pytest.mark.parametrize("page", ["/p/testdorp/unpaving-spots", "/embed/testdorp/unpaving-spots"])
@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_layer_and_embed_pages_show_news_and_timeline(client, layer_news, page, language):
    answer = client.get(page if language == "nl" else f"{page}?lang={language}")
    assert answer.status_code == 200
    panel = side_panel(answer.get_data(as_text=True))
    news_heading, timeline_heading, current, title, published, body = LANGUAGES[language]
    assert f">{news_heading}</h2>" in panel and f">{timeline_heading}</h2>" in panel
    phases = re.findall(r'<li class="mapsvc-phase is-(\w+)"( aria-current="step")? data-phase="(\w+)">', panel)
    assert phases == [("done", "", "inform"), ("current", ' aria-current="step"', "consult"),
                      ("upcoming", "", "decide"), ("upcoming", "", "realise")]
    current_item = re.search(r'aria-current="step".*?</li>', panel, re.S).group(0)
    assert f'<span class="mapsvc-phase-name">{current}</span>' in current_item
    assert f"<h3>{title}</h3>" in panel and f'<time datetime="2026-03-01">{published}</time>' in panel
    assert body in panel
    assert "<script>window.__pwned" not in panel
    if language != "en":  # the Dutch text (French falls back to it) carries the script, as text
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in panel
    assert 'href="javascript' not in panel
    assert '<a href="https://www.testdorp.be/verslag-werkgroep.pdf" target="_blank" rel="nofollow noopener">' in panel


def test_the_embed_shows_no_side_panel_without_news_or_timeline(client, testdorp):
    html = client.get("/embed/testdorp/unpaving-spots").get_data(as_text=True)
    assert "mapsvc-news-timeline" not in html and "mapsvc-embed-side" not in html
    assert "mapsvc-news-timeline" not in client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)


def test_the_panel_shows_the_latest_five_and_links_to_all(client, people):
    official = bearer(people["official"])
    for n in range(7):
        client.post(f"{API}/news", json=news_body(f"Bericht {n}", published_on=f"2026-09-0{n + 1}"), headers=official)
    panel = side_panel(client.get("/embed/testdorp/unpaving-spots?lang=fr").get_data(as_text=True))
    assert re.findall(r"<h3>FR Bericht (\d)</h3>", panel) == ["6", "5", "4", "3", "2"]
    link = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">Toutes les actualités \(7\)</a>', panel)
    assert link and link.group(1) == "/p/testdorp/unpaving-spots/news?lang=fr"
    everything = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r"<h3>FR Bericht (\d)</h3>", everything) == ["6", "5", "4", "3", "2", "1", "0"]
    assert "Toutes les actualités" not in everything


def test_the_news_page_tells_managers_how_to_write(client, people):
    assert "/api/platforms/testdorp/layers/unpaving-spots/timeline" not in \
        client.get("/p/testdorp/unpaving-spots/news").get_data(as_text=True)
    login(client, people["manager"].email)
    page = client.get("/p/testdorp/unpaving-spots/news?lang=en").get_data(as_text=True)
    assert "Managing news and the timeline" in page and "No news yet." in page


def test_the_sample_news_and_timeline_are_labelled_demo(sample_client, today):
    today(date(2026, 12, 1))  # after the demo item's day (1 November 2026)
    api = "/api/platforms/kapelle-op-den-bos/layers/christmas-village"
    items = sample_client.get(f"{api}/news").get_json()["items"]
    assert len(items) == 1 and items[0]["demo"] is True
    assert all(title.startswith("Demo – ") for title in items[0]["title"].values())
    phases = sample_client.get(f"{api}/timeline").get_json()["phases"]
    assert [p["phase"] for p in phases] == ["inform", "consult", "decide", "realise"]
    assert all(p["note"]["nl"].startswith("Demo – ") for p in phases)
    page = sample_client.get("/embed/kapelle-op-den-bos/christmas-village?lang=en").get_data(as_text=True)
    assert "Demo data: this news and timeline are an example" in side_panel(page)
    other = sample_client.get("/api/platforms/poperinge/layers/unpaving-spots/news").get_json()
    assert other["items"] == []


# --- the management page ----------------------------------------------------------------------------------------

def page_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def error_beside(html: str, field: str) -> str:
    """The message shown under a form field, which the field points to."""
    assert f'aria-describedby="{field}-error' in html, field
    return re.search(rf'<p class="mapsvc-field-error" id="{field}-error">([^<]*)</p>', html).group(1)


@pytest.mark.parametrize("who", [None, "resident", "moderator"])
def test_the_forms_are_only_for_those_who_write_the_news(client, people, who):
    if who:
        login(client, people[who].email)
    html = client.get(PAGE).get_data(as_text=True)
    assert 'name="title_nl"' not in html and 'name="consult_starts_on"' not in html
    if who:  # a form sent anyway (with a valid CSRF token) is refused and changes nothing
        answer = client.post(PAGE, data={"title_nl": "Stiekem", "csrf_token": csrf_of(client)})
        assert answer.status_code == 403
        timeline = client.post("/p/testdorp/unpaving-spots/timeline",
                               data={"inform_starts_on": "2026-09-01", "csrf_token": csrf_of(client)})
        assert timeline.status_code == 403
        assert client.get(f"{API}/news", headers=bearer(people["official"])).get_json()["count"] == 0
        assert client.get(f"{API}/timeline").get_json()["phases"] == []


@pytest.mark.parametrize("who", ["official", "admin", "manager"])
def test_a_manager_adds_and_deletes_news_with_the_form(client, people, who):
    login(client, people[who].email)
    html = client.get(PAGE + "?lang=en").get_data(as_text=True)
    for field in ("title_nl", "title_fr", "title_en", "body_nl", "body_fr", "body_en", "published_on", "link_url"):
        assert f'<label for="news-{field}">' in html and f'id="news-{field}" name="{field}"' in html
    assert 'value="2026-11-15"' in html and "**bold**" in html  # today's date, the Markdown hint
    form = {"title_nl": "Werkgroep ontharding", "title_fr": "Groupe de travail", "title_en": "",
            "body_nl": "Lees het **verslag**.", "body_fr": "", "body_en": "", "published_on": "2026-11-20",
            "link_url": "https://www.testdorp.be/verslag.pdf"}
    assert client.post(PAGE, data=form).status_code == 400  # no CSRF token
    added = client.post(PAGE, data={**form, "csrf_token": page_token(html)})
    assert added.status_code == 303 and "done=added" in added.headers["Location"]
    items = client.get(f"{API}/news").get_json()["items"]  # the logged-in manager sees the scheduled item
    assert [(i["title"], i["body_html"]["nl"], i["published_on"], i["scheduled"], i["link_url"]) for i in items] == [
        ({"nl": "Werkgroep ontharding", "fr": "Groupe de travail", "en": None},
         "<p>Lees het <strong>verslag</strong>.</p>", "2026-11-20", True, "https://www.testdorp.be/verslag.pdf")]
    page = client.get(added.headers["Location"].split("#")[0] + "&lang=en").get_data(as_text=True)
    assert "The news item was added." in page and "scheduled, not visible yet" in page
    deleted = client.post(f"{PAGE}/{items[0]['id']}/delete", data={"csrf_token": page_token(page)})
    assert deleted.status_code == 303 and "done=deleted" in deleted.headers["Location"]
    assert client.get(f"{API}/news", headers=bearer(people["official"])).get_json()["count"] == 0


@pytest.mark.parametrize(("language", "required", "date_format"), [
    ("nl", "Vul dit veld in.", "Schrijf de datum als JJJJ-MM-DD"),
    ("fr", "Remplissez ce champ.", "Écrivez la date sous la forme AAAA-MM-JJ"),
    ("en", "Fill in this field.", "Write the date as YYYY-MM-DD"),
])
def test_bad_news_shows_each_problem_beside_its_field(client, people, language, required, date_format):
    login(client, people["official"].email)
    token = page_token(client.get(PAGE).get_data(as_text=True))
    answer = client.post(f"{PAGE}?lang={language}", data={
        "title_nl": " ", "title_fr": "x" * 201, "body_nl": "Tekst blijft staan", "published_on": "01/09/2026",
        "link_url": "javascript:alert(1)", "csrf_token": token})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert error_beside(html, "news-title_nl") == required
    assert "200" in error_beside(html, "news-title_fr")
    assert error_beside(html, "news-published_on").startswith(date_format)
    assert "https://" in error_beside(html, "news-link_url")
    assert ">Tekst blijft staan</textarea>" in html and 'value="01/09/2026"' in html  # the input is kept
    assert 'role="alert"' in html
    assert client.get(f"{API}/news", headers=bearer(people["official"])).get_json()["count"] == 0


def test_a_manager_sets_the_timeline_with_the_form(client, people):
    login(client, people["manager"].email)
    html = client.get(PAGE).get_data(as_text=True)
    for phase in ("inform", "consult", "decide", "realise"):
        for part in ("starts_on", "ends_on", "note_nl", "note_fr", "note_en"):
            assert f'<label for="timeline-{phase}_{part}">' in html
    form = {"inform_starts_on": "2026-09-01", "inform_ends_on": "2026-09-30", "inform_note_nl": "Infoavond",
            "consult_starts_on": "2026-10-01", "consult_ends_on": "2026-12-31", "consult_note_fr": "Placez vos épingles",
            "decide_starts_on": "", "decide_ends_on": "", "realise_starts_on": "2027-06-01"}
    saved = client.post("/p/testdorp/unpaving-spots/timeline", data={**form, "csrf_token": page_token(html)})
    assert saved.status_code == 303 and "done=timeline" in saved.headers["Location"]
    body = client.get(f"{API}/timeline").get_json()
    assert [(p["phase"], p["starts_on"], p["ends_on"], p["state"]) for p in body["phases"]] == [
        ("inform", "2026-09-01", "2026-09-30", "done"), ("consult", "2026-10-01", "2026-12-31", "current"),
        ("realise", "2027-06-01", None, "upcoming")]  # the empty decide phase is left out
    assert body["phases"][1]["note"]["fr"] == "Placez vos épingles"
    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="timeline-consult_starts_on" name="consult_starts_on" type="date" value="2026-10-01"' in page


def test_a_bad_timeline_form_shows_the_problem_at_the_phase(client, people):
    login(client, people["official"].email)
    token = page_token(client.get(PAGE).get_data(as_text=True))
    answer = client.post("/p/testdorp/unpaving-spots/timeline?lang=en", data={
        "inform_starts_on": "2026-09-01", "inform_ends_on": "2026-10-15",
        "consult_starts_on": "2026-10-01", "consult_ends_on": "2026-09-20",
        "realise_starts_on": "1 juni", "csrf_token": token})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert error_beside(html, "timeline-consult_ends_on") == "This phase ends before it starts."
    assert error_beside(html, "timeline-consult_starts_on").startswith("This phase starts before the previous")
    assert error_beside(html, "timeline-realise_starts_on").startswith("Write the date as YYYY-MM-DD")
    assert 'value="1 juni"' in html
    assert client.get(f"{API}/timeline").get_json()["phases"] == []
