"""Unit tests for mapsvc.layers.schema: declaration parsing and property validation/cleaning."""

import copy
import dataclasses
import io
import json
import pickle
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import numpy as np  # project dependency; imports hand the validator numpy scalars
import pandas as pd
import pytest

from mapsvc.layers.schema import (
    FIELD_TYPES,
    RESERVED_NAMES,
    FieldSpec,
    PropertyError,
    PropertyErrors,
    PropertySchema,
    SchemaDeclarationError,
    parse_schema,
)


DECLARATION = {"fields": [
    {"name": "title", "type": "string", "required": True, "max_length": 20,
     "label": {"nl": "Titel", "fr": "Titre", "en": "Title"}},
    {"name": "body", "type": "text", "max_length": 50},
    {"name": "note", "type": "string"},
    {"name": "count", "type": "integer", "min": 0, "max": 10},
    {"name": "year", "type": "integer"},
    {"name": "floor", "type": "integer", "min": -2},
    {"name": "max_output_kw", "type": "number", "min": 0, "max": 1000},
    {"name": "ratio", "type": "number"},
    {"name": "flag", "type": "boolean"},
    {"name": "opened", "type": "date"},
    {"name": "website", "type": "url"},
    {"name": "condition", "type": "enum", "choices": ["good", "fair", "poor"],
     "choice_labels": {"good": {"nl": "goed", "fr": "bon"}}},
    {"name": "code", "type": "enum", "choices": ["1", "2", "3"]},
]}
SCHEMA = parse_schema(DECLARATION)
FIELD_NAMES = [f["name"] for f in DECLARATION["fields"]]
KNOWN = ", ".join(FIELD_NAMES)


def clean(name, value):
    """Validate a single field (partial, so the required title does not interfere) and return its value."""
    return SCHEMA.validate({name: value}, partial=True)[name]


def errors_of(props, **kwargs):
    with pytest.raises(PropertyErrors) as info:
        SCHEMA.validate(props, **kwargs)
    return info.value.errors


def single_error(name, value):
    errors = errors_of({name: value}, partial=True)
    assert len(errors) == 1, errors
    assert isinstance(errors[0], PropertyError)
    return errors[0]


# ----------------------------------------------------------------------------------------------- valid values

VALID = [
    # string / text: stripped, otherwise kept exactly as written (no HTML escaping here)
    ("title", "Laadpaal", "Laadpaal"),
    ("title", "  padded \t\n", "padded"),
    ("title", "x" * 20, "x" * 20),
    ("title", "é" * 20, "é" * 20),
    ("note", "<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("note", "Tom & Jerry's \"café\" <b>", "Tom & Jerry's \"café\" <b>"),
    ("note", "tab\tinside", "tab\tinside"),
    ("note", "emoji 👍🏽 and zero\u200dwidth joiner", "emoji 👍🏽 and zero\u200dwidth joiner"),
    ("note", "0", "0"),
    ("note", "x" * 200, "x" * 200),
    ("body", "line1\nline2", "line1\nline2"),
    ("body", "line1\r\nline2\rline3", "line1\nline2\nline3"),
    # integer
    ("count", 3, 3),
    ("count", 0, 0),
    ("count", 10, 10),
    ("count", 3.0, 3),
    ("count", " 7 ", 7),
    ("count", "+7", 7),
    ("count", "7.0", 7),
    ("count", "7,0", 7),
    ("year", -5, -5),
    ("year", "2024", 2024),
    ("year", "1e3", 1000),
    ("year", 10 ** 30, 10 ** 30),
    ("year", "123456789012345678901234567890", 123456789012345678901234567890),
    ("year", Decimal("12"), 12),
    ("year", Fraction(4, 2), 2),
    ("floor", "-2", -2),
    ("count", np.int64(5), 5),
    ("count", np.uint8(7), 7),
    ("count", np.int32(0), 0),
    ("count", np.float64(4.0), 4),
    ("count", np.float32(2.0), 2),
    # number: float, or int when the input was an integer
    ("max_output_kw", 12.5, 12.5),
    ("max_output_kw", 12, 12),
    ("max_output_kw", 0, 0),
    ("max_output_kw", 1000, 1000),
    ("max_output_kw", "12.5", 12.5),
    ("max_output_kw", "12,5", 12.5),
    ("max_output_kw", " 1000 ", 1000),
    ("max_output_kw", "0.0", 0.0),
    ("ratio", "-3.25", -3.25),
    ("ratio", ".5", 0.5),
    ("ratio", "5.", 5.0),
    ("ratio", "1e-3", 0.001),
    ("ratio", 1e308, 1e308),
    ("ratio", Decimal("2.5"), 2.5),
    ("ratio", np.float64(2.5), 2.5),
    ("ratio", np.float32(0.5), 0.5),
    ("ratio", np.int64(3), 3),
    # boolean
    ("flag", True, True),
    ("flag", False, False),
    ("flag", "true", True),
    ("flag", "TRUE", True),
    ("flag", " Yes ", True),
    ("flag", "no", False),
    ("flag", "1", True),
    ("flag", "0", False),
    ("flag", "ja", True),
    ("flag", "Nee", False),
    ("flag", "oui", True),
    ("flag", "NON", False),
    ("flag", "waar", True),
    ("flag", "onwaar", False),
    ("flag", 1, True),
    ("flag", 0, False),
    ("flag", 1.0, True),
    ("flag", np.True_, True),
    ("flag", np.False_, False),
    ("flag", np.int64(1), True),
    # date: always returned as an ISO string
    ("opened", date(2024, 5, 31), "2024-05-31"),
    ("opened", datetime(2024, 5, 31, 23, 59), "2024-05-31"),
    ("opened", "2024-05-31", "2024-05-31"),
    ("opened", " 2024-02-29 ", "2024-02-29"),
    ("opened", pd.Timestamp("2024-05-31 10:00"), "2024-05-31"),
    # url
    ("website", "https://www.gent.be/nl/x?y=1&z=2#top", "https://www.gent.be/nl/x?y=1&z=2#top"),
    ("website", "http://localhost:8080/", "http://localhost:8080/"),
    ("website", "HTTPS://EXAMPLE.BE", "HTTPS://EXAMPLE.BE"),
    ("website", "  https://a.be  ", "https://a.be"),
    ("website", "http://[::1]/", "http://[::1]/"),
    ("website", "https://liège.be/", "https://liège.be/"),
    # enum: exact choice after stripping; integer codes as read by pandas
    ("condition", "good", "good"),
    ("condition", " fair ", "fair"),
    ("code", "2", "2"),
    ("code", 2, "2"),
    ("code", 2.0, "2"),
    ("code", np.int64(3), "3"),
    ("code", np.float64(1.0), "1"),
]


