"""Validate one feature for its layer: geometry, boundary, properties, theme and status together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.layers.schema import PropertyErrors, PropertySchema, parse_schema
from mapsvc.layers.status import STATUSES, SUBMITTED
from mapsvc.spatial.geometry import GeometryProblem, check_geometry


@dataclass(frozen=True)
class Problem:
    """One rule a feature breaks; `field` is None for the geometry or the whole feature."""

    field: str | None
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """Render the problem for an API error body."""
        return {"field": self.field, "code": self.code, "message": self.message}


class FeatureInvalid(ValueError):
    """A feature that breaks one or more rules of its layer."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ValidFeature:
    """A feature that passed every rule, ready to store."""

    geometry: BaseGeometry
    properties: dict[str, Any]
    theme: str | None
    status: str | None


@dataclass(frozen=True)
class LayerRules:
    """Everything needed to check features of one layer, without a database."""

    kind: str
    geometry_type: str
    schema: PropertySchema
    themes: tuple[str, ...]
    boundary: PreparedGeometry
    boundary_name: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, *, kind: str, geometry_type: str, property_schema: Mapping, themes: Sequence[str],
              boundary: BaseGeometry, boundary_name: str) -> LayerRules:
        """Build the rules from a layer's declaration and its platform's boundary."""
        return cls(kind, geometry_type, parse_schema(property_schema), tuple(themes), prep(boundary), boundary_name)


def validate_feature(rules: LayerRules, geometry: BaseGeometry | None, properties: Mapping[str, Any], *,
                     theme: str | None = None, status: str | None = None, unknown: str = "reject") -> ValidFeature:
    """Return the cleaned feature, or raise FeatureInvalid listing every rule it breaks."""
    problems: list[Problem] = []
    checked_geometry = None
    try:
        checked_geometry = check_geometry(geometry, rules.geometry_type, rules.boundary, rules.boundary_name)
    except GeometryProblem as exc:
        problems.append(Problem(None, exc.code, exc.message))
    cleaned: dict[str, Any] = {}
    try:
        cleaned = rules.schema.validate(properties, unknown=unknown)
    except PropertyErrors as exc:
        problems.extend(Problem(e.field, e.code, e.message) for e in exc.errors)
    theme = theme.strip() if isinstance(theme, str) and theme.strip() else None
    if theme is not None and theme not in rules.themes:
        allowed = ", ".join(rules.themes) or "none (this layer has no themes)"
        problems.append(Problem("theme", "choice", f"Unknown theme {theme[:60]!r}; allowed: {allowed}."))
    status = status.strip() if isinstance(status, str) and status.strip() else None
    if rules.kind == SUGGESTIONS:
        status = status or SUBMITTED
        if status not in STATUSES:
            problems.append(Problem("status", "choice",
                                    f"Unknown status {status[:40]!r}; allowed: {', '.join(STATUSES)}."))
    elif status is not None:
        problems.append(Problem("status", "not_allowed", "Only suggestions have a status; leave it empty here."))
    if problems:
        raise FeatureInvalid(problems)
    return ValidFeature(checked_geometry, cleaned, theme, status)
