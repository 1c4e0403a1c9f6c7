"""The kinds of layer mapsvc knows, with their property schemas, titles and themes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ASSETS = "assets"
SUGGESTIONS = "suggestions"
INITIATIVES = "initiatives"
LAYER_KINDS = (ASSETS, SUGGESTIONS, INITIATIVES)

POINT = "point"
POLYGON = "polygon"
POINT_OR_POLYGON = "point_or_polygon"
GEOMETRY_TYPES = (POINT, POLYGON, POINT_OR_POLYGON)


def _label(nl: str, fr: str, en: str) -> dict[str, str]:
    return {"nl": nl, "fr": fr, "en": en}


# Every suggestion carries a title and a description written by the resident.
SUGGESTION_TEXT = [
    {"name": "title", "type": "string", "required": True, "max_length": 120,
     "label": _label("Titel", "Titre", "Title")},
    {"name": "description", "type": "text", "max_length": 2000,
     "label": _label("Beschrijving", "Description", "Description")},
]


@dataclass(frozen=True)
class LayerSpec:
    """What a layer of one kind looks like on any platform."""

    slug: str
    kind: str
    geometry_type: str
    title: dict[str, str]
    description: dict[str, str]
    fields: list[dict[str, Any]]
    themes: list[str] = field(default_factory=list)
    voting_enabled: bool = False
    votes_per_person: int | None = None
    attribution: str | None = None

    @property
    def property_schema(self) -> dict[str, Any]:
        """Return the layer's property schema declaration."""
        return {"fields": list(self.fields)}


OSM = "© OpenStreetMap contributors (ODbL 1.0)"