@pytest.mark.parametrize("name,value,expected", VALID)
def test_valid_values_are_cleaned(name, value, expected):
    result = clean(name, value)
    assert result == expected
    assert type(result) is type(expected)  # plain Python types, never numpy/Decimal


# --------------------------------------------------------------------------------------------- invalid values

INVALID = [
    # string / text: type
    ("title", 12, "type", "title must be text"),
    ("title", 1.5, "type", "must be text"),
    ("title", True, "type", "got true"),
    ("title", ["a"], "type", "got a list"),
    ("title", {"nl": "x"}, "type", "got an object"),
    ("title", b"bytes", "type", "must be text"),
    ("body", 0, "type", "body must be text, got 0"),
    # control characters / invalid code points
    ("note", "a\x00b", "format", "U+0000"),
    ("note", "bell\x07!", "format", "U+0007"),
    ("note", "esc\x1b[31mred", "format", "U+001B"),
    ("note", "del\x7fx", "format", "U+007F"),
    ("note", "next\x85line", "format", "U+0085"),
    ("note", "a\x0bb", "format", "U+000B"),
    ("body", "x\x0cy", "format", "U+000C"),
    ("note", "bad\ud800surrogate", "format", "U+D800"),
    # too long
    ("title", "x" * 21, "too_long", "at most 20 characters long, got 21 characters"),
    ("note", "y" * 201, "too_long", "at most 200 characters long, got 201"),
    ("body", "z" * 51, "too_long", "at most 50 characters long"),
    ("note", "a" * 1_000_000, "too_long", "got 1000000 characters"),
    ("website", "https://a.be/" + "x" * 2000, "too_long", "at most 2000 characters"),
    # integer
    ("count", 3.5, "type", "whole number"),
    ("count", "3.5", "type", "whole number"),
    ("count", "abc", "type", "whole number"),
    ("count", True, "type", "got true"),
    ("count", False, "type", "got false"),
    ("count", "true", "type", "whole number"),
    ("count", [1], "type", "got a list"),
    ("count", {}, "type", "got an object"),
    ("count", float("inf"), "type", "finite number"),
    ("count", float("-inf"), "type", "finite number"),
    ("count", "Infinity", "type", "finite number"),
    ("count", "nan", "type", "finite number"),
    ("count", 11, "range", "between 0 and 10, got 11"),
    ("count", -1, "range", "got -1"),
    ("count", "11", "range", "got '11'"),
    ("count", 1e300, "range", "between 0 and 10"),
    ("year", "1_000", "type", "whole number"),
    ("year", "١٢", "type", "whole number"),
    ("year", "12 34", "type", "whole number"),
    ("year", "0x1A", "type", "whole number"),
    ("year", "9" * 5000, "type", "year must be"),
    ("year", complex(1, 0), "type", "a value of type complex"),
    ("year", Decimal("sNaN"), "type", "whole number"),
    ("floor", -3, "range", "floor must be a whole number of at least -2, got -3"),
    ("year", np.bool_(True), "type", "got true"),
    ("year", np.float64(2.5), "type", "got 2.5"),
    ("year", np.array([1, 2]), "type", "year must be a whole number"),
    ("count", np.int64(11), "range", "got 11"),
    # number
    ("max_output_kw", "fast", "type", "max_output_kw must be a number between 0 and 1000, got 'fast'"),
    ("max_output_kw", 1000.5, "range", "got 1000.5"),
    ("max_output_kw", -0.1, "range", "got -0.1"),
    ("max_output_kw", float("inf"), "type", "finite number between 0 and 1000, got Infinity"),
    ("ratio", float("-inf"), "type", "finite number, got -Infinity"),
    ("ratio", "Infinity", "type", "finite number"),
    ("ratio", "-inf", "type", "finite number"),
    ("ratio", "nan", "type", "finite number"),
    ("ratio", "NaN", "type", "finite number"),
    ("ratio", "1e400", "type", "finite number"),
    ("ratio", True, "type", "got true"),
    ("ratio", "1.234,5", "type", "ratio must be a number"),
    ("ratio", "1,234.5", "type", "must be a number"),
    ("ratio", "12.5.1", "type", "must be a number"),
    ("ratio", "€12", "type", "must be a number"),
    ("ratio", "12 kW", "type", "must be a number"),
    ("ratio", "1_000.5", "type", "must be a number"),
    ("ratio", [1.0], "type", "got a list"),
    ("ratio", Decimal("Infinity"), "type", "finite number"),
    ("ratio", Decimal("sNaN"), "type", "must be a number"),
    # boolean
    ("flag", "maybe", "type", "flag must be yes or no"),
    ("flag", "y", "type", "yes or no"),
    ("flag", "truee", "type", "yes or no"),
    ("flag", 2, "type", "got 2"),
    ("flag", -1, "type", "got -1"),
    ("flag", 0.5, "type", "got 0.5"),
    ("flag", [True], "type", "got a list"),
    ("flag", Decimal("sNaN"), "type", "yes or no"),
    # date
    ("opened", "31/12/2024", "format", "YYYY-MM-DD"),
    ("opened", "2024-02-30", "format", "existing calendar date"),
    ("opened", "2023-02-29", "format", "existing calendar date"),
    ("opened", "2024-13-01", "format", "existing calendar date"),
    ("opened", "20240531", "format", "YYYY-MM-DD"),
    ("opened", "2024-W22-5", "format", "YYYY-MM-DD"),
    ("opened", "2024-05-31T10:00:00", "format", "YYYY-MM-DD"),
    ("opened", "２０２４-05-31", "format", "YYYY-MM-DD"),
    ("opened", "tomorrow", "format", "got 'tomorrow'"),
    ("opened", 20240531, "type", "got 20240531"),
    ("opened", 1.5, "type", "YYYY-MM-DD"),
    ("opened", True, "type", "got true"),
    # url
    ("website", "javascript:alert(1)", "format", "starting with http:// or https://"),
    ("website", "ftp://files.gent.be/a", "format", "http:// or https://"),
    ("website", "www.gent.be", "format", "got 'www.gent.be'"),
    ("website", "http://", "format", "http:// or https://"),
    ("website", "https:///path", "format", "http:// or https://"),
    ("website", "https://exa mple.be", "format", "http:// or https://"),
    ("website", "data:text/html,<script>alert(1)</script>", "format", "http:// or https://"),
    ("website", "http://a.be:99999/", "format", "http:// or https://"),
    ("website", "http://a.be:abc/", "format", "http:// or https://"),
    ("website", "http://[::1", "format", "http:// or https://"),
    ("website", "//gent.be/x", "format", "http:// or https://"),
    ("website", "mailto:info@gent.be", "format", "http:// or https://"),
    ("website", "https://a.be/\x00", "format", "U+0000"),
    ("website", 42, "type", "http:// or https://"),
    ("website", ["https://a.be"], "type", "got a list"),
    # enum
    ("condition", "excellent", "choice", "condition must be one of 'good', 'fair', 'poor', got 'excellent'"),
    ("condition", "Good", "choice", "got 'Good'"),
    ("condition", 1, "choice", "one of 'good', 'fair', 'poor'"),
    ("condition", True, "choice", "got true"),
    ("condition", ["good"], "choice", "got a list"),
    ("condition", {"good": 1}, "choice", "got an object"),
    ("code", 4, "choice", "one of '1', '2', '3', got 4"),
    ("code", 2.5, "choice", "got 2.5"),
    ("code", True, "choice", "got true"),
    ("code", "02", "choice", "got '02'"),
    ("code", float("inf"), "choice", "got Infinity"),
]


