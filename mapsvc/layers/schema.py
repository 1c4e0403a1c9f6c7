"""Property schemas of map layers: declaration parsing and validation/cleaning of feature properties."""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from urllib.parse import urlsplit

__all__ = ["RESERVED_NAMES", "FIELD_TYPES", "SchemaDeclarationError", "PropertyError", "PropertyErrors",
           "FieldSpec", "PropertySchema", "parse_schema"]

RESERVED_NAMES = frozenset({"id", "status", "theme", "official_answer", "source", "source_ref", "demo",
                            "created_at", "updated_at", "vote_count", "layer", "platform", "geometry"})
FIELD_TYPES = ("string", "text", "integer", "number", "boolean", "date", "url", "enum")

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,62}", re.ASCII)
_INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_NONFINITE_RE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# C0/C1 control characters except \t and \n (\r is normalised to \n first) and lone surrogates (not UTF-8 encodable).
_BAD_CHAR_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_DEFAULT_MAX_LENGTH = {"string": 200, "text": 5000, "url": 2000}
_TRUE = frozenset({"true", "yes", "1", "ja", "oui", "waar", "wahr"})
_FALSE = frozenset({"false", "no", "0", "nee", "non", "onwaar", "nein", "falsch"})
_FIELD_KEYS = ("name", "type", "required", "label", "min", "max", "max_length", "choices", "choice_labels")
_MISSING_TYPES = frozenset({"NAType", "NaTType"})  # pandas.NA / pandas.NaT, recognised without importing pandas
_REAL = (numbers.Real, Decimal)
_URL_HINT = "a web address starting with http:// or https:// (for example https://www.gemeente.be/page)"
_DATE_HINT = "a date written as YYYY-MM-DD (for example 2024-05-31)"


class SchemaDeclarationError(ValueError):
    """The schema declaration itself is malformed (a developer or configuration error)."""


class PropertyError(ValueError):
    """One problem with one property value; str(err) is the human-readable message."""

    def __init__(self, field: str | None, code: str, message: str):
        super().__init__(field, code, message)
        self.field, self.code, self.message = field, code, message

    def __str__(self) -> str:
        return self.message


class PropertyErrors(ValueError):
    """All problems found in the properties of one feature; str() joins the messages with '; '."""

    def __init__(self, errors):
        self.errors = tuple(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "; ".join(e.message for e in self.errors)


def _is_bool(v) -> bool:
    return isinstance(v, bool) or type(v).__name__ in ("bool", "bool_")  # numpy.bool_ is no bool subclass


def _is_missing(v) -> bool:
    if v is None or type(v).__name__ in _MISSING_TYPES:
        return True
    if isinstance(v, str):
        return not v.strip()
    return (x := _float(v)) is not None and math.isnan(x)


def _int(v) -> int | None:
    """int(v) for a non-bool integer (numpy integers included), else None."""
    if _is_bool(v) or not hasattr(type(v), "__index__"):
        return None
    try:
        return int(operator.index(v))
    except (TypeError, ValueError):  # e.g. numpy arrays
        return None


def _float(v) -> float | None:
    """float(v) for a non-bool real number (numpy and Decimal included), else None."""
    if _is_bool(v) or not isinstance(v, _REAL):
        return None
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):  # Decimal("sNaN"), huge ints
        return None


def _num(x) -> str:
    """Format a number for a message: 1000.0 -> '1000', inf -> 'Infinity'."""
    if isinstance(x, int):
        return str(x) if x.bit_length() < 200 else "a very large number"
    x = float(x)
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else "Infinity" if x > 0 else "-Infinity"
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)


def _show(v) -> str:
    """Describe an offending value briefly and safely (truncated, control characters escaped)."""
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:37] + "...")
    if _is_bool(v):
        return "true" if v else "false"
    if (x := _int(v)) is not None or (x := _float(v)) is not None:
        return _num(x)
    if isinstance(v, Mapping):
        return "an object"
    return "a list" if isinstance(v, (list, tuple, set, frozenset)) else f"a value of type {type(v).__name__}"


