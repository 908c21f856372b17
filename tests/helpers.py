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
