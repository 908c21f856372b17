"""Warm workers (forked from a template that has imported torch) keep the cold workers' guarantees:
a fresh process per worker with the limits and the uid applied, nothing left over from the previous
student, a crash or a timeout costs only that worker, and grading gives the same record."""

from __future__ import annotations

import json

import pytest

from grader.engine import GradeOptions, grade_submission
from grader.sandbox import forkserver
from grader.sandbox.limits import WorkerLimits
from grader.sandbox.runner import Sandbox, WorkerLost, isolation_available
from tests.helpers import build_submission

ISOLATIONS = ["rlimits"] + (["bwrap"] if isolation_available() else [])
LIMITS = WorkerLimits(call_seconds=5.0, cpu_seconds=3, memory_bytes=3 << 30)

LEAVE_TRACES = """
import os, torch, builtins
torch.left_by_the_previous_student = True
builtins.left_by_the_previous_student = True
with open("left.txt", "w") as f:
    f.write("answers")
os.mkdir("folder")
os.chmod("folder", 0)
"""

LOOK_FOR_TRACES = """
import os, torch, builtins
found = [name for name, seen in (
    ("torch attribute", hasattr(torch, "left_by_the_previous_student")),
    ("builtin", hasattr(builtins, "left_by_the_previous_student")),
    ("file", os.path.exists("left.txt")),
    ("folder", os.path.lexists("folder")),
) if seen]
if found:
    raise RuntimeError(f"left by the previous worker: {found}")
"""


def run(handle, source: str, timeout: float = 30) -> dict:
    reply, _ = handle.request({"op": "exec", "source": source, "filename": "<test>"}, timeout=timeout)
    return reply


def limits_seen(handle) -> dict:
    """The worker's own view of its limits, sent back in an error message (the channel's only text)."""
    reply = run(
        handle,
        "import os, resource\nraise RuntimeError(repr((os.getuid(), os.getcwd(), "
        "resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_AS))))",
    )
    uid, cwd, cpu, memory = eval(reply["error"]["message"])  # our own repr of ints and strings
    return {"uid": uid, "cwd": cwd, "cpu": cpu, "memory": memory}


@pytest.fixture(params=ISOLATIONS)
def sandbox(request):
    yield Sandbox(isolation=request.param, limits=LIMITS, warm=True)
    forkserver.close_templates()


def test_each_worker_is_a_fresh_child_with_the_limits(sandbox):
    with sandbox.start() as first:
        seen = limits_seen(first)
        template = first.template
    with sandbox.start() as second:
        assert second.template is template  # the same warm template forked both
        assert second.proc.pid != first.proc.pid
        again = limits_seen(second)
    assert {**again, "cwd": None} == {**seen, "cwd": None}
    if sandbox.isolation == "rlimits":
        assert again["cwd"] != seen["cwd"]  # a fresh scratch folder (under bubblewrap: /scratch, emptied)
    assert seen["cpu"] == (LIMITS.cpu_seconds, LIMITS.cpu_seconds + 2)  # SIGXCPU first, SIGKILL 2 s later
    assert seen["memory"] == (LIMITS.memory_bytes, LIMITS.memory_bytes)
    cold = Sandbox(isolation=sandbox.isolation, warm=False)  # its CPU time includes importing torch
    with cold.start() as worker:
        assert limits_seen(worker)["uid"] == seen["uid"]  # the same uid as a cold worker


def test_nothing_passes_from_one_student_to_the_next(sandbox):
    with sandbox.start() as first:
        assert run(first, LEAVE_TRACES)["ok"], run(first, "")
    with sandbox.start() as second:
        reply = run(second, LOOK_FOR_TRACES)
    assert reply["ok"], reply["error"]


def test_a_crash_a_timeout_or_the_cpu_limit_costs_only_that_worker(sandbox):
    with sandbox.start() as worker:
        with pytest.raises(WorkerLost, match="exit code 3"):
            run(worker, "import os\nos._exit(3)")
    with sandbox.start() as worker:
        with pytest.raises(WorkerLost, match="within the 1 s limit") as lost:
            run(worker, "while True:\n    pass", timeout=1)
        assert lost.value.status == "timeout"
    with sandbox.start() as worker:  # CPU time counts from zero in each child, not from the template's
        with pytest.raises(WorkerLost, match=f"{LIMITS.cpu_seconds} s CPU-time limit"):
            run(worker, "while True:\n    pass", timeout=60)
    with sandbox.start() as worker:
        assert run(worker, "x = 1")["ok"]


def stable(record) -> dict:
    data = json.loads(record.to_json())
    for key in ("started", "seconds"):
        data.pop(key)
    for part in data["parts"]:
        part.pop("seconds")
    return data


def test_warm_and_cold_workers_give_the_same_record(tmp_path):
    path = build_submission("hostile_exit_in_rnn", tmp_path)  # a worker dies and is replaced mid-grading
    options = GradeOptions(
        limits=WorkerLimits(call_seconds=8.0, memory_bytes=3 << 30), training=False, max_examples=10
    )
    warm, cold = (
        grade_submission(
            path, assignment="rnn_scratch", options=GradeOptions(**{**options.__dict__, "warm": flag})
        )
        for flag in (True, False)
    )
    assert stable(warm) == stable(cold)
    assert [p.status for p in warm.parts if p.name == "rnn"] in (["error"], ["failed"])
