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
    expected = {f"{r.student}__rnn_deep__{p.name}.png"
                for r in serial for p in r.parts if p.extras.get("curve")}
    assert expected, [(p.name, p.status, p.message) for r in serial for p in r.parts]
    for out in ("serial", "pool"):
        pngs = list((tmp_path / out).glob("*.png"))
        assert {p.name for p in pngs} == expected
        assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_killed_run_resumes_to_the_same_records(klass, tmp_path):
    """SIGKILL at a seeded random moment after the first record: what is on disk is whole, the re-run
    completes the class, the records equal an uninterrupted run's, and the re-run swept away the scratch
    folders the killed grader could not remove."""
    import random

    from grader.record import load_record

    reference = tmp_path / "reference"
    grade_paths([klass], out_dir=reference, workers=1)
    out, scratch = tmp_path / "killed", tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(klass), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(8).uniform(0.0, 2.0))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 1 <= len(finished) <= 3
    for name in finished:  # every record on disk is complete: it loads, every part has a status
        record = load_record(out / name)
        assert record.error is None and all(part.status for part in record.parts)
    # besides the records: hidden temporaries, or whole plots (drawn before their record)
    for p in out.iterdir():
        assert (p.name in finished or p.name.startswith(".")
                or p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"), p
    left = [p.name for p in scratch.iterdir() if p.name.startswith("rnn-grader-")]
    assert left, "the killed grader had a worker running: its scratch folder is left behind"
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True,
                   timeout=600)
    assert [p.name for p in scratch.iterdir()] == [], left
    assert stable(out) == stable(reference)
    assert all(out.joinpath(name).stat().st_mtime_ns == ns for name, ns in finished.items())
    # no temporaries
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.iterdir())
    assert list((out / ".claims").iterdir()) == []


DRIVER = """
import glob, sys, time
import grader.api as api

real = api.grade_notebook


def logged(**job):
    with open(sys.argv[2], "a") as log:
        log.write(f"{job['path']}\\n")
    time.sleep(0.4)  # widen the window in which the other grader could take the same submission
    return real(**job)


api.grade_notebook = logged
open(sys.argv[2] + ".ready", "w").close()
while len(glob.glob(sys.argv[4] + "/*.ready")) < 2:  # start together
    time.sleep(0.05)
records = api.grade_paths([sys.argv[1]], out_dir=sys.argv[3], workers=1)
assert len(records) == 6 and all(r is not None for r in records)
"""


def test_two_graders_on_one_folder_grade_each_submission_once(tmp_path):
    from grader.record import load_record

    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(6):  # broken notebooks: a record each in milliseconds, so the claims are what is tested
        (folder / f"s{i}.ipynb").write_bytes(b'{"cells": [' if i % 2 else b"\x00\xff not json")
    out = tmp_path / "out"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    for log in logs:
        log.touch()
    procs = [subprocess.Popen([sys.executable, "-c", DRIVER, str(folder), str(log), str(out), str(tmp_path)],
                              cwd=ROOT) for log in logs]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    graded = [line for log in logs for line in log.read_text().splitlines()]
    assert sorted(graded) == sorted(str(p) for p in folder.iterdir())  # each exactly once, by one grader
    records = [load_record(p) for p in sorted(out.glob("*.json"))]
    assert len(records) == 6 and all(r.parts and r.error is None for r in records)
    assert all(p.status == "missing" and p.message for r in records for p in r.parts)
    assert sorted(p.name for p in out.iterdir() if p.name != ".claims") == sorted(f"s{i}__rnn_scratch.json"
                                                                                    for i in range(6))
    assert list((out / ".claims").iterdir()) == []
