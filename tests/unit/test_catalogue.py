"""The layer catalogue declares valid schemas, and the rules check features against them."""

import pytest
from shapely.geometry import Point, box

from mapsvc.layers.catalogue import LAYER_SPECS
from mapsvc.layers.rules import FeatureInvalid, LayerRules, validate_feature
from mapsvc.layers.schema import parse_schema

AREA = box(2.6, 50.8, 2.8, 50.9)


def rules(slug):
    spec = LAYER_SPECS[slug]
    return LayerRules.build(kind=spec.kind, geometry_type=spec.geometry_type, property_schema=spec.property_schema,
                            themes=spec.themes, boundary=AREA, boundary_name="Poperinge")


def test_the_seven_layer_kinds():
    assert set(LAYER_SPECS) == {"book-cabinets", "christmas-village", "unpaving-spots", "charging-points",
                                "charging-requests", "solar-roofs", "initiatives"}


@pytest.mark.parametrize("slug", sorted(LAYER_SPECS))
def test_every_schema_parses_and_has_three_languages(slug):
    spec = LAYER_SPECS[slug]
    schema = parse_schema(spec.property_schema)
    assert schema.fields
    assert set(spec.title) == {"nl", "fr", "en"}
    for f in schema.fields:
        assert set(f.label) == {"nl", "fr", "en"}, f.name


def test_suggestion_starts_submitted():
    valid = validate_feature(rules("unpaving-spots"), Point(2.7, 50.85), {"title": "Tegels eruit"},
                             theme="vergroenen")
    assert valid.status == "submitted" and valid.theme == "vergroenen"
    assert valid.properties == {"title": "Tegels eruit"}


def test_asset_has_no_status():
    valid = validate_feature(rules("charging-points"), Point(2.7, 50.85), {"max_output_kw": "22"})
    assert valid.status is None and valid.properties == {"max_output_kw": 22.0}


def test_all_problems_are_reported_together():
    with pytest.raises(FeatureInvalid) as err:
        validate_feature(rules("unpaving-spots"), Point(3.5, 50.85), {"surface_m2": "veel"}, theme="parking",
                         status="approved")
    codes = {(p.field, p.code) for p in err.value.problems}
    assert codes == {(None, "outside_boundary"), ("title", "required"), ("surface_m2", "type"),
                     ("theme", "choice"), ("status", "choice")}


def test_status_is_refused_on_assets():
    with pytest.raises(FeatureInvalid) as err:
        validate_feature(rules("book-cabinets"), Point(2.7, 50.85), {}, status="submitted")
    assert [p.code for p in err.value.problems] == ["not_allowed"]


def test_roof_may_be_a_point_or_a_polygon():
    r = rules("solar-roofs")
    validate_feature(r, Point(2.7, 50.85), {"title": "Sporthal"})
    validate_feature(r, box(2.7, 50.85, 2.7002, 50.8501), {"title": "Sporthal", "roof_type": "flat"})
