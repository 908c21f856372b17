"""Instructor mode: hidden checks run after the public ones, cost exactly their check, and never leak code."""

from __future__ import annotations

from grader.api import grade_notebook
from grader.notebook.patch import patched_source
from tests.helpers import ROOT

INT8_ONE_HOT = '''
def one_hot(x, n_class, dtype=torch.float32):
    res = torch.zeros(x.shape[0], n_class, dtype=dtype, device=x.device)
    res.scatter_(1, x.to(torch.int8).long().view(-1, 1), 1)
    return res
'''


def test_reference_full_marks_with_hidden_checks():
    record = grade_notebook(ROOT / "solutions" / "rnn_scratch.py", assignment="rnn_scratch",
                            solutions=ROOT / "solutions")
    assert record.mode == "instructor"
    assert record.score == record.max_score, [
        (p.name, p.message) for p in record.parts if p.status != "passed"
    ]


def test_hidden_check_catches_what_public_checks_miss(tmp_path):
    path = tmp_path / "int8_one_hot.py"
    path.write_text(patched_source((ROOT / "solutions" / "rnn_scratch.py").read_text(), INT8_ONE_HOT))
    public = grade_notebook(path, assignment="rnn_scratch")
    assert public.parts[0].status == "passed"
    hidden = grade_notebook(path, assignment="rnn_scratch", solutions=ROOT / "solutions")
    part = hidden.parts[0]
    assert (part.name, part.status, part.points) == ("one_hot", "failed", 0.5)
    assert part.message.startswith("values: hidden check:") and "out of bounds" in part.message
    assert "def " not in part.message and "scratch." not in part.message
    assert [p.status for p in hidden.parts[1:]] == ["passed"] * (len(hidden.parts) - 1)
