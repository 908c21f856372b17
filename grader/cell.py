"""Grade cells: one part's verdict from the trusted engine, printed, then its points.

Every grade cell of the course notebooks is two lines::

    from grader.cell import grade_cell
    grade_cell("one_hot")

:func:`grade_cell` prints the part's status, message, smallest counterexample and
checks, and returns the points earned, a plain ``float`` in ``[0, points]``: as the
cell's last expression it is the cell's ``execute_result``, which nbgrader (0.9)
records as partial credit. nbgrader's ``determine_grade`` fails *open* (an output that
is not a number, or a negative one, earns full marks), so nothing here may end a cell
quietly: when the check itself cannot run, :func:`grade_cell` raises, and an error
output earns 0. Anything on stderr also earns 0, so warnings are silenced and stray
stderr text is shown on stdout instead.

What is graded: the notebook file as saved
------------------------------------------
A kernel knows its notebook poorly, and its own state (``In``, ``globals()``,
functions' ``__code__``) is whatever the cells did to it, including a redefined
``torch.allclose``. The grade cell therefore grades the notebook *file* with the same
extraction, engine, seed and profile as ``rnn-grader grade``:

- under nbgrader (``autograde`` and ``validate`` set ``NBGRADER_EXECUTION``) the kernel
  runs in the notebook's folder, on the very file being graded (``autograde`` executes
  its sanitized copy ``autograded/<student>/<assignment>/<assignment>.ipynb``, whose
  answer cells are the student's and whose grade cells are the instructor's), so the
  file is ``<assignment>.ipynb`` in the working directory; ``JPY_SESSION_NAME`` is
  ignored there, since an instructor who starts nbgrader from a notebook passes theirs on;
- in Jupyter, the notebook named by ``JPY_SESSION_NAME`` (jupyter_server 2 sets it to
  the notebook's path), else ``<assignment>.ipynb`` in the working directory, else the
  ``notebook=`` argument. If the kernel's definition of the function is not in the
  saved file, a note says to save the notebook first.

The grading runs in a fresh interpreter (``python -I -m grader.cell``), never in the
kernel: the student's monkeypatches live in the kernel and do not reach it, and the
student's code itself runs only in the engine's sandbox worker. Under nbgrader the
first grade cell grades every part at once (the file cannot change during the run) and
the later cells reuse that record, so plain ``autograde`` scores equal the records of
``rnn-grader grade`` on the same file; interactively each cell grades its own part.

Hidden checks run when ``$RNN_GRADER_SOLUTIONS`` names the course's ``solutions/``
folder, or, under ``nbgrader autograde``, when ``solutions/hidden.py`` lies in the
course folder or the folder holding it. What this can and cannot protect is in
``docs/security.md``: a kernel that runs student code can still replace
:func:`grade_cell` itself, which is why ``rnn-grader grade`` is the trusted path.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import io
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

from grader.errors import GraderError
from grader.exercises import ASSIGNMENTS, Assignment, Part
from grader.record import PartResult, Record, load_record
from grader.sandbox import scratch as _scratch

__all__ = ["SOLUTIONS_ENV", "GradeCellError", "grade_cell", "locate_notebook", "locate_solutions", "main"]

SOLUTIONS_ENV = "RNN_GRADER_SOLUTIONS"
"""Environment variable naming the instructor's ``solutions/`` folder (hidden checks)."""
TIMEOUT_ENV = "RNN_GRADER_CELL_TIMEOUT"
"""Environment variable: seconds one grading run may take (default 600)."""

_RECORDS: dict[tuple, Record] = {}
"""Records graded in this kernel, by (notebook, sha256, solutions, part or None for all)."""


class GradeCellError(GraderError):
    """The grade cell could not grade: the cell fails (an error output scores 0)."""


def grade_cell(part: str, *, notebook: str | Path | None = None) -> float:
    """Grade `part` of the saved notebook in a separate sandboxed process; print it; return its points."""
    namespace = sys._getframe(1).f_globals  # the notebook's globals, only to spot an unsaved edit
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()) as stray:
        warnings.simplefilter("ignore")
        points = _grade(part, notebook, namespace)
    if stray.getvalue().strip():
        print(f"(messages on stderr while grading)\n{stray.getvalue().rstrip()}")
    return points


def _grade(name: str, notebook: str | Path | None, namespace: dict) -> float:
    assignment, part = _find_part(name)
    path = locate_notebook(assignment, notebook, part=name)
    record = _record(path, assignment, name, locate_solutions())
    result = next((p for p in record.parts if p.name == name), None)
    if result is None:
        raise GradeCellError(f"the grader's record of {path.name} has no part {name!r}")
    if not part.training and not os.environ.get("NBGRADER_EXECUTION"):
        _note_unsaved(namespace.get(name), path)
    print(feedback_text(result, record, path))
    return _points(result, part)


def _find_part(name: str) -> tuple[Assignment, Part]:
    for assignment in ASSIGNMENTS.values():
        for part in assignment.parts:
            if part.name == name:
                return assignment, part
    known = ", ".join(p.name for a in ASSIGNMENTS.values() for p in a.parts)
    raise GradeCellError(f"grade_cell({name!r}): no such part; the parts are {known}")


def locate_notebook(assignment: Assignment, notebook: str | Path | None = None, *, part: str = "") -> Path:
    """The saved notebook a grade cell grades (see the module docstring for the order)."""
    if notebook is not None:
        path = Path(notebook)
    elif os.environ.get("NBGRADER_EXECUTION"):
        path = Path.cwd() / assignment.notebook
    else:
        session = os.environ.get("JPY_SESSION_NAME", "")
        path = Path(session) if session.endswith(".ipynb") and Path(session).is_file() else (
            Path.cwd() / assignment.notebook)
    if not path.is_file():
        raise GradeCellError(
            f"cannot find the notebook to grade: {path} is not a file. The grade cell grades the notebook as "
            f"saved; run it from the notebook's folder, or name the file: "
            f"grade_cell({part!r}, notebook='path/to/{assignment.notebook}')")
    return path.resolve()


