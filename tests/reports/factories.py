"""Record factories: records built from the dataclasses directly, no grading."""

from __future__ import annotations

from grader.exercises import get_assignment
from grader.record import CheckResult, PartResult, Record

SAMPLE = "分开想要有直升机 想要和你飞到宇宙去"
CURVE = [30.0, 18.5, 9.25, 5.0, 3.1, 2.8]
FAILED_CURVE = [30.0, 22.0, 16.0, 12.0, 10.1, 9.1]


def part(name: str, points: float, max_points: float, *, status: str | None = None, message: str = "",
         counterexample: str | None = None, extras: dict | None = None) -> PartResult:
    """One part; passed when it has every point unless `status` says otherwise."""
    status = status or ("passed" if points == max_points else "failed")
    check = CheckResult("values", points, max_points, status, message, counterexample)
    return PartResult(name, points, max_points, status, message, counterexample, 0.5, [check], extras or {})


def record(student: str, assignment: str = "rnn_deep", *, lost: dict[str, str] | None = None,
           sha256: str = "a" * 64, seed: int = 0, grader_version: str = "1.0", threshold: float = 4.53,
           counterexample: str | None = "x=tensor([0]), n_class=1") -> Record:
    """A record of `student` with every part passed except those in `lost` (part -> message)."""
    lost = lost or {}
    parts = []
    for p in get_assignment(assignment).parts:
        extras = _training_extras(threshold, passed=p.name not in lost) if p.training else None
        if p.name in lost:
            parts.append(part(p.name, 0.0, float(p.points), message=lost[p.name],
                              counterexample=None if p.training else counterexample, extras=extras))
        else:
            parts.append(part(p.name, float(p.points), float(p.points), extras=extras))
    score = sum(p.points for p in parts)
    return Record(submission=f"submitted/{student}/{assignment}/{assignment}.ipynb", sha256=sha256,
                  assignment=assignment, score=score, max_score=get_assignment(assignment).max_score,
                  isolation="rlimits", device="cpu", seed=seed, grader_version=grader_version,
                  torch_version="2.13.0", started="2025-01-01T00:00:00+00:00", seconds=3.0, parts=parts,
                  student=student, mode="instructor")


def _training_extras(threshold: float, *, passed: bool) -> dict:
    curve = CURVE if passed else FAILED_CURVE
    return {"profile": "jaychou", "curve": curve, "perplexity": curve[-1], "threshold": threshold,
            "sample": SAMPLE, "device": "cpu", "train_seconds": 2.5}