@pytest.mark.parametrize("name,value,code,fragment", INVALID)
def test_invalid_values_are_reported(name, value, code, fragment):
    err = single_error(name, value)
    assert (err.field, err.code) == (name, code)
    assert fragment in err.message
    assert str(err) == err.message
    assert err.message.startswith(name + " ")
    assert len(err.message) < 250  # hostile values are never echoed in full


EXACT_MESSAGES = [
    ("max_output_kw", "fast", "max_output_kw must be a number between 0 and 1000, got 'fast'"),
    ("max_output_kw", 1500, "max_output_kw must be a number between 0 and 1000, got 1500"),
    ("max_output_kw", 1500.0, "max_output_kw must be a number between 0 and 1000, got 1500"),
    ("count", 3.5, "count must be a whole number between 0 and 10, got 3.5"),
    ("floor", -3, "floor must be a whole number of at least -2, got -3"),
    ("year", "abc", "year must be a whole number, got 'abc'"),
    ("ratio", "Infinity", "ratio must be a finite number, got 'Infinity'"),
    ("title", "x" * 21, "title must be at most 20 characters long, got 21 characters"),
    ("title", 12, "title must be text, got 12"),
    ("note", "a\x07b", "note contains an invisible control or invalid character (U+0007) at position 2; remove it"),
    ("condition", "excellent", "condition must be one of 'good', 'fair', 'poor', got 'excellent'"),
    ("website", "www.gent.be", "website must be a web address starting with http:// or https:// "
                               "(for example https://www.gemeente.be/page), got 'www.gent.be'"),
    ("opened", "31/12/2024", "opened must be a date written as YYYY-MM-DD (for example 2024-05-31), "
                             "got '31/12/2024'"),
    ("opened", "2024-02-30", "opened must be an existing calendar date written as YYYY-MM-DD, got '2024-02-30'"),
    ("flag", "maybe", "flag must be yes or no (true/false, ja/nee, oui/non), got 'maybe'"),
    ("year", "x" * 100, "year must be a whole number, got '" + "x" * 37 + "...'"),
    ("year", "\x1b[31m", "year must be a whole number, got '\\x1b[31m'"),
    ("year", [], "year must be a whole number, got a list"),
]


