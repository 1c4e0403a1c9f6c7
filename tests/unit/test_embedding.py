"""Framing rule and embed snippet of the embed pages."""

import pytest

from mapsvc.web.embedding import embed_snippet, frame_ancestors, valid_origins
from mapsvc.web.ui_text import MESSAGES, messages, text


def test_no_origins_means_only_the_platform_itself():
    assert frame_ancestors([]) == "frame-ancestors 'self'"
    assert frame_ancestors(None) == "frame-ancestors 'self'"


def test_configured_origins_are_listed():
    assert frame_ancestors(["https://www.poperinge.be", "http://localhost:8080/"]) == \
        "frame-ancestors 'self' https://www.poperinge.be http://localhost:8080"


@pytest.mark.parametrize("bad", [
    "https://evil.example; script-src *", "*", "https://*.example.be", "javascript:alert(1)",
    "https://www.poperinge.be/path", "ftp://files.example", "https://a b.example", "'unsafe-inline'", 42, "",
])
def test_malformed_origins_never_reach_the_header(bad):
    assert frame_ancestors([bad, "https://ok.example"]) == "frame-ancestors 'self' https://ok.example"


def test_origins_are_normalised_and_deduplicated():
    assert valid_origins(["HTTPS://Www.Poperinge.be", "https://www.poperinge.be/"]) == ["https://www.poperinge.be"]


def test_the_snippet_escapes_its_values():
    code = embed_snippet('https://x.example/embed/p/l?a=1&b="2"', 'Daken <b>"zon"</b>')
    assert code.startswith('<iframe src="https://x.example/embed/p/l?a=1&amp;b=&#34;2&#34;"')
    assert 'title="Daken &lt;b&gt;&#34;zon&#34;&lt;/b&gt;"' in code
    assert code.endswith("></iframe>")


def test_messages_fill_placeholders():
    assert text("page.platform_title", platform="Beringen") == "Kaart van Beringen"
    assert text("embed.frame_title", "fr", layer="Toits", platform="Beringen") == "Toits – Beringen"
    assert messages("xx") is MESSAGES["nl"]  # an unknown language gets Dutch
    with pytest.raises(KeyError):
        text("no.such.message")


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_every_error_the_write_api_names_has_a_message_in_each_language(language):
    codes = ["outside_boundary", "layer_closed", "validation_failed", "already_voted", "vote_budget_exhausted",
             "login_required", "csrf_failed", "too_long", "required", "not_the_author", "no_longer_editable",
             "voting_finished", "not_voted", "too_many_requests", "unknown_layer", "unknown_platform", "not_found"]
    missing = [c for c in codes if f"error.{c}" not in MESSAGES[language]]
    assert not missing
