"""Fuzzed notebooks: whatever a mutated submission looks like, grading it ends in a complete, valid
record with a message per lost part, and never in a grader failure.

CI runs 40 derandomized cases without shrinking (each case that reaches the sandbox
costs a worker); ``bench/fuzz_notebooks.py`` runs a thousand and more.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings

from grader.engine import GradeOptions, grade_submission
from grader.exercises import get_assignment
from grader.sandbox.limits import WorkerLimits
from tests.fuzzing import mutated_notebooks, record_problems

FUZZ_OPTIONS = GradeOptions(training=False, max_examples=2, part_seconds=60.0,
                            limits=WorkerLimits(call_seconds=10.0, memory_bytes=3 << 30, cpu_seconds=120))
"""Cheap checks: the fuzzer is after grader failures, not the verdicts (the fixtures assert those)."""


@settings(max_examples=40, derandomize=True, database=None, deadline=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.nested_given,
                                 HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])
@given(case=mutated_notebooks())
def test_mutated_notebook_ends_in_a_valid_record(case, tmp_path):
    steps, data = case
    path = tmp_path / "rnn_scratch.ipynb"
    path.write_bytes(data)
    record = grade_submission(path, options=FUZZ_OPTIONS)
    problems = record_problems(record, get_assignment("rnn_scratch"), training=FUZZ_OPTIONS.training)
    assert problems == [], (steps, problems)
