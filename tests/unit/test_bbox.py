import pytest

from mapsvc.spatial.bbox import parse_bbox


def test_parses_four_numbers():
    assert parse_bbox("4.3, 50.8,4.4,50.9") == (4.3, 50.8, 4.4, 50.9)


def test_degenerate_box_is_allowed():
    assert parse_bbox("4.3,50.8,4.3,50.8") == (4.3, 50.8, 4.3, 50.8)


@pytest.mark.parametrize("text, fragment", [
    ("4.3,50.8,4.4", "four numbers"),
    ("4.3,50.8,4.4,50.9,1", "four numbers"),
    ("", "four numbers"),
    ("a,50.8,4.4,50.9", "minlon must be a number"),
    ("nan,50.8,4.4,50.9", "finite"),
    ("4.3,inf,4.4,50.9", "finite"),
    ("4.3,50.8,-Infinity,50.9", "finite"),
    ("4.4,50.8,4.3,50.9", "inverted"),
    ("4.3,50.9,4.4,50.8", "inverted"),
    ("181,50,182,51", "between -180 and 180"),
    ("4,-91,5,51", "between -90 and 90"),
    ("1e400,0,1,1", "finite"),
])
def test_rejects_with_a_reason(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_bbox(text)
