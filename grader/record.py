"""The record of one graded submission: versioned JSON, written atomically.

Every submission ends with a record on disk, whatever happened: a broken
notebook, a hostile submission, or a bug in the grader (then every unfinished
part says ``error``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "STATUSES", "CheckResult", "PartResult", "Record", "load_record", "write_record"]

SCHEMA_VERSION = 1
STATUSES = ("passed", "failed", "error", "timeout", "forbidden", "missing")


@dataclass
class CheckResult:
    """One property of one part."""

    name: str
    """The check's name within its part (``values``, ``device``...)."""
    points: float
    """Points earned: all of max_points when it passed, else 0."""
    max_points: float
    status: str
    """One of STATUSES."""
    message: str = ""
    """What was wrong, for the student; never the hidden check's code."""
    counterexample: str | None = None
    """The smallest input found that shows the problem."""
    hidden: bool = False
    """True when the failure came from the instructor's hidden checks."""


@dataclass
class PartResult:
    """One exercise function (or training run)."""

    name: str
    points: float
    max_points: float
    status: str
    """passed only when every check passed; else the worst status among its checks."""
    message: str = ""
    counterexample: str | None = None
    seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    """Part-specific data for reports (perplexity curve, sample text)."""


@dataclass
class Record:
    """Everything known about one graded submission."""

    submission: str
    """The submission's path as given."""
    sha256: str
    """Hash of the submission's bytes: a changed file is regraded."""
    assignment: str
    score: float
    max_score: float
    isolation: str
    """``bwrap`` or ``rlimits``: how the student's code was contained."""
    device: str
    seed: int
    """Hypothesis and torch seed of every check."""
    grader_version: str
    torch_version: str
    started: str
    """ISO 8601 time the grading began (UTC)."""
    seconds: float
    parts: list[PartResult]
    student: str | None = None
    """nbgrader student id, when graded from a course."""
    mode: str = "public"
    """``public`` (the student's check) or ``instructor`` (public + hidden checks)."""
    error: str | None = None
    """Set when the grader itself failed; the parts say which were unfinished."""
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=False)


def write_record(record: Record, path: str | Path) -> Path:
    """Write `record` atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(record.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_record(path: str | Path) -> Record:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: record schema {data.get('schema_version')!r}, "
                         f"this grader reads {SCHEMA_VERSION}")
    parts = [PartResult(**{**p, "checks": [CheckResult(**c) for c in p.get("checks", [])]})
             for p in data["parts"]]
    return Record(**{**data, "parts": parts})