LAYER_SPECS: dict[str, LayerSpec] = {
    spec.slug: spec
    for spec in [
        LayerSpec(
            slug="book-cabinets", kind=ASSETS, geometry_type=POINT,
            title=_label("Boekenkastjes", "Boîtes à livres", "Public book cabinets"),
            description=_label(
                "Publieke boekenkastjes (boekentils) uit OpenStreetMap.",
                "Boîtes à livres publiques d'OpenStreetMap.",
                "Public book cabinets from OpenStreetMap."),
            fields=[
                {"name": "name", "type": "string", "max_length": 200, "label": _label("Naam", "Nom", "Name")},
                {"name": "maintainer", "type": "string", "max_length": 200,
                 "label": _label("Beheerder", "Gestionnaire", "Maintainer")},
                {"name": "condition", "type": "enum", "choices": ["good", "fair", "poor"],
                 "label": _label("Staat", "État", "Condition"),
                 "choice_labels": {"good": _label("goed", "bon", "good"),
                                   "fair": _label("redelijk", "moyen", "fair"),
                                   "poor": _label("slecht", "mauvais", "poor")}},
                {"name": "osm_url", "type": "url", "label": _label("OSM-object", "Objet OSM", "OSM object")},
            ],
            attribution=OSM,
        ),
        LayerSpec(
            slug="charging-points", kind=ASSETS, geometry_type=POINT,
            title=_label("Publieke laadpunten", "Bornes de recharge publiques", "Public charging points"),
            description=_label(
                "Bestaande publieke laadpunten voor elektrische voertuigen uit OpenStreetMap.",
                "Bornes de recharge publiques existantes, d'OpenStreetMap.",
                "Existing public charging points for electric vehicles, from OpenStreetMap."),
            fields=[
                {"name": "name", "type": "string", "max_length": 200, "label": _label("Naam", "Nom", "Name")},
                {"name": "operator", "type": "string", "max_length": 200,
                 "label": _label("Uitbater", "Opérateur", "Operator")},
                {"name": "max_output_kw", "type": "number", "min": 0, "max": 1000,
                 "label": _label("Maximaal vermogen (kW)", "Puissance maximale (kW)", "Maximum output (kW)")},
                {"name": "capacity", "type": "integer", "min": 0, "max": 500,
                 "label": _label("Aantal voertuigen", "Nombre de véhicules", "Vehicles at once")},
                {"name": "access", "type": "string", "max_length": 40,
                 "label": _label("Toegang", "Accès", "Access")},
                {"name": "osm_url", "type": "url", "label": _label("OSM-object", "Objet OSM", "OSM object")},
            ],
            attribution=OSM,
        ),
        LayerSpec(
            slug="charging-requests", kind=SUGGESTIONS, geometry_type=POINT,
            title=_label("Aanvragen publieke laadpaal", "Demandes de borne publique",
                         "Requests for a public charging point"),
            description=_label(
                "Bewoners zonder eigen oprit vragen een publieke laadpaal binnen 250 m wandelafstand.",
                "Les habitants sans allée privée demandent une borne publique à moins de 250 m à pied.",
                "Residents without a driveway ask for a public charging point within 250 m walking."),
            fields=SUGGESTION_TEXT + [
                {"name": "has_private_parking", "type": "boolean",
                 "label": _label("Eigen oprit of garage", "Allée ou garage privé", "Own driveway or garage")},
                {"name": "vehicles", "type": "integer", "min": 1, "max": 10,
                 "label": _label("Aantal elektrische wagens", "Nombre de voitures électriques",
                                 "Number of electric cars")},
            ],
            voting_enabled=True, votes_per_person=3,
        ),
        LayerSpec(
            slug="unpaving-spots", kind=SUGGESTIONS, geometry_type=POINT,
            title=_label("Ontharden en vergroenen", "Désimperméabiliser et verdir", "Unpaving and greening"),
            description=_label(
                "Plekken in je straat die ontsteend en vergroend kunnen worden. Stem op de plekken van je buren.",
                "Des endroits de votre rue à désimperméabiliser et verdir. Votez pour ceux de vos voisins.",
                "Spots in your street that could be unpaved and greened. Vote for your neighbours' spots."),
            fields=SUGGESTION_TEXT + [
                {"name": "surface_m2", "type": "number", "min": 1, "max": 100000,
                 "label": _label("Oppervlakte (m²)", "Surface (m²)", "Area (m²)")},
            ],
            themes=["ontharden", "vergroenen"], voting_enabled=True, votes_per_person=3,
        ),
        LayerSpec(
            slug="solar-roofs", kind=SUGGESTIONS, geometry_type=POINT_OR_POLYGON,
            title=_label("Daken voor zonnepanelen", "Toits pour panneaux solaires", "Roofs for solar panels"),
            description=_label(
                "Stel een dak voor zonnepanelen voor: zet een punt op het dak.",
                "Proposez un toit pour des panneaux solaires : placez un point sur le toit.",
                "Suggest a roof for solar panels: drop a point on the roof."),
            fields=SUGGESTION_TEXT + [
                {"name": "roof_type", "type": "enum", "choices": ["flat", "pitched"],
                 "label": _label("Daktype", "Type de toit", "Roof type"),
                 "choice_labels": {"flat": _label("plat", "plat", "flat"),
                                   "pitched": _label("hellend", "en pente", "pitched")}},
                {"name": "building_use", "type": "enum",
                 "choices": ["public", "school", "sports", "residential", "commercial"],
                 "label": _label("Gebruik van het gebouw", "Usage du bâtiment", "Building use")},
            ],
            themes=["energie"], voting_enabled=True,
        ),
        LayerSpec(
            slug="christmas-village", kind=SUGGESTIONS, geometry_type=POINT,
            title=_label("Kerstdorp", "Village de Noël", "Christmas village"),
            description=_label(
                "Zet je versierde huis op de kaart van het kerstdorp.",
                "Placez votre maison décorée sur la carte du village de Noël.",
                "Put your decorated house on the Christmas village map."),
            fields=SUGGESTION_TEXT + [
                {"name": "decoration", "type": "enum", "choices": ["lights", "nativity", "figures", "mixed"],
                 "label": _label("Versiering", "Décoration", "Decoration"),
                 "choice_labels": {"lights": _label("lichtjes", "guirlandes", "lights"),
                                   "nativity": _label("kerststal", "crèche", "nativity scene"),
                                   "figures": _label("figuren", "personnages", "figures"),
                                   "mixed": _label("gemengd", "mixte", "mixed")}},
            ],
            themes=["kerstdorp"], voting_enabled=True,
        ),
        LayerSpec(
            slug="initiatives", kind=INITIATIVES, geometry_type=POINT,
            title=_label("Participatie-initiatieven", "Initiatives de participation", "Participation initiatives"),
            description=_label(
                "Een overzicht van participatie-initiatieven op de kaart.",
                "Un inventaire des initiatives de participation sur la carte.",
                "An inventory of participation initiatives on the map."),
            fields=[
                {"name": "name", "type": "string", "required": True, "max_length": 200,
                 "label": _label("Naam", "Nom", "Name")},
                {"name": "organiser", "type": "string", "max_length": 200,
                 "label": _label("Organisator", "Organisateur", "Organiser")},
                {"name": "address", "type": "string", "max_length": 300,
                 "label": _label("Adres", "Adresse", "Address")},
                {"name": "link", "type": "url", "label": _label("Link", "Lien", "Link")},
                {"name": "description", "type": "text", "max_length": 5000,
                 "label": _label("Beschrijving", "Description", "Description")},
            ],
            themes=["mobiliteit", "groen", "cultuur", "wonen", "klimaat", "sociaal"],
        ),
    ]
}