@pytest.mark.parametrize("name,value,message", EXACT_MESSAGES)
def test_exact_messages(name, value, message):
    assert single_error(name, value).message == message


# ---------------------------------------------------------------------------------------- missing / required

MISSING = [None, "", "   ", "\t\n", "\u00a0", float("nan"), Decimal("NaN"), np.nan, np.float32("nan"), pd.NA, pd.NaT]
OPTIONAL = [n for n in FIELD_NAMES if n != "title"]


@pytest.mark.parametrize("value", MISSING, ids=repr)
def test_missing_required_field(value):
    errors = errors_of({"title": value})
    assert [(e.field, e.code, e.message) for e in errors] == [("title", "required", "title is required; fill it in")]


def test_absent_required_field():
    errors = errors_of({"note": "x"})
    assert [(e.field, e.code) for e in errors] == [("title", "required")]


@pytest.mark.parametrize("name", OPTIONAL)
@pytest.mark.parametrize("value", MISSING, ids=repr)
def test_missing_optional_field_is_omitted(name, value):
    assert SCHEMA.validate({"title": "T", name: value}) == {"title": "T"}


def test_zero_and_false_are_not_missing():
    result = SCHEMA.validate({"title": "T", "count": 0, "ratio": 0.0, "flag": False, "note": "0"})
    assert result == {"title": "T", "note": "0", "count": 0, "ratio": 0.0, "flag": False}


# ---------------------------------------------------------------------------------------------------- partial