def _expect(spec: FieldSpec, what: str) -> str:
    lo, hi = spec.min, spec.max
    if lo is not None and hi is not None:
        return f"{what} between {_num(lo)} and {_num(hi)}"
    if lo is not None or hi is not None:
        return f"{what} of at least {_num(lo)}" if lo is not None else f"{what} of at most {_num(hi)}"
    return what


def _err(spec: FieldSpec, code: str, what: str, value) -> PropertyError:
    return PropertyError(spec.name, code, f"{spec.name} must be {what}, got {_show(value)}")


def _clean_text(spec: FieldSpec, v) -> str:
    if not isinstance(v, str):
        raise _err(spec, "type", "text", v)
    s = v.replace("\r\n", "\n").replace("\r", "\n").strip()
    if bad := _BAD_CHAR_RE.search(s):
        raise PropertyError(spec.name, "format", f"{spec.name} contains an invisible control or invalid character "
                                                 f"(U+{ord(bad.group()):04X}) at position {bad.start() + 1}; remove it")
    if len(s) > spec.max_length:
        raise PropertyError(spec.name, "too_long", f"{spec.name} must be at most {spec.max_length} characters long, "
                                                   f"got {len(s)} characters")
    return s


def _as_real(spec: FieldSpec, v, what: str) -> int | float:
    """Convert JSON/CSV/numpy/Decimal input to a finite int or float within min/max, or raise PropertyError."""
    x = None
    if isinstance(v, str):
        s = v.strip()
        if _NONFINITE_RE.fullmatch(s):
            raise _err(spec, "type", _expect(spec, "a finite number"), v)
        if _INT_RE.fullmatch(s) and len(s) < 4000:  # Python refuses int() on > 4300 digits
            x = int(s)
        elif _NUM_RE.fullmatch(s):
            x = float(s.replace(",", "."))
    elif (x := _int(v)) is None:
        x = _float(v)
    if x is None:
        raise _err(spec, "type", _expect(spec, what), v)
    if isinstance(x, float) and not math.isfinite(x):
        raise _err(spec, "type", _expect(spec, "a finite number"), v)
    if what == "a whole number" and isinstance(x, float):
        if not x.is_integer():
            raise _err(spec, "type", _expect(spec, what), v)
        x = int(x)
    if (spec.min is not None and x < spec.min) or (spec.max is not None and x > spec.max):
        raise _err(spec, "range", _expect(spec, what), v)
    return x


def _clean_boolean(spec: FieldSpec, v) -> bool:
    if _is_bool(v):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    if (x := _float(v)) in (0.0, 1.0):
        return x == 1.0
    raise _err(spec, "type", "yes or no (true/false, ja/nee, oui/non)", v)


def _clean_date(spec: FieldSpec, v) -> str:
    if isinstance(v, date):
        return (v.date() if isinstance(v, datetime) else v).isoformat()
    if not isinstance(v, str):
        raise _err(spec, "type", _DATE_HINT, v)
    if not _DATE_RE.fullmatch(v.strip()):
        raise _err(spec, "format", _DATE_HINT, v)
    try:
        return date.fromisoformat(v.strip()).isoformat()
    except ValueError:
        raise _err(spec, "format", "an existing calendar date written as YYYY-MM-DD", v) from None


def _clean_url(spec: FieldSpec, v) -> str:
    if not isinstance(v, str):
        raise _err(spec, "type", _URL_HINT, v)
    s = _clean_text(spec, v)
    try:
        parts = urlsplit(s)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in s)
        parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        ok = False
    if not ok:
        raise _err(spec, "format", _URL_HINT, v)
    return s


def _clean_enum(spec: FieldSpec, v) -> str:
    s = v.strip() if isinstance(v, str) else None
    # pandas reads code columns such as 1/2/3 as integers (or as 1.0/2.0 when some cells are empty).
    if s is None and (x := _float(v)) is not None and x.is_integer() and abs(x) < 1e15:
        s = str(int(x))
    if s not in spec.choices:
        raise _err(spec, "choice", "one of " + ", ".join(map(repr, spec.choices)), v)
    return s


