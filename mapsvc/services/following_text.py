"""The words of the update e-mails and the theme names, in Dutch, French and English.

They live beside the services that write the mails (services import no web code); the web pages take the
theme names from here too (mapsvc/web/messages/following.py), so a theme is called the same everywhere.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("nl", "fr", "en")

# The layer themes of mapsvc/layers/catalogue.py; an unknown theme is shown as it is stored.
THEMES: dict[str, dict[str, str]] = {
    "ontharden": {"nl": "ontharden", "fr": "désimperméabilisation", "en": "unpaving"},
    "vergroenen": {"nl": "vergroenen", "fr": "verdurisation", "en": "greening"},
    "groen": {"nl": "groen", "fr": "nature", "en": "green space"},
    "energie": {"nl": "energie", "fr": "énergie", "en": "energy"},
    "klimaat": {"nl": "klimaat", "fr": "climat", "en": "climate"},
    "mobiliteit": {"nl": "mobiliteit", "fr": "mobilité", "en": "mobility"},
    "cultuur": {"nl": "cultuur", "fr": "culture", "en": "culture"},
    "wonen": {"nl": "wonen", "fr": "logement", "en": "housing"},
    "sociaal": {"nl": "sociaal", "fr": "social", "en": "social"},
    "kerstdorp": {"nl": "kerstdorp", "fr": "village de Noël", "en": "Christmas village"},
}

MAIL_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "status.submitted": "ingediend",
        "status.under_review": "in behandeling",
        "status.selected": "geselecteerd",
        "status.realised": "uitgevoerd",
        "status.rejected": "niet weerhouden",
        "status.subject_author": "{platform}: je voorstel „{title}” is {status}",
        "status.subject_follower": "{platform}: „{title}” is {status}",
        "status.body_author": "De gemeente heeft over je voorstel „{title}” op de kaart „{layer}” beslist: "
                              "het is nu {status}.",
        "status.body_follower": "Het voorstel „{title}” op de kaart „{layer}” is nu {status}.",
        "status.answer": "Antwoord van de gemeente:",
        "link.map": "Bekijk het op de kaart:",
        "scope.platform": "alles op {platform}",
        "scope.theme": "het thema {theme} op {platform}",
        "scope.layer": "de kaart „{layer}” van {platform}",
        "scope.feature": "het voorstel „{title}”",
        "why.follow": "Je krijgt deze e-mail omdat je {scope} volgt.",
        "why.author": "Je krijgt deze e-mail omdat je dit voorstel zelf indiende.",
        "why.digest": "Je krijgt deze e-mail omdat je het wekelijkse overzicht aanzette.",
        "unsubscribe.follow": "Hierover geen e-mails meer:",
        "unsubscribe.own": "Geen e-mails meer over je eigen voorstellen:",
        "unsubscribe.digest": "Geen wekelijks overzicht meer:",
        "preferences": "Wat je volgt, pas je aan op",
        "announcement.subject": "{platform}: {subject}",
        "announcement.from": "Een bericht van {platform}:",
        "digest.subject": "Je weekoverzicht: {n} nieuwigheden in wat je volgt",
        "digest.intro": "Dit veranderde sinds {since} in wat je volgt.",
        "digest.new": "Nieuwe pinnen",
        "digest.changed": "Nieuwe beslissingen",
        "digest.item": "{title} – {layer}, {platform}",
        "digest.item_status": "{title}: {status} – {layer}, {platform}",
        "untitled": "zonder titel",
    },
    "fr": {
        "status.submitted": "introduite",
        "status.under_review": "en cours d'examen",
        "status.selected": "retenue",
        "status.realised": "réalisée",
        "status.rejected": "non retenue",
        "status.subject_author": "{platform} : votre proposition « {title} » est {status}",
        "status.subject_follower": "{platform} : « {title} » est {status}",
        "status.body_author": "La commune a statué sur votre proposition « {title} » sur la carte « {layer} » : "
                              "elle est maintenant {status}.",
        "status.body_follower": "La proposition « {title} » sur la carte « {layer} » est maintenant {status}.",
        "status.answer": "Réponse de la commune :",
        "link.map": "Voir sur la carte :",
        "scope.platform": "tout sur {platform}",
        "scope.theme": "le thème {theme} sur {platform}",
        "scope.layer": "la carte « {layer} » de {platform}",
        "scope.feature": "la proposition « {title} »",
        "why.follow": "Vous recevez cet e-mail parce que vous suivez {scope}.",
        "why.author": "Vous recevez cet e-mail parce que vous avez introduit cette proposition.",
        "why.digest": "Vous recevez cet e-mail parce que vous avez activé le résumé hebdomadaire.",
        "unsubscribe.follow": "Ne plus recevoir d'e-mails à ce sujet :",
        "unsubscribe.own": "Ne plus recevoir d'e-mails sur vos propositions :",
        "unsubscribe.digest": "Ne plus recevoir le résumé hebdomadaire :",
        "preferences": "Modifiez ce que vous suivez sur",
        "announcement.subject": "{platform} : {subject}",
        "announcement.from": "Un message de {platform} :",
        "digest.subject": "Votre résumé de la semaine : {n} nouveautés dans ce que vous suivez",
        "digest.intro": "Voici ce qui a changé depuis le {since} dans ce que vous suivez.",
        "digest.new": "Nouvelles épingles",
        "digest.changed": "Nouvelles décisions",
        "digest.item": "{title} – {layer}, {platform}",
        "digest.item_status": "{title} : {status} – {layer}, {platform}",
        "untitled": "sans titre",
    },
    "en": {
        "status.submitted": "submitted",
        "status.under_review": "under review",
        "status.selected": "selected",
        "status.realised": "realised",
        "status.rejected": "not selected",
        "status.subject_author": "{platform}: your suggestion “{title}” is {status}",
        "status.subject_follower": "{platform}: “{title}” is {status}",
        "status.body_author": "The municipality has decided on your suggestion “{title}” on the map “{layer}”: "
                              "it is now {status}.",
        "status.body_follower": "The suggestion “{title}” on the map “{layer}” is now {status}.",
        "status.answer": "The municipality's answer:",
        "link.map": "See it on the map:",
        "scope.platform": "everything on {platform}",
        "scope.theme": "the theme {theme} on {platform}",
        "scope.layer": "the map “{layer}” of {platform}",
        "scope.feature": "the suggestion “{title}”",
        "why.follow": "You receive this e-mail because you follow {scope}.",
        "why.author": "You receive this e-mail because you submitted this suggestion.",
        "why.digest": "You receive this e-mail because you switched on the weekly digest.",
        "unsubscribe.follow": "No more e-mails about this:",
        "unsubscribe.own": "No more e-mails about your own suggestions:",
        "unsubscribe.digest": "No more weekly digest:",
        "preferences": "Change what you follow at",
        "announcement.subject": "{platform}: {subject}",
        "announcement.from": "A message from {platform}:",
        "digest.subject": "Your week: {n} updates in what you follow",
        "digest.intro": "This changed since {since} in what you follow.",
        "digest.new": "New pins",
        "digest.changed": "New decisions",
        "digest.item": "{title} – {layer}, {platform}",
        "digest.item_status": "{title}: {status} – {layer}, {platform}",
        "untitled": "untitled",
    },
}


def language_of(value: str | None) -> str:
    """Return a supported language for a stored locale (Dutch when unknown)."""
    return value if value in LANGUAGES else "nl"


def mail_text(message_id: str, language: str, **values: Any) -> str:
    """Return one mail text in a language with its {placeholders} filled in."""
    template = MAIL_TEXT[language_of(language)][message_id]
    return template.format(**values) if values else template


def theme_name(theme: str, language: str) -> str:
    """Return a theme's name in a language (the stored word when it has no translation)."""
    return THEMES.get(theme, {}).get(language_of(language), theme)


def localised(obj: object, attribute: str, language: str) -> str:
    """Read `attribute_<language>` of a platform or layer, falling back to Dutch."""
    return getattr(obj, f"{attribute}_{language_of(language)}", None) or getattr(obj, f"{attribute}_nl", None) or ""
