"""The reference solutions earn full marks through the API, the CLI and the pytest plugin,
in both isolations."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.api import check_notebook, grade_notebook
from grader.sandbox.runner import isolation_available
from tests.helpers import ROOT

ISOLATIONS = ["rlimits"] + (["bwrap"] if isolation_available() else [])


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("assignment", ["rnn_scratch", "rnn_deep"])
def test_reference_full_marks(assignment, isolation):
    record = check_notebook(ROOT / "solutions" / f"{assignment}.py", assignment=assignment,
                            isolation=isolation)
    assert record.isolation == isolation
    assert [(p.name, p.status, p.points) for p in record.parts] == [
        (p.name, "passed", p.max_points) for p in record.parts
    ], [(p.name, p.message) for p in record.parts if p.status != "passed"]
    assert record.score == record.max_score > 0


def test_same_submission_twice_gives_identical_records(tmp_path):
    path = ROOT / "solutions" / "rnn_deep.py"
    first, second = (grade_notebook(path, assignment="rnn_deep", out_dir=tmp_path / str(i)) for i in (1, 2))

    def stable(record):
        data = json.loads(record.to_json())
        for key in ("started", "seconds"):
            data.pop(key)
        for part in data["parts"]:
            part.pop("seconds")
        return data

    assert stable(first) == stable(second)
    assert len(list((tmp_path / "1").glob("*.json"))) == 1


def test_cli_check_exit_status(tmp_path):
    good = subprocess.run([sys.executable, "-m", "grader.cli", "check",
                           str(ROOT / "solutions" / "rnn_deep.py"),
                           "--assignment", "rnn_deep", "--json", str(tmp_path / "r.json")],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 9  # 6 + train_rnn_2layer (issue 5)
    missing = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(tmp_path / "nope.ipynb")],
                             capture_output=True, text=True)
    assert missing.returncode == 2