@pytest.mark.parametrize("props,expected", [
    ({}, {}),
    ({"count": "3"}, {"count": 3}),
    ({"ratio": "1,5", "flag": "ja"}, {"ratio": 1.5, "flag": True}),
    ({"body": None, "count": "", "opened": float("nan")}, {"body": None, "count": None, "opened": None}),
])
def test_partial_checks_only_given_fields(props, expected):
    result = SCHEMA.validate(props, partial=True)
    assert result == expected
    assert list(result) == [n for n in FIELD_NAMES if n in expected]


@pytest.mark.parametrize("value", [None, "", "  "])
def test_partial_cannot_clear_required_field(value):
    errors = errors_of({"title": value}, partial=True)
    assert [(e.field, e.code) for e in errors] == [("title", "required")]


def test_partial_still_rejects_invalid_and_unknown():
    errors = errors_of({"count": 99, "colour": "red"}, partial=True)
    assert [(e.field, e.code) for e in errors] == [("count", "range"), ("colour", "unknown_field")]


# ------------------------------------------------------------------------------------------ unknown / objects

def test_unknown_field_rejected_by_default():
    errors = errors_of({"title": "T", "colour": "red"})
    assert [(e.field, e.code) for e in errors] == [("colour", "unknown_field")]
    assert errors[0].message == f"colour is not a field of this layer; remove it (known fields: {KNOWN})"


def test_unknown_field_ignored():
    props = {"colour": "red", "title": "T", "status": "open", 7: "x"}
    assert SCHEMA.validate(props, unknown="ignore") == {"title": "T"}


def test_reserved_name_in_properties_gets_specific_message():
    errors = errors_of({"title": "T", "status": "open"})
    assert [(e.field, e.code) for e in errors] == [("status", "unknown_field")]
    assert errors[0].message.startswith("status is managed by the platform, not a property of this layer")


@pytest.mark.parametrize("key,field,shown", [
    (7, "7", "7 is not a field"),
    ("Bad Key\x00", "Bad Key\x00", "'Bad Key\\x00' is not a field"),
    ("TITLE", "TITLE", "'TITLE' is not a field"),
    ("k" * 500, "k" * 100, "'" + "k" * 37 + "...' is not a field"),
])
def test_odd_unknown_keys(key, field, shown):
    errors = errors_of({"title": "T", key: 1})
    assert [(e.field, e.code) for e in errors] == [(field, "unknown_field")]
    assert errors[0].message.startswith(shown)


def test_unknown_field_on_schema_without_fields():
    with pytest.raises(PropertyErrors) as info:
        parse_schema({"fields": []}).validate({"a": 1})
    assert info.value.errors[0].message == "a is not a field of this layer; remove it (known fields: none)"
    assert parse_schema({"fields": []}).validate({}) == {}


def test_invalid_unknown_mode_is_a_programming_error():
    with pytest.raises(ValueError) as info:
        SCHEMA.validate({"title": "T"}, unknown="drop")
    assert not isinstance(info.value, PropertyErrors)
    with pytest.raises(TypeError):
        SCHEMA.validate({"title": "T"}, "ignore")  # keyword-only


@pytest.mark.parametrize("props,shown", [
    ([("title", "T")], "a list"), ("title=T", "'title=T'"), (None, "a value of type NoneType"),
    (42, "42"), (True, "true"), (("title",), "a list"),
])
def test_properties_must_be_an_object(props, shown):
    errors = errors_of(props)
    assert [(e.field, e.code) for e in errors] == [(None, "not_an_object")]
    assert errors[0].message == f"properties must be an object of field names and values, got {shown}"


def test_all_errors_are_reported_together_in_schema_order():
    props = {"status": "open", "website": "www.x.be", "colour": "red", "max_output_kw": -1,
             "count": "many", "title": "", "note": "ok"}
    with pytest.raises(PropertyErrors) as info:
        SCHEMA.validate(props)
    errors = info.value.errors
    assert isinstance(errors, tuple)
    assert [(e.field, e.code) for e in errors] == [
        ("title", "required"), ("count", "type"), ("max_output_kw", "range"), ("website", "format"),
        ("status", "unknown_field"), ("colour", "unknown_field")]
    assert str(info.value) == "; ".join(e.message for e in errors)
    assert str(info.value).startswith("title is required; fill it in; count must be a whole number between 0 and 10")


