import pytest

from mapsvc.layers.osm import book_cabinet_properties, charging_point_properties, is_public


@pytest.mark.parametrize("tags, public", [
    ({}, True), ({"access": "yes"}, True), ({"access": "permissive"}, True), ({"access": "destination"}, True),
    ({"access": "private"}, False), ({"access": "customers"}, False), ({"access": " Private "}, False),
    ({"access": "employees"}, False), ({"access": "no"}, False),
])
def test_public_access(tags, public):
    assert is_public(tags) is public


def test_charging_point_mapping_drops_implausible_power():
    props = charging_point_properties({"name": "Markt", "capacity": "2", "operator": "Allego"}, 5.6683e7, "u")
    assert props == {"name": "Markt", "operator": "Allego", "capacity": 2, "osm_url": "u"}


def test_charging_point_mapping_keeps_real_power():
    props = charging_point_properties({"capacity": "two"}, 22, "u")
    assert props == {"max_output_kw": 22.0, "osm_url": "u"}


def test_book_cabinet_uses_operator_as_maintainer():
    assert book_cabinet_properties({"name": "Boekentil", "operator": "Buurt"}, "u") == {
        "name": "Boekentil", "maintainer": "Buurt", "osm_url": "u"}
