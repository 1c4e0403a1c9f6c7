"""Notebooks run: their code cells are executed in order, and their results checked where they promise one."""

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_notebook(path: Path) -> dict:
    namespace: dict = {}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)
    return namespace


def test_sample_platforms_notebook(monkeypatch):
    monkeypatch.chdir(NOTEBOOKS.parent)
    ns = run_notebook(NOTEBOOKS / "sample_platforms.ipynb")
    summary = ns["summary"]
    assert summary.loc["Brussels Hoofdstedelijk Gewest", "charging (public)"] == 613
    assert summary.loc["Brussels Hoofdstedelijk Gewest", "book cabinets (public)"] == 48
    assert summary.loc["Poperinge", "charging (public)"] == 5


def test_every_notebook_is_checked():
    # charging_rollout.ipynb runs in a real kernel in tests/db/test_rollout_notebook.py.
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ["charging_rollout.ipynb", "sample_platforms.ipynb"]
