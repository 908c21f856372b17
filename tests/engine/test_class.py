"""Grading a class: the pool gives the serial records, and an interrupted run resumes without loss."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from grader.api import grade_paths
from tests.helpers import ROOT, build_submission


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    for student, fixture in (("ann", "bug_rnn2_drops_whh2"), ("ben", "bug_state2_one_state"),
                             ("cat", "bug_params2_wrong_order")):
        folder = root / "submitted" / student / "rnn_deep"
        folder.mkdir(parents=True)
        build_submission(fixture, folder).rename(folder / "rnn_deep.py")
    return root / "submitted"


def stable(out_dir):
    records = {}
    for path in sorted(out_dir.glob("*.json")):
        data = json.loads(path.read_text())
        for key in ("started", "seconds"):
            data.pop(key)
        for part in data["parts"]:
            part.pop("seconds")
            part.get("extras", {}).pop("seconds", None)
        records[path.name] = data
    return records


def test_pool_matches_serial(klass, tmp_path):
    serial = grade_paths([klass], out_dir=tmp_path / "serial", workers=1)
    pooled = grade_paths([klass], out_dir=tmp_path / "pool", workers=2)
    assert [r.student for r in serial] == [r.student for r in pooled] == ["ann", "ben", "cat"]
    assert stable(tmp_path / "serial") == stable(tmp_path / "pool")
    # the training curves are plotted beside the records, one PNG per trained part
    expected = {f"{r.student}__rnn_deep__{p.name}.png" for r in serial for p in r.parts if p.extras.get("curve")}
    assert expected, [(p.name, p.status, p.message) for r in serial for p in r.parts]
    for out in ("serial", "pool"):
        pngs = list((tmp_path / out).glob("*.png"))
        assert {p.name for p in pngs} == expected
        assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_killed_run_resumes_to_the_same_records(klass, tmp_path):
    reference = tmp_path / "reference"
    grade_paths([klass], out_dir=reference, workers=1)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(klass), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 1 <= len(finished) < 3
    grade_paths([klass], out_dir=out, workers=1)
    assert stable(out) == stable(reference)
    assert all(out.joinpath(name).stat().st_mtime_ns == ns for name, ns in finished.items())
