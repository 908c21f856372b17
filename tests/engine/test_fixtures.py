"""Every fixture submission gets exactly its verdict: the listed parts lose points with a message
naming the symptom; every other part earns full marks.

Hostile fixtures run under the isolation this machine gives (bubblewrap when it works, else rlimits
only); where bubblewrap works, those whose containment differs between the two (information,
network, process) run under rlimits as well. The verdict must hold in both, and a canary record
beside the submission must come out untouched. ``bench/attack_table.py`` runs every fixture under
both.
"""

from __future__ import annotations

import dataclasses

import pytest

from grader.engine import GradeOptions, grade_submission
from grader.record import load_record, write_record
from grader.sandbox.limits import WorkerLimits
from grader.sandbox.runner import isolation_available
from tests.helpers import build_submission, expected, fixture_limits, fixture_names, verdict_problems

OPTIONS = GradeOptions(limits=WorkerLimits(call_seconds=8.0, memory_bytes=3 << 30, cpu_seconds=120),
                       part_seconds=60.0, training=False)
"""Unit-level verdicts: the training parts have their own tests (tests/training)."""

HOSTILE_OPTIONS = dataclasses.replace(OPTIONS, max_examples=3)
"""A hostile submission misbehaves on every call: a few examples per check show it (keeps CI short)."""

ISOLATION_SENSITIVE = {"information", "network", "process"}
"""Categories contained differently by bubblewrap's namespaces and by rlimits with the audit hook."""


def _hostile_cases() -> list[tuple[str, str]]:
    cases = [(name, "auto") for name in fixture_names("hostile_")]
    if isolation_available():
        cases += [(name, "rlimits") for name in fixture_names("hostile_")
                  if expected(name)["category"] in ISOLATION_SENSITIVE]
    return cases


@pytest.mark.parametrize("name", fixture_names("bug_") + fixture_names("passes_"))
def test_fixture_verdict(name, tmp_path):
    spec = expected(name)
    path = build_submission(name, tmp_path)
    record = grade_submission(path, assignment=spec["assignment"], options=OPTIONS)
    assert verdict_problems(spec, record) == []


@pytest.mark.parametrize(("name", "isolation"), _hostile_cases())
def test_hostile_contained(name, isolation, tmp_path):
    spec = expected(name)
    canary = tmp_path / "records" / "canary__rnn_scratch.json"
    canary.parent.mkdir()
    canary.write_text('{"score": 0}', encoding="utf-8")
    options = dataclasses.replace(HOSTILE_OPTIONS, isolation=isolation,
                                  limits=fixture_limits(name, HOSTILE_OPTIONS.limits))
    path = build_submission(name, tmp_path)
    record = grade_submission(path, assignment=spec["assignment"], options=options)
    default = "bwrap" if isolation_available() else "rlimits"
    assert record.isolation == (default if isolation == "auto" else isolation)
    assert verdict_problems(spec, record) == []
    out = tmp_path / "records" / "graded__rnn_scratch.json"
    assert load_record(write_record(record, out)).parts == record.parts
    assert canary.read_bytes() == b'{"score": 0}'  # another student's record, untouched


def test_every_hostile_fixture_has_a_known_category():
    categories = {"forgery", "process", "resources", "information", "network", "policy"}
    seen = {expected(name).get("category") for name in fixture_names("hostile_")}
    assert seen == categories
