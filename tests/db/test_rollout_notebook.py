"""notebooks/charging_rollout.ipynb runs top to bottom on each backend and plans a sensible rollout."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]


def test_the_rollout_notebook_runs_and_plans(database_url, monkeypatch):
    monkeypatch.setenv("MAPSVC_DATABASE_URL", database_url)        # the kernel inherits the environment
    notebook = nbformat.read(REPO / "notebooks" / "charging_rollout.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    summary = json.loads(notebook.cells[-1].outputs[-1]["text"].strip().splitlines()[-1])
    assert summary["platform"] == "beringen" and summary["sites"] == 10 and summary["phases"] == [1, 2]
    curve = summary["curve"]
    assert len(curve) == 11 and all(b > a for a, b in zip(curve, curve[1:])) and curve[-1] <= 1
    assert 0.63 <= summary["greedy_ratio"] <= 1 and "straight-line" in summary["note"].lower()
    assert summary["map_html_bytes"] > 10_000
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)               # the coverage curve
