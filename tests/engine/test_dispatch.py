"""Grading a class in parallel: a submission that kills its worker costs only its own record, and a
Dask cluster gives the local pool's records (which are the serial ones: see test_class.py)."""

from __future__ import annotations

import re

import pytest

from grader.api import grade_paths
from grader.cluster import task_resources
from grader.exercises import get_assignment
from tests.engine.test_class import stable
from tests.helpers import build_submission, expected

FIXTURES = {"ann": "hostile_exit_in_rnn", "ben": "bug_onehot_off_by_one", "cat": "passes_book_code"}
"""ann's rnn ends its worker (os._exit) in the middle of a call."""


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    for student, fixture in FIXTURES.items():
        folder = root / "submitted" / student / "rnn_scratch"
        folder.mkdir(parents=True)
        build_submission(fixture, folder).rename(folder / "rnn_scratch.py")
    return root / "submitted"


@pytest.fixture(scope="module")
def pooled(klass, tmp_path_factory):
    out = tmp_path_factory.mktemp("pool")
    return out, {r.student: r for r in grade_paths([klass], out_dir=out, workers=2)}


def check_verdict(record, fixture: str, *, trains_with_the_bug: bool) -> None:
    want = expected(fixture)["parts"]
    training = {p.name for p in get_assignment(record.assignment).parts if p.training}
    assert record.error is None, record.error
    for part in record.parts:
        if part.name in want:
            statuses = want[part.name]["status"]
            assert part.status in (statuses if isinstance(statuses, list) else [statuses]), part
            assert re.search(want[part.name]["message"], part.message, re.IGNORECASE), part.message
        elif part.name in training and trains_with_the_bug:
            assert part.status != "passed" and part.points == 0, part
        else:
            assert (part.status, part.points) == ("passed", part.max_points), (part.name, part.message)


def test_a_crashing_submission_costs_only_its_own_record(pooled):
    out, records = pooled
    assert sorted(p.name for p in out.glob("*.json")) == [f"{s}__rnn_scratch.json" for s in sorted(FIXTURES)]
    for student, fixture in FIXTURES.items():
        check_verdict(records[student], fixture, trains_with_the_bug=student == "ann")  # it trains its rnn


def test_dask_matches_the_pool(klass, pooled, tmp_path):
    pytest.importorskip("distributed", reason="the Dask tests need the dask extra")
    dask = grade_paths([klass], out_dir=tmp_path, workers=2, scheduler="local")
    assert [r.student for r in dask] == sorted(FIXTURES)
    assert stable(tmp_path) == stable(pooled[0])
    assert len(stable(tmp_path)) == len(FIXTURES)


def test_training_on_cuda_asks_for_a_gpu_worker():
    assert task_resources({"device": "cuda"}) == task_resources({"device": "cuda:1"}) == {"GPU": 1}
    assert task_resources({"device": "cpu"}) is None