def locate_solutions() -> Path | None:
    """The instructor's ``solutions/`` folder, when this run should add the hidden checks."""
    named = os.environ.get(SOLUTIONS_ENV, "")
    if named:
        return Path(named).resolve()
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        # <course>/autograded/<student>/<assignment>: the course folder, then the folder holding it
        for root in list(Path.cwd().resolve().parents)[2:4]:
            if (root / "solutions" / "hidden.py").is_file():
                return root / "solutions"
    return None


def _record(path: Path, assignment: Assignment, part: str, solutions: Path | None) -> Record:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    whole = (str(path), sha, str(solutions), None)
    if whole in _RECORDS:
        return _RECORDS[whole]
    scope = None if os.environ.get("NBGRADER_EXECUTION") else part
    key = (*whole[:3], scope)
    if key not in _RECORDS:
        if len(_RECORDS) > 64:
            _RECORDS.clear()
        _RECORDS[key] = _run_grader(path, assignment, scope, solutions)
    return _RECORDS[key]


def _run_grader(path: Path, assignment: Assignment, part: str | None, solutions: Path | None) -> Record:
    """``python -I -m grader.cell`` on the file: a fresh interpreter, no kernel state, no cwd imports."""
    timeout = float(os.environ.get(TIMEOUT_ENV) or 600)
    with _scratch.folder("cell") as tmp:
        out = Path(tmp) / "record.json"
        command = [sys.executable, "-I", "-m", "grader.cell", str(path), "--assignment", assignment.name,
                   "--out", str(out)]
        command += ["--part", part] if part else []
        command += ["--solutions", str(solutions)] if solutions else []
        try:
            proc = subprocess.run(command, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GradeCellError(f"grading {path.name} took longer than {timeout:g} s "
                                 f"(set {TIMEOUT_ENV} to allow more)") from None
        if proc.returncode != 0 or not out.is_file():
            said = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[-2000:]
            raise GradeCellError(
                f"the grader could not grade {path.name} (exit status {proc.returncode}):\n{said}")
        record = load_record(out)
    if record.error:
        raise GradeCellError(f"the grader failed on {path.name}: {record.error}")
    return record


def _note_unsaved(function, path: Path) -> None:
    """Say so when the kernel's definition is not in the saved file (the student forgot to save)."""
    try:
        source = _lines(textwrap.dedent(inspect.getsource(function)))
    except (TypeError, OSError):
        return
    if source.strip() and source.strip() not in _code_text(path):
        print(f"note: the `{function.__name__}` this kernel ran differs from the one saved in {path.name}; "
              "this cell grades the saved file: save the notebook and run this cell again")


def _code_text(path: Path) -> str:
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return ""
    sources = [c.get("source", "") for c in cells if isinstance(c, dict)]
    return "\n".join(_lines("".join(s) if isinstance(s, list) else str(s)) for s in sources)


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines())


def feedback_text(part: PartResult, record: Record, path: Path) -> str:
    """What the grade cell prints: the verdict, the smallest counterexample, each check, how to re-check."""
    lines = [f"{part.name}: {part.status}, {part.points:g} / {part.max_points:g} points"]
    if part.message:
        lines.append(textwrap.indent(part.message, "  "))
    if part.counterexample:
        lines += ["  smallest counterexample:", textwrap.indent(part.counterexample, "    ")]
    for check in part.checks:
        mark = "ok  " if check.status == "passed" else "FAIL"
        lines.append(f"  {mark} {check.name} ({check.points:g} / {check.max_points:g})")
    checks = ("public and hidden checks" if record.mode == "instructor"
              else "public checks (hidden checks are graded after the deadline)")
    lines.append(f"{checks}; graded from {path.name} as saved, in a sandboxed process (seed {record.seed})")
    if part.status != "passed":
        lines.append(f"check locally: rnn-grader check {path.name}   or   pytest --notebook {path.name}")
    return "\n".join(lines)


def _points(result: PartResult, part: Part) -> float:
    points = float(result.points)
    if not math.isfinite(points) or float(result.max_points) != float(part.points):
        raise GradeCellError(f"the grader's record gives {result.points!r} of {result.max_points!r} points "
                             f"for {part.name}, worth {part.points:g} here: regenerate the assignment")
    return round(min(max(points, 0.0), float(part.points)), 6)


def main(argv: list[str] | None = None) -> int:
    """The grading process a grade cell starts: grade the file, write the record; 2 on a set-up error."""
    parser = argparse.ArgumentParser(prog="python -m grader.cell", description="grade one saved notebook")
    parser.add_argument("notebook")
    parser.add_argument("--assignment", required=True, choices=sorted(ASSIGNMENTS))
    parser.add_argument("--out", required=True, help="where to write the record (JSON)")
    parser.add_argument("--part", action="append", default=[], help="grade only this part (repeatable)")
    parser.add_argument("--solutions", default=None, help="the course's solutions/ folder (hidden checks)")
    args = parser.parse_args(argv)
    from grader.engine import GradeOptions, grade_submission, load_hidden
    from grader.errors import ConfigError
    from grader.record import write_record

    try:
        options = GradeOptions(hidden=load_hidden(args.solutions), parts=tuple(args.part) or None)
    except ConfigError as exc:
        print(f"{SOLUTIONS_ENV}: {exc}", file=sys.stderr)
        return 2
    write_record(grade_submission(args.notebook, assignment=args.assignment, options=options), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