_CLEANERS = {"string": _clean_text, "text": _clean_text, "url": _clean_url, "enum": _clean_enum,
             "integer": lambda spec, v: _as_real(spec, v, "a whole number"),
             "number": lambda spec, v: _as_real(spec, v, "a number"),
             "boolean": _clean_boolean, "date": _clean_date}


def _labels(where: str, value) -> MappingProxyType:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and k and isinstance(t, str)
                                                 for k, t in value.items()):
        raise SchemaDeclarationError(f"{where} must map language codes to text, e.g. {{\"nl\": \"Titel\"}}")
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class FieldSpec:
    """Declaration of one property field; checked on construction (raises SchemaDeclarationError)."""

    name: str
    type: str
    required: bool = False
    label: Mapping[str, str] = dc_field(default_factory=dict, hash=False)
    min: float | None = None
    max: float | None = None
    max_length: int | None = None  # None means the default of the type (string 200, text 5000, url 2000)
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, Mapping[str, str]] = dc_field(default_factory=dict, hash=False)

    def __post_init__(self):
        fail, w, set_ = SchemaDeclarationError, f"field {self.name!r}", lambda k, v: object.__setattr__(self, k, v)
        if not isinstance(self.name, str) or not _NAME_RE.fullmatch(self.name):
            raise fail(f"{w}: a name must be 1-63 lowercase letters, digits or _, starting with a letter")
        if self.name in RESERVED_NAMES:
            raise fail(f"{w}: the name is reserved by the platform; choose another name")
        if self.type not in FIELD_TYPES:
            raise fail(f"{w}: unknown type {self.type!r}; use one of {', '.join(FIELD_TYPES)}")
        if not isinstance(self.required, bool):
            raise fail(f"{w}: 'required' must be true or false")
        set_("label", _labels(f"{w}: 'label'", self.label))
        for key in ("min", "max"):
            if (v := getattr(self, key)) is None:
                continue
            if self.type not in ("integer", "number"):
                raise fail(f"{w}: '{key}' only applies to integer and number fields")
            if _is_bool(v) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise fail(f"{w}: '{key}' must be a finite number")
            set_(key, int(v) if isinstance(v, numbers.Integral) else float(v))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise fail(f"{w}: 'min' ({_num(self.min)}) is greater than 'max' ({_num(self.max)})")
        if self.max_length is not None and self.type not in _DEFAULT_MAX_LENGTH:
            raise fail(f"{w}: 'max_length' only applies to string, text and url fields")
        if self.max_length is not None and (_is_bool(self.max_length) or not isinstance(self.max_length, int)
                                            or self.max_length <= 0):
            raise fail(f"{w}: 'max_length' must be a positive whole number")
        if self.max_length is None and self.type in _DEFAULT_MAX_LENGTH:
            set_("max_length", _DEFAULT_MAX_LENGTH[self.type])
        if self.type != "enum":
            if self.choices or self.choice_labels:
                raise fail(f"{w}: 'choices' and 'choice_labels' only apply to enum fields")
            set_("choices", ())
            return set_("choice_labels", MappingProxyType({}))
        if not isinstance(self.choices, (list, tuple)) or not self.choices:
            raise fail(f"{w}: an enum field needs a non-empty list of 'choices'")
        set_("choices", tuple(self.choices))
        if not all(isinstance(c, str) and c and c == c.strip() for c in self.choices):
            raise fail(f"{w}: every choice must be a non-empty string without surrounding spaces")
        if len(set(self.choices)) != len(self.choices):
            raise fail(f"{w}: 'choices' contains duplicates")
        if not isinstance(self.choice_labels, Mapping) or set(self.choice_labels) - set(self.choices):
            raise fail(f"{w}: 'choice_labels' must be an object whose keys are among the choices")
        set_("choice_labels", MappingProxyType({c: _labels(f"{w}: 'choice_labels'[{c!r}]", t)
                                                for c, t in self.choice_labels.items()}))

    def to_json(self) -> dict:
        """Return the declaration of this field as plain JSON data."""
        out = {"name": self.name, "type": self.type, "required": self.required}
        if self.label:
            out["label"] = dict(self.label)
        out.update((k, getattr(self, k)) for k in ("min", "max", "max_length") if getattr(self, k) is not None)
        if self.type == "enum":
            out["choices"] = list(self.choices)
        if self.choice_labels:
            out["choice_labels"] = {c: dict(t) for c, t in self.choice_labels.items()}
        return out