def test_full_feature_is_cleaned_in_schema_order_and_json_serialisable():
    props = {"code": 1.0, "website": " https://gent.be ", "flag": "oui", "opened": date(2024, 1, 2),
             "ratio": "3,5", "max_output_kw": 22, "floor": "-1", "year": 2024.0, "count": "4",
             "note": " <i>hi</i> ", "body": "a\r\nb", "title": " Laadpaal ", "condition": "poor"}
    props.update(year=np.int64(2024), max_output_kw=np.float64(22.0), flag=np.True_)
    result = SCHEMA.validate(props)
    assert list(result) == FIELD_NAMES
    assert result == {"title": "Laadpaal", "body": "a\nb", "note": "<i>hi</i>", "count": 4, "year": 2024,
                      "floor": -1, "max_output_kw": 22, "ratio": 3.5, "flag": True, "opened": "2024-01-02",
                      "website": "https://gent.be", "condition": "poor", "code": "1"}
    assert {type(v) for v in result.values()} <= {str, int, float, bool}
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_input_mapping_is_not_modified():
    props = {"title": " T ", "count": "3"}
    before = copy.deepcopy(props)
    SCHEMA.validate(props)
    assert props == before


@pytest.mark.parametrize("dtype", [None, str])
def test_rows_read_by_pandas_from_csv(dtype):
    csv = ("title,count,max_output_kw,flag,opened,code\n"
           "Laadpaal,3,\"12,5\",ja,2024-05-31,1\n"
           "Bank,,,nee,,\n"
           ",x,5,1,2024-02-30,2\n")
    rows = pd.read_csv(io.StringIO(csv), dtype=dtype).to_dict("records")
    assert SCHEMA.validate(rows[0]) == {"title": "Laadpaal", "count": 3, "max_output_kw": 12.5, "flag": True,
                                        "opened": "2024-05-31", "code": "1"}
    assert SCHEMA.validate(rows[1]) == {"title": "Bank", "flag": False}
    with pytest.raises(PropertyErrors) as info:
        SCHEMA.validate(rows[2])
    assert [(e.field, e.code) for e in info.value.errors] == [("title", "required"), ("count", "type"),
                                                                ("opened", "format")]


# ----------------------------------------------------------------------------------------------- exceptions

def test_property_error_attributes_and_pickling():
    err = PropertyError("count", "range", "count must be at most 10, got 11")
    assert isinstance(err, ValueError)
    assert (err.field, err.code, err.message, str(err)) == ("count", "range", "count must be at most 10, got 11",
                                                            "count must be at most 10, got 11")
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.field, clone.code, clone.message) == (err.field, err.code, err.message)
    errs = PropertyErrors([err, PropertyError(None, "not_an_object", "bad")])
    assert isinstance(errs, ValueError)
    assert str(errs) == "count must be at most 10, got 11; bad"
    assert [e.code for e in pickle.loads(pickle.dumps(errs)).errors] == ["range", "not_an_object"]


# ---------------------------------------------------------------------------------------------- declarations

def _decl(**field):
    return {"fields": [{"name": "f", "type": "string", **field}]}


