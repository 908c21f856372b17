"""The CUDA path: every check with CUDA tensors. Skipped cleanly on machines without a GPU."""

from __future__ import annotations

import pytest
import torch

from grader.engine import GradeOptions, grade_submission
from grader.notebook.patch import patched_source
from tests.helpers import ROOT

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

CPU_ONE_HOT = '''
def one_hot(x, n_class, dtype=torch.float32):
    res = torch.zeros(x.shape[0], n_class, dtype=dtype)
    res[torch.arange(x.shape[0]), x.long().cpu()] = 1
    return res
'''


@pytest.mark.parametrize("assignment", ["rnn_scratch", "rnn_deep"])
def test_reference_full_marks_on_cuda(assignment):
    record = grade_submission(ROOT / "solutions" / f"{assignment}.py", assignment=assignment,
                              options=GradeOptions(device="cuda"))
    assert record.device == "cuda"
    assert [(p.name, p.status) for p in record.parts] == [(p.name, "passed") for p in record.parts], [
        (p.name, p.message) for p in record.parts if p.status != "passed"
    ]


def test_one_hot_left_on_cpu_fails_on_cuda(tmp_path):
    path = tmp_path / "cpu_one_hot.py"
    base = (ROOT / "solutions" / "rnn_scratch.py").read_text()
    path.write_text(patched_source(base, CPU_ONE_HOT))
    record = grade_submission(path, assignment="rnn_scratch", options=GradeOptions(device="cuda"))
    part = record.parts[0]
    assert part.name == "one_hot" and part.status == "failed" and part.points == 0, part
    assert "on device cpu where cuda" in part.message