@dataclass(frozen=True)
class PropertySchema:
    """The ordered property fields of a layer, with validation of feature properties against them."""

    fields: tuple[FieldSpec, ...] = ()
    _index: Mapping[str, FieldSpec] = dc_field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        fields, index = tuple(self.fields), {}
        for f in fields:
            if not isinstance(f, FieldSpec):
                raise SchemaDeclarationError(f"PropertySchema.fields must contain FieldSpec objects, not {f!r}")
            if f.name in index:
                raise SchemaDeclarationError(f"field {f.name!r} is declared more than once")
            index[f.name] = f
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "_index", MappingProxyType(index))

    def field(self, name) -> FieldSpec | None:
        """Return the field called `name`, or None."""
        return self._index.get(name) if isinstance(name, str) else None

    def validate(self, props, *, unknown: str = "reject", partial: bool = False) -> dict:
        """Check and clean one feature's properties, raising PropertyErrors that lists every problem.

        With partial=True (edits) absent fields are skipped; a field given empty comes back as None
        ("clear it"), or is reported as "required" if the field is required.
        """
        if unknown not in ("reject", "ignore"):
            raise ValueError(f"unknown must be 'reject' or 'ignore', not {unknown!r}")
        if not isinstance(props, Mapping):
            raise PropertyErrors([PropertyError(None, "not_an_object", "properties must be an object of field "
                                                f"names and values, got {_show(props)}")])
        errors, out = [], {}
        for spec in self.fields:
            present, value = spec.name in props, props.get(spec.name)
            if _is_missing(value):
                if spec.required and (present or not partial):
                    errors.append(PropertyError(spec.name, "required", f"{spec.name} is required; fill it in"))
                elif partial and present:
                    out[spec.name] = None
                continue
            try:
                out[spec.name] = _CLEANERS[spec.type](spec, value)
            except PropertyError as e:
                errors.append(e)
        for key in props if unknown == "reject" else ():
            if self.field(key) is None:
                name = key if isinstance(key, str) and _NAME_RE.fullmatch(key) else _show(key)
                why = "is managed by the platform, not a property" if key in RESERVED_NAMES else "is not a field"
                errors.append(PropertyError(str(key)[:100], "unknown_field", f"{name} {why} of this layer; remove "
                                            f"it (known fields: {', '.join(self._index) or 'none'})"))
        if errors:
            raise PropertyErrors(errors)
        return out

    def to_json(self) -> dict:
        """Return the declaration as plain JSON data; parse_schema(s.to_json()) == s."""
        return {"fields": [f.to_json() for f in self.fields]}


def parse_schema(declaration: Mapping) -> PropertySchema:
    """Build a PropertySchema from its JSON declaration, raising SchemaDeclarationError if it is malformed."""
    if not isinstance(declaration, Mapping) or not isinstance(declaration.get("fields"), (list, tuple)):
        raise SchemaDeclarationError("a schema declaration must be an object with a 'fields' list")
    if extra := sorted(str(k) for k in declaration if k != "fields"):
        raise SchemaDeclarationError(f"unknown keys in the schema declaration: {extra}; only 'fields' is allowed")
    specs = []
    for i, decl in enumerate(declaration["fields"]):
        try:
            if not isinstance(decl, Mapping) or "name" not in decl or "type" not in decl:
                raise SchemaDeclarationError("a field declaration must be an object with a 'name' and a 'type'")
            if extra := [str(k) for k in decl if k not in _FIELD_KEYS]:
                raise SchemaDeclarationError(f"unknown keys {extra}; allowed: {', '.join(_FIELD_KEYS)}")
            kw = {k: v for k, v in decl.items() if v is not None or k in ("name", "type")}
            specs.append(FieldSpec(**kw))
        except SchemaDeclarationError as e:
            raise SchemaDeclarationError(f"fields[{i}]: {e}") from None
    return PropertySchema(tuple(specs))