BAD_DECLARATIONS = [
    ([], "must be an object with a 'fields' list"),
    (None, "must be an object with a 'fields' list"),
    ({}, "'fields' list"),
    ({"fields": "title"}, "'fields' list"),
    ({"fields": {"name": "a", "type": "string"}}, "'fields' list"),
    ({"fields": [], "version": 2}, "unknown keys in the schema declaration: ['version']"),
    ({"fields": ["title"]}, "fields[0]: a field declaration must be an object"),
    ({"fields": [{"type": "string"}]}, "'name' and a 'type'"),
    ({"fields": [{"name": "a"}]}, "'name' and a 'type'"),
    ({"fields": [{"name": None, "type": "string"}]}, "a name must be 1-63 lowercase letters"),
    ({"fields": [{"name": "ok", "type": "string"}, {"name": "Bad", "type": "string"}]}, "fields[1]: field 'Bad'"),
    ({"fields": [{"name": "a", "type": "string"}, {"name": "a", "type": "text"}]}, "declared more than once"),
    (_decl(type="str"), "unknown type 'str'"),
    (_decl(type="String"), "unknown type"),
    (_decl(type="float"), "unknown type"),
    (_decl(type=None), "unknown type"),
    (_decl(type=["string"]), "unknown type"),
    ({"fields": [{"name": "c", "type": "enum"}]}, "non-empty list of 'choices'"),
    (_decl(type="enum", choices=[]), "non-empty list of 'choices'"),
    (_decl(type="enum", choices="abc"), "non-empty list of 'choices'"),
    (_decl(type="enum", choices=None), "non-empty list of 'choices'"),
    (_decl(type="enum", choices=[1, 2]), "every choice must be a non-empty string"),
    (_decl(type="enum", choices=["a", ""]), "every choice must be a non-empty string"),
    (_decl(type="enum", choices=[" a"]), "without surrounding spaces"),
    (_decl(type="enum", choices=["a", "a"]), "duplicates"),
    (_decl(type="enum", choices=["a"], choice_labels={"b": {"nl": "b"}}), "keys are among the choices"),
    (_decl(type="enum", choices=["a"], choice_labels=["a"]), "keys are among the choices"),
    (_decl(type="enum", choices=["a"], choice_labels={"a": "A"}), "'choice_labels'['a'] must map language"),
    (_decl(type="enum", choices=["a"], choice_labels={"a": {"nl": 1}}), "must map language codes"),
    (_decl(choices=["a"]), "only apply to enum fields"),
    (_decl(choice_labels={"a": {"nl": "A"}}), "only apply to enum fields"),
    (_decl(type="number", min=10, max=1), "'min' (10) is greater than 'max' (1)"),
    (_decl(type="integer", min=0.5, max=0.25), "'min' (0.5) is greater than 'max' (0.25)"),
    (_decl(type="number", min="0"), "'min' must be a finite number"),
    (_decl(type="number", max=True), "'max' must be a finite number"),
    (_decl(type="number", max=float("nan")), "'max' must be a finite number"),
    (_decl(type="number", min=float("-inf")), "'min' must be a finite number"),
    (_decl(min=0), "'min' only applies to integer and number fields"),
    (_decl(type="date", max=5), "'max' only applies to integer and number fields"),
    (_decl(type="integer", max_length=10), "'max_length' only applies to string, text and url fields"),
    (_decl(max_length=0), "'max_length' must be a positive whole number"),
    (_decl(type="text", max_length=-5), "'max_length' must be a positive whole number"),
    (_decl(max_length=1.5), "'max_length' must be a positive whole number"),
    (_decl(max_length=True), "'max_length' must be a positive whole number"),
    (_decl(max_length="10"), "'max_length' must be a positive whole number"),
    (_decl(required="yes"), "'required' must be true or false"),
    (_decl(required=1), "'required' must be true or false"),
    (_decl(label="Titel"), "'label' must map language codes to text"),
    (_decl(label={"nl": 1}), "'label' must map language codes to text"),
    (_decl(label={"": "x"}), "'label' must map language codes to text"),
    (_decl(maxlength=10), "unknown keys ['maxlength']"),
    (_decl(description="x", default="y"), "unknown keys ['description', 'default']"),
]


@pytest.mark.parametrize("declaration,fragment", BAD_DECLARATIONS)
def test_bad_declarations(declaration, fragment):
    with pytest.raises(SchemaDeclarationError) as info:
        parse_schema(declaration)
    assert isinstance(info.value, ValueError)
    assert fragment in str(info.value)


@pytest.mark.parametrize("name", ["Title", "1abc", "_a", "has-dash", "has space", "", "a" * 64, "é", "title\n",
                                  "a.b", 12, ["a"]])
def test_invalid_field_names(name):
    with pytest.raises(SchemaDeclarationError, match="a name must be 1-63 lowercase letters"):
        parse_schema({"fields": [{"name": name, "type": "string"}]})


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
def test_reserved_field_names(name):
    with pytest.raises(SchemaDeclarationError, match="reserved by the platform"):
        parse_schema({"fields": [{"name": name, "type": "string"}]})


def test_reserved_names_and_types_constants():
    assert RESERVED_NAMES == frozenset({"id", "status", "theme", "official_answer", "source", "source_ref", "demo",
                                        "created_at", "updated_at", "vote_count", "layer", "platform", "geometry"})
    assert FIELD_TYPES == ("string", "text", "integer", "number", "boolean", "date", "url", "enum")


@pytest.mark.parametrize("field,attr,expected", [
    ({"name": "a" * 63, "type": "string"}, "name", "a" * 63),
    ({"name": "a", "type": "string"}, "max_length", 200),
    ({"name": "a", "type": "text"}, "max_length", 5000),
    ({"name": "a", "type": "url"}, "max_length", 2000),
    ({"name": "a", "type": "integer"}, "max_length", None),
    ({"name": "a", "type": "string", "max_length": 1}, "max_length", 1),
    ({"name": "a", "type": "number", "min": 5, "max": 5}, "min", 5),
    ({"name": "a", "type": "number", "min": -1.5}, "min", -1.5),
    ({"name": "a", "type": "string", "label": None, "min": None, "required": None}, "required", False),
    ({"name": "a", "type": "boolean", "required": True}, "required", True),
    ({"name": "a", "type": "enum", "choices": ["x", "y"]}, "choices", ("x", "y")),
    ({"name": "a", "type": "string"}, "choices", ()),
    ({"name": "a", "type": "string", "choices": []}, "choices", ()),
    ({"name": "a", "type": "string"}, "label", {}),
    ({"name": "a", "type": "string", "label": {"nl": "A"}}, "label", {"nl": "A"}),
])
def test_good_declarations(field, attr, expected):
    spec = parse_schema({"fields": [field]}).field(field["name"])
    assert getattr(spec, attr) == expected


