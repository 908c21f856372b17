"""Build test submissions: the reference solutions with some functions replaced.

A fixture folder ``tests/submissions/<verdict_name>/`` holds ``patch.py`` (the
functions that differ from the reference, plus any module-level code) and
``expected.json``. :func:`build_submission` writes the full submission.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.notebook.patch import patched_source as _patch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "submissions"


def fixture_names(prefix: str = "") -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith(prefix)
                  and (p / "expected.json").is_file())


def expected(name: str) -> dict:
    return json.loads((FIXTURES / name / "expected.json").read_text(encoding="utf-8"))


def patched_source(assignment: str, patch: str) -> str:
    base = (ROOT / "solutions" / f"{assignment}.py").read_text(encoding="utf-8")
    return _patch(base, patch)


def build_submission(name: str, out_dir: Path) -> Path:
    spec = expected(name)
    patch = (FIXTURES / name / "patch.py").read_text(encoding="utf-8")
    path = out_dir / f"{name}.py"
    path.write_text(patched_source(spec["assignment"], patch), encoding="utf-8")
    return path


def fixture_limits(name: str, base):
    """`base` (a WorkerLimits) with the fixture's own ``limits`` overrides, if its expected.json has any."""
    from dataclasses import replace

    return replace(base, **expected(name).get("limits", {}))


def verdict_problems(spec: dict, record) -> list[str]:
    """How `record` differs from a fixture's expected verdict; empty when it matches.

    Listed parts must have the expected status, points (or fewer than the maximum) and a message
    matching the regex; every other part must pass with full marks; the record must be valid.
    """
    import re

    problems = [f"the grader failed: {record.error}"] if record.error else []
    for part in record.parts:
        want = spec["parts"].get(part.name)
        if want is None:
            if (part.status, part.points) != ("passed", part.max_points):
                got = f"{part.status} {part.points}/{part.max_points}"
                problems.append(f"{part.name}: {got} ({part.message})")
            continue
        statuses = want["status"] if isinstance(want["status"], list) else [want["status"]]
        if part.status not in statuses:
            problems.append(f"{part.name}: status {part.status}, expected {statuses} ({part.message})")
        if "points" in want and abs(part.points - want["points"]) > 1e-6:
            problems.append(f"{part.name}: {part.points} points, expected {want['points']} ({part.message})")
        if "points" not in want and part.points >= part.max_points:
            problems.append(f"{part.name}: full marks, expected fewer")
        if not re.search(want["message"], part.message, re.IGNORECASE | re.DOTALL):
            problems.append(f"{part.name}: message {part.message!r} does not match {want['message']!r}")
    return problems
