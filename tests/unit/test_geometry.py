import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.prepared import prep

from mapsvc.spatial.geometry import GeometryProblem, check_geometry

AREA = prep(box(2.6, 50.8, 2.8, 50.9))


def check(geometry, kind="point"):
    return check_geometry(geometry, kind, AREA, "Poperinge")


def test_point_inside_passes():
    assert check(Point(2.7, 50.85)).equals(Point(2.7, 50.85))


def test_point_on_the_boundary_counts_as_inside():
    check(Point(2.6, 50.85))


def test_z_is_dropped():
    assert not shapely.has_z(check(Point(2.7, 50.85, 12.0)))


def test_polygon_comes_back_counter_clockwise():
    clockwise = Polygon([(2.7, 50.85), (2.7, 50.86), (2.71, 50.86), (2.71, 50.85)])
    assert not clockwise.exterior.is_ccw
    assert check(clockwise, "polygon").exterior.is_ccw


@pytest.mark.parametrize("geometry, kind, code", [
    (None, "point", "missing_geometry"),
    (Point(), "point", "missing_geometry"),
    (box(2.7, 50.85, 2.71, 50.86), "point", "geometry_type"),
    (Point(2.7, 50.85), "polygon", "geometry_type"),
    (shapely.LineString([(2.7, 50.85), (2.71, 50.86)]), "point_or_polygon", "geometry_type"),
    (Point(3.5, 50.85), "point", "outside_boundary"),
    (box(2.75, 50.85, 2.85, 50.86), "polygon", "outside_boundary"),
    (Point(45000, 195000), "point", "coordinates_out_of_range"),
    (Polygon([(2.7, 50.85), (2.71, 50.86), (2.71, 50.85), (2.7, 50.86)]), "polygon", "invalid_geometry"),
])
def test_problems_have_codes(geometry, kind, code):
    with pytest.raises(GeometryProblem) as err:
        check(geometry, kind)
    assert err.value.code == code


def test_outside_message_names_the_area():
    with pytest.raises(GeometryProblem, match="outside Poperinge"):
        check(Point(3.5, 50.85))


def test_multipolygon_allowed_for_polygon_layers():
    check(MultiPolygon([box(2.7, 50.85, 2.71, 50.86), box(2.72, 50.85, 2.73, 50.86)]), "polygon")