def test_field_lookup():
    assert SCHEMA.field("title") == FieldSpec("title", "string", required=True, max_length=20,
                                              label={"nl": "Titel", "fr": "Titre", "en": "Title"})
    assert SCHEMA.field("max_output_kw").min == 0 and SCHEMA.field("max_output_kw").max == 1000
    assert SCHEMA.field("condition").choice_labels == {"good": {"nl": "goed", "fr": "bon"}}
    assert [f.name for f in SCHEMA.fields] == FIELD_NAMES
    for missing in ("nope", "id", "", None, 3, ["title"]):
        assert SCHEMA.field(missing) is None


def test_field_spec_is_checked_when_built_directly():
    with pytest.raises(SchemaDeclarationError, match="reserved"):
        FieldSpec("id", "string")
    with pytest.raises(SchemaDeclarationError, match="non-empty list of 'choices'"):
        FieldSpec("c", "enum")
    with pytest.raises(SchemaDeclarationError, match="declared more than once"):
        PropertySchema((FieldSpec("a", "string"), FieldSpec("a", "integer")))
    with pytest.raises(SchemaDeclarationError, match="FieldSpec objects"):
        PropertySchema(({"name": "a", "type": "string"},))
    assert FieldSpec("c", "enum", choices=["x"]).choices == ("x",)
    assert PropertySchema([FieldSpec("a", "string")]).fields == (FieldSpec("a", "string"),)


def test_schema_is_immutable_and_hashable():
    declaration = copy.deepcopy(DECLARATION)
    schema = parse_schema(declaration)
    declaration["fields"][0]["label"]["nl"] = "Gewijzigd"
    declaration["fields"][11]["choices"].append("new")
    declaration["fields"][11]["choice_labels"]["good"]["nl"] = "x"
    assert schema == SCHEMA
    with pytest.raises(dataclasses.FrozenInstanceError):
        schema.fields[0].required = False
    with pytest.raises(TypeError):
        schema.field("title").label["nl"] = "x"
    with pytest.raises(TypeError):
        schema.field("condition").choice_labels["good"]["nl"] = "x"
    assert hash(schema) == hash(SCHEMA)
    assert len({schema, SCHEMA}) == 1


# ------------------------------------------------------------------------------------------------ round trip

ROUND_TRIP = [
    DECLARATION,
    {"fields": []},
    {"fields": [{"name": "a", "type": "number", "min": -0.5, "max": 2.25}]},
    {"fields": [{"name": "b", "type": "enum", "choices": ["x", "y"], "required": True,
                 "label": {"fr": "B"}, "choice_labels": {"x": {"nl": "iks"}, "y": {}}}]},
    {"fields": [{"name": t + "_f", "type": t} for t in FIELD_TYPES if t != "enum"]},
]


@pytest.mark.parametrize("declaration", ROUND_TRIP)
def test_to_json_round_trips(declaration):
    schema = parse_schema(declaration)
    data = schema.to_json()
    assert parse_schema(data) == schema
    assert parse_schema(json.loads(json.dumps(data))) == schema
    assert parse_schema(data).to_json() == data
    assert [f["name"] for f in data["fields"]] == [f["name"] for f in declaration["fields"]]


def test_to_json_exact_output():
    schema = parse_schema({"fields": [
        {"name": "title", "type": "string", "required": True, "label": {"nl": "Titel"}},
        {"name": "kw", "type": "number", "min": 0, "max": 1000.5},
        {"name": "condition", "type": "enum", "choices": ["good", "poor"], "choice_labels": {"good": {"nl": "goed"}}},
        {"name": "flag", "type": "boolean"},
    ]})
    assert schema.to_json() == {"fields": [
        {"name": "title", "type": "string", "required": True, "label": {"nl": "Titel"}, "max_length": 200},
        {"name": "kw", "type": "number", "required": False, "min": 0, "max": 1000.5},
        {"name": "condition", "type": "enum", "required": False, "choices": ["good", "poor"],
         "choice_labels": {"good": {"nl": "goed"}}},
        {"name": "flag", "type": "boolean", "required": False},
    ]}
    data = schema.to_json()
    data["fields"][0]["label"]["nl"] = "changed"  # to_json returns copies
    assert schema.field("title").label == {"nl": "Titel"}
