"""Import a file into a layer: every row checked, then all rows written, or none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from mapsvc.errors import ValidationFailed
from mapsvc.layers.rules import FeatureInvalid, validate_feature
from mapsvc.services.catalogue import get_layer, rules_for
from mapsvc.spatial.reading import FileProblem, read_features
from mapsvc.storage.features import insert_features

# Columns with a meaning of their own; every other column must be a field of the layer's schema.
THEME, STATUS = "theme", "status"
MAX_REPORTED = 20


@dataclass
class ImportReport:
    """What an import did."""

    platform: str
    layer: str
    imported: int
    source_crs: str
    ignored_columns: list[str] = field(default_factory=list)


def _value(value):
    """Turn pandas' missing markers into None and numpy scalars into Python ones."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    return value.item() if hasattr(value, "item") else value


def import_file(session: Session, platform_slug: str, layer_slug: str, path: str | Path, *,
                crs: str | None = None, source_layer: str | None = None, demo: bool = False,
                source: str | None = None, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Validate every row of a file against the layer and its platform, then insert them all.

    Raises ValidationFailed naming the rows and problems; the caller's transaction then writes nothing.
    """
    platform, layer = get_layer(session, platform_slug, layer_slug)
    try:
        result = read_features(path, crs=crs, layer=source_layer)
    except FileProblem as exc:
        raise ValidationFailed(str(exc), code="unreadable_file") from None
    frame = result.frame
    if len(frame) == 0:
        raise ValidationFailed("The file holds no features; nothing was imported.", code="empty_file")
    rules = rules_for(platform, layer)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    known = {f.name for f in rules.schema.fields} | {THEME, STATUS}
    ignored = [c for c in columns if c not in known]
    property_columns = [c for c in columns if c in known - {THEME, STATUS}]
    rows, problems, bad_rows = [], [], 0
    for done, (label, geometry, record) in enumerate( zip(result.labels, frame.geometry, frame[columns].itertuples(index=False)), 1):
        values = dict(zip(columns, record))
        try:
            valid = validate_feature(
                rules, geometry, {c: _value(values[c]) for c in property_columns},
                theme=_value(values.get(THEME)), status=_value(values.get(STATUS)),
            )
        except FeatureInvalid as exc:
            bad_rows += 1
            for problem in exc.problems:
                if len(problems) < MAX_REPORTED:
                    problems.append({"row": label, **problem.to_json()})
        else:
            rows.append({"geometry": valid.geometry, "properties": valid.properties, "theme": valid.theme,
                         "status": valid.status, "is_demo": demo,
                         "source": source or f"import of {Path(path).name}"})
        if progress:
            progress(done, len(frame))
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"{bad_rows} of {len(frame)} rows break the rules of layer {layer.slug!r}; nothing was imported. "
            f"First: {first['row']}: {first['message']}",
            code="invalid_rows", details={"problems": problems, "rows_with_problems": bad_rows},
        )
    imported = insert_features(session, layer.id, rows)
    return ImportReport(platform.slug, layer.slug, imported, result.source_crs, ignored)

