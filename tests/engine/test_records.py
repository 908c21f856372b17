"""Records: written atomically, versioned, and written even when the grader itself fails."""

from __future__ import annotations

import json

import grader.engine as engine
from grader.api import grade_notebook
from grader.record import SCHEMA_VERSION, load_record
from tests.helpers import ROOT


def test_internal_failure_still_leaves_a_record(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated grader bug")

    monkeypatch.setattr(engine, "check_policy", broken)
    record = grade_notebook(ROOT / "solutions" / "rnn_deep.py", assignment="rnn_deep", out_dir=tmp_path)
    assert "simulated grader bug" in record.error
    assert {p.status for p in record.parts} == {"error"} and record.score == 0
    [path] = tmp_path.glob("*.json")
    assert load_record(path).error == record.error
    assert not list(tmp_path.glob(".*.tmp"))


def test_record_schema(tmp_path):
    record = grade_notebook(ROOT / "solutions" / "rnn_deep.py", assignment="rnn_deep", out_dir=tmp_path)
    data = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    for key in ("submission", "sha256", "assignment", "score", "max_score", "isolation", "device", "seed",
                "grader_version", "torch_version", "started", "seconds", "parts"):
        assert key in data
    assert data["isolation"] in ("bwrap", "rlimits") and data["isolation"] == record.isolation
    part = data["parts"][0]
    for key in ("name", "points", "max_points", "status", "message", "counterexample", "seconds", "checks"):
        assert key in part
