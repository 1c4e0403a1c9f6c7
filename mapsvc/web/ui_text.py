"""The words of the map pages and their scripts, by message id (Dutch now; French and English come later)."""

from __future__ import annotations

from typing import Any

DEFAULT_LANGUAGE = "nl"

# One dict per language. Templates call text("id", **values); the scripts get the same dict as JSON and
# fill in {placeholders} themselves. Error ids are "error.<code>" for the API's error and problem codes.
MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "page.platform_title": "Kaart van {platform}",
        "page.layer_title": "{layer} – {platform}",
        "page.skip_to_map": "Naar de kaart",
        "page.all_layers": "Alle lagen van {platform}",
        "page.layers_heading": "Lagen",
        "page.open_layer": "Meer over deze laag",
        "page.window_open": "Open voor pinnen en stemmen tot {closes}.",
        "page.window_open_no_end": "Open voor pinnen en stemmen.",
        "page.window_not_yet_open": "Opent voor pinnen op {opens}.",
        "page.window_closed": "Gesloten: je kunt nog kijken, maar geen pinnen meer plaatsen.",
        "page.count": "{n} objecten",
        "page.demo_count": "waarvan {n} demodata",
        "page.demo_notice": "Demodata: de suggesties op deze kaart zijn gegenereerd door een simulator, "
                            "geen echte inzendingen van bewoners. Hun titel begint met „Demo –”.",
        "page.polygons_note": "Een dak duid je aan met een punt op het dak; dakvormen tekenen kan (nog) niet "
                              "op deze kaart.",
        "page.attribution": "Kaartgegevens © OpenStreetMap-bijdragers (ODbL); grenzen: Statbel.",
        "page.tiles_off": "Zonder achtergrondkaart: de pinnen en de grens blijven zichtbaar.",
        "legend.heading": "Legende",
        "legend.cluster": "Groep pinnen: het getal zegt hoeveel. Klik om in te zoomen.",
        "legend.demo": "Gestreepte rand: demodata",
        "legend.mine": "Dikke rand: jouw pin",
        "legend.boundary": "Grens van {platform}",
        "official.heading": "Voor medewerkers van de gemeente",
        "official.ranking": "Rangschikking van de plekken",
        "official.gaps": "Waar ontbreekt een boekenkast? (hiaten)",
        "official.rollout": "Uitrol van publieke laadpalen plannen",
        "embed.heading": "Deze kaart insluiten op je eigen website",
        "embed.explain": "Kopieer deze code in de HTML van een pagina van je website.",
        "embed.origins": "De kaart laat zich alleen insluiten op deze websites: {origins}.",
        "embed.no_origins": "Er staan nog geen websites in de instellingen van dit platform: de ingesloten "
                            "kaart werkt pas nadat een beheerder het adres van je website toevoegt "
                            "(embed_origins).",
        "embed.frame_title": "{layer} – {platform}",
        "embed.open_full": "Open de volledige kaart",
        "auth.login": "Inloggen",
        "auth.logout": "Uitloggen",
        "auth.logged_in_as": "Ingelogd als {name}",
        "auth.anonymous_name": "bewoner",
        "auth.login_to_contribute": "Log in om een pin te plaatsen of voorstellen te steunen.",
        "auth.embed_done": "Je bent ingelogd. Dit venster sluit vanzelf; ga terug naar de kaart.",
        "auth.embed_failed": "Inloggen voor de ingesloten kaart lukte niet. Sluit dit venster en probeer opnieuw.",
        "auth.popup_blocked": "Je browser blokkeerde het inlogvenster. Sta pop-ups toe voor deze kaart, of log in via de link.",
        "auth.embed_login_hint": "Log in in het nieuwe venster en kom dan terug naar deze kaart.",
        "map.click_to_drop": "Klik op de kaart om een pin te plaatsen.",
        "map.loading": "Pinnen laden…",
        "map.load_failed": "De pinnen van „{layer}” konden niet geladen worden.",
        "map.retry": "Opnieuw proberen",
        "map.cluster_label": "{n} pinnen, klik om in te zoomen",
        "map.untitled": "Zonder titel",
        "map.truncated": "Er liggen te veel pinnen in beeld; zoom in om ze allemaal te zien.",
        "popup.votes_one": "1 steun",
        "popup.votes_many": "{n} steunen",
        "popup.support": "Steun dit voorstel",
        "popup.unsupport": "Steun intrekken",
        "popup.supported": "Je steunt dit voorstel.",
        "popup.votes_left": "Je hebt nog {n} stem(men) over op deze laag.",
        "popup.edit": "Aanpassen",
        "popup.withdraw": "Intrekken",
        "popup.withdraw_confirm": "Deze pin intrekken? Hij verdwijnt van de kaart.",
        "popup.demo": "Demodata",
        "popup.official_answer": "Antwoord van de gemeente",
        "popup.loading": "Laden…",
        "status.submitted": "ingediend",
        "status.under_review": "in behandeling",
        "status.selected": "geselecteerd",
        "status.realised": "uitgevoerd",
        "status.rejected": "niet weerhouden",
        "form.new_heading": "Nieuwe pin",
        "form.edit_heading": "Pin aanpassen",
        "form.layer": "Laag",
        "form.theme": "Thema",
        "form.no_theme": "(geen thema)",
        "form.required": "verplicht",
        "form.max_length": "max. {n} tekens",
        "form.yes": "ja",
        "form.no": "nee",
        "form.unknown": "(niet ingevuld)",
        "form.submit": "Pin plaatsen",
        "form.save": "Opslaan",
        "form.cancel": "Annuleren",
        "form.saved": "Je pin staat op de kaart.",
        "form.updated": "Je pin is aangepast.",
        "form.withdrawn": "Je pin is ingetrokken.",
        "form.location": "Locatie: {lat}, {lon}",
        "form.point_on_roof": "Zet de pin op het dak zelf.",
        "dup.heading": "Er ligt al een voorstel in de buurt",
        "dup.explain": "Steun liever een bestaand voorstel dan een tweede te maken.",
        "dup.distance": "{m} m hiervandaan",
        "dup.support": "Steun dit voorstel",
        "dup.create_anyway": "Toch een nieuwe pin plaatsen",
        "error.generic": "Dat lukte niet ({code}). Probeer het opnieuw.",
        "error.network": "Geen verbinding met de server. Probeer het opnieuw.",
        "error.login_required": "Log eerst in.",
        "error.csrf_failed": "Je sessie is verlopen. Herlaad de pagina en probeer opnieuw.",
        "error.rate_limited": "Te veel pogingen na elkaar. Probeer het over een tijdje opnieuw.",
        "error.too_many_requests": "Te veel pogingen na elkaar. Probeer het over een tijdje opnieuw.",
        "error.forbidden": "Dit mag je niet doen.",
        "error.not_the_author": "Alleen wie de pin plaatste, kan hem aanpassen of intrekken.",
        "error.no_longer_editable": "Een pin kan alleen aangepast of ingetrokken worden zolang hij ingediend is.",
        "error.not_a_suggestion_layer": "Op deze laag kun je geen pinnen plaatsen.",
        "error.layer_closed": "Deze laag neemt nu geen pinnen of stemmen aan: de inzendperiode is gesloten.",
        "error.voting_finished": "Dit voorstel neemt geen steun meer aan.",
        "error.voting_disabled": "Op deze laag kun je niet stemmen.",
        "error.already_voted": "Je steunt dit voorstel al.",
        "error.not_voted": "Je steunde dit voorstel niet.",
        "error.vote_budget_exhausted": "Je hebt al je stemmen op deze laag gebruikt. Trek eerst ergens je steun in.",
        "error.validation_failed": "Niet alles klopt. Pas de aangeduide velden aan.",
        "error.outside_boundary": "Deze plek ligt buiten {platform}. Kies een plek binnen de grens.",
        "error.geometry_type": "Deze laag neemt dit soort vorm niet aan.",
        "error.missing_geometry": "Kies eerst een plek op de kaart.",
        "error.invalid_geometry": "Deze vorm is ongeldig.",
        "error.coordinates_out_of_range": "Deze plek ligt niet op aarde.",
        "error.required": "Vul dit veld in.",
        "error.too_long": "Deze tekst is te lang (maximaal {max} tekens).",
        "error.type": "Deze waarde past niet in dit veld.",
        "error.range": "Deze waarde ligt buiten het toegelaten bereik.",
        "error.format": "Deze waarde heeft niet de juiste vorm.",
        "error.choice": "Kies een van de voorgestelde waarden.",
        "error.unknown_field": "Dit veld hoort niet bij deze laag.",
        "error.unknown_feature": "Deze pin bestaat niet (meer).",
        "error.page_not_found": "Deze kaart bestaat niet.",
    },
}


def _merge_areas() -> None:
    """Add each area's messages (mapsvc/web/messages/<area>.py) to MESSAGES; an id may be defined once."""
    from importlib import import_module

    from mapsvc.web.messages import AREAS

    for area in AREAS:
        for language, found in import_module(f"mapsvc.web.messages.{area}").MESSAGES.items():
            target = MESSAGES.setdefault(language, {})
            clash = set(found) & set(target)
            if clash:
                raise RuntimeError(f"message ids defined twice ({area}): {sorted(clash)}")
            target.update(found)


_merge_areas()


def messages(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Return every message of a language; an id it lacks falls back to Dutch."""
    if language == DEFAULT_LANGUAGE or language not in MESSAGES:
        return MESSAGES[DEFAULT_LANGUAGE]
    return {**MESSAGES[DEFAULT_LANGUAGE], **MESSAGES[language]}


def text(message_id: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """Return one message with its {placeholders} filled in."""
    template = messages(language).get(message_id)
    if template is None:
        raise KeyError(f"no message {message_id!r}")
    return template.format(**values) if values else template
