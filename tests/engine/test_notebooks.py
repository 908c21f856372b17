"""Notebooks with the reference solutions in their answer cells earn full marks through the API and the
pytest plugin; broken notebooks end in a record, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.api import check_notebook
from tests.helpers import ROOT

SOURCE = ROOT / "assignments" / "source"


@pytest.mark.parametrize("assignment", ["rnn_scratch", "rnn_deep"])
def test_filled_notebook_full_marks(assignment):
    record = check_notebook(SOURCE / assignment / f"{assignment}.ipynb")
    assert record.assignment == assignment
    assert all(p.status == "passed" and p.points == p.max_points for p in record.parts), [
        (p.name, p.message) for p in record.parts if p.status != "passed"
    ]


def test_release_stub_notebook_scores_zero_with_messages():
    record = check_notebook(ROOT / "assignments" / "release" / "rnn_deep" / "rnn_deep.ipynb")
    assert record.score == 0
    assert all("NotImplementedError" in p.message for p in record.parts), [p.message for p in record.parts]


def test_pytest_plugin_reports_one_item_per_part():
    nb = SOURCE / "rnn_deep" / "rnn_deep.ipynb"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--notebook", str(nb)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "3 passed" in run.stdout


def test_pytest_plugin_shows_the_counterexample(tmp_path):
    nb = json.loads((SOURCE / "rnn_deep" / "rnn_deep.ipynb").read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "rnn_2layer":
            text = "".join(cell["source"])
            cell["source"] = text.replace("H1_t W_xh2", "").replace("H1 @ W_xh2 + H2 @ W_hh2", "H1 @ W_xh2")
    path = tmp_path / "rnn_deep.ipynb"
    path.write_text(json.dumps(nb))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--notebook", str(path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1
    assert "1 failed, 2 passed" in run.stdout
    assert "smallest failing input: inputs=" in run.stdout
    assert "Traceback" not in run.stdout


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe garbage", b'{"cells": 3}', b"[]"])
def test_broken_notebook_is_a_record(tmp_path, content):
    path = tmp_path / "rnn_scratch.ipynb"
    path.write_bytes(content)
    record = check_notebook(path)
    assert record.score == 0 and record.error is None
    assert {p.status for p in record.parts} == {"missing"}
    assert record.parts[0].message
