"""Dependencies point one way: pure code knows no Flask or database; storage and services know no Flask."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mapsvc"

WEB = ("flask", "werkzeug", "mapsvc.web", "mapsvc.app", "mapsvc.cli", "mapsvc.commands")
DATABASE = ("sqlalchemy", "geoalchemy2", "alembic", "psycopg", "mapsvc.storage", "mapsvc.services")
FORBIDDEN = {
    "layers": WEB + DATABASE,
    "suggest": WEB + DATABASE,
    "spatial": WEB + DATABASE,
    "export": WEB + DATABASE,
    "storage": WEB + ("mapsvc.services",),
    "services": WEB,
}


# Password hashing ships inside werkzeug but is no web code: the accounts service may use it.
ALLOWED = {"werkzeug.security"}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    offenders = []
    for path in (PACKAGE / package).rglob("*.py"):
        for name in imports_of(path):
            if name not in ALLOWED and any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, offenders


def test_the_walker_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import flask\nfrom sqlalchemy.orm import Session\n")
    assert imports_of(probe) == {"flask", "sqlalchemy.orm"}
