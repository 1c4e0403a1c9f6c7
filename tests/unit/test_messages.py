"""Every message exists in Dutch, French and English, with the same placeholders, and none is empty."""

from __future__ import annotations

import re
from string import Formatter

import pytest

from mapsvc.web import ui_text
from mapsvc.web.ui_text import DEFAULT_LANGUAGE, MESSAGES, messages, text

LANGUAGES = ("nl", "fr", "en")
STATIC = ui_text.__file__.rsplit("/", 1)[0] + "/static/mapsvc"


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_exactly_the_three_languages():
    assert sorted(MESSAGES) == sorted(LANGUAGES)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_dutch_id_is_translated(language):
    # MESSAGES holds the core texts and every area's (mapsvc/web/messages/<area>.py), merged at import.
    assert sorted(set(MESSAGES[DEFAULT_LANGUAGE]) - set(MESSAGES[language])) == []
    assert sorted(set(MESSAGES[language]) - set(MESSAGES[DEFAULT_LANGUAGE])) == []  # nothing only in one language


@pytest.mark.parametrize("language", ["fr", "en"])
def test_translations_keep_the_placeholders(language):
    wrong = {mid: (placeholders(nl), placeholders(MESSAGES[language].get(mid, "")))
             for mid, nl in MESSAGES[DEFAULT_LANGUAGE].items()
             if placeholders(nl) != placeholders(MESSAGES[language].get(mid, ""))}
    assert wrong == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_empty_and_every_one_formats(language):
    for mid, template in MESSAGES[language].items():
        assert template.strip(), mid
        template.format(**{name: "x" for name in placeholders(template)})  # no stray braces


def test_a_text_in_each_language():
    assert text("page.platform_title", "nl", platform="Beringen") == "Kaart van Beringen"
    assert text("page.platform_title", "fr", platform="Beringen") == "Carte de Beringen"
    assert text("page.platform_title", "en", platform="Beringen") == "Map of Beringen"
    assert text("page.platform_title", platform="Beringen") == "Kaart van Beringen"  # outside a request: Dutch


def test_unknown_languages_and_ids():
    assert messages("xx") is MESSAGES["nl"]
    assert text("auth.login", "xx") == "Inloggen"
    with pytest.raises(KeyError):
        text("no.such.message", "fr")


def test_the_scripts_use_only_known_message_ids():
    """A t("id") in the page scripts that no language defines would show the bare id to people."""
    from pathlib import Path

    used = set()  # whole ids only: t("status." + code) builds one from a prefix
    for script in Path(STATIC).glob("*.js"):
        used |= set(re.findall(r'\bt\("([a-z_]+\.[a-z_.]+)"\s*[,)]', script.read_text(encoding="utf-8")))
    assert used and sorted(used - set(MESSAGES["nl"])) == []
