"""Every fixture submission gets exactly its verdict: the listed parts lose points with a message
naming the symptom; every other part earns full marks."""

from __future__ import annotations

import re

import pytest

from grader.engine import GradeOptions, grade_submission
from grader.sandbox.limits import WorkerLimits
from tests.helpers import build_submission, expected, fixture_names

OPTIONS = GradeOptions(limits=WorkerLimits(call_seconds=8.0, memory_bytes=3 << 30, cpu_seconds=120),
                       part_seconds=60.0, training=False)
"""Unit-level verdicts: the training parts have their own tests (tests/training)."""


@pytest.mark.parametrize("name", fixture_names("bug_") + fixture_names("hostile_") + fixture_names("passes_"))
def test_fixture_verdict(name, tmp_path):
    spec = expected(name)
    record = grade_submission(build_submission(name, tmp_path), assignment=spec["assignment"], options=OPTIONS)
    assert record.error is None, record.error
    for part in record.parts:
        want = spec["parts"].get(part.name)
        if want is None:
            assert (part.status, part.points) == ("passed", part.max_points), (part.name, part.message)
            continue
        statuses = want["status"] if isinstance(want["status"], list) else [want["status"]]
        assert part.status in statuses, (part.name, part.status, part.message)
        if "points" in want:
            assert part.points == pytest.approx(want["points"]), (part.name, part.points, part.message)
        else:
            assert part.points < part.max_points, (part.name, part.points)
        assert re.search(want["message"], part.message, re.IGNORECASE | re.DOTALL), (part.name, part.message)
