"""Scores into nbgrader's gradebook, through nbgrader's own API, from the trusted path.

Each part's points become the ``auto_score`` of the grade cell ``test_<part>`` of the
student's submitted notebook, exactly where ``nbgrader autograde`` would put them. A
``manual_score`` (an override typed into formgrader) is never touched, so it survives
every regrade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import ConfigError
from grader.exercises import ASSIGNMENTS
from grader.export import student_id
from grader.record import Record

__all__ = ["GradebookReport", "default_db_url", "write_gradebook"]


@dataclass
class GradebookReport:
    """What :func:`write_gradebook` did."""

    written: list[tuple[str, str]] = field(default_factory=list)
    """``(student, part)`` whose auto_score was set."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(student, part)`` with no grade cell ``test_<part>`` in the gradebook's notebook."""
    overridden: list[tuple[str, str]] = field(default_factory=list)
    """``(student, part)`` whose manual_score was kept and still decides the grade."""


def default_db_url(course_dir: str | Path) -> str:
    """nbgrader's default: ``sqlite:///<course>/gradebook.db``."""
    return f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"


def write_gradebook(records: Iterable[Record], course_dir: str | Path, assignment: str, *,
                    db_url: str | None = None) -> GradebookReport:
    """Write the points of every record of `assignment` into the course's gradebook.

    Students and submissions missing from the gradebook are created (as ``nbgrader collect``
    plus ``autograde`` would); records of other assignments are ignored. The assignment itself
    must exist: run ``nbgrader generate_assignment`` first.
    """
    from nbgrader.api import Gradebook  # type: ignore[import-untyped]

    report = GradebookReport()
    url = db_url or default_db_url(course_dir)
    if db_url is None and not (Path(course_dir) / "gradebook.db").is_file():
        raise ConfigError(f"{course_dir}: no gradebook.db; run `nbgrader generate_assignment {assignment}` "
                          "in the course folder first")
    with Gradebook(url) as gb:
        notebook = _notebook(gb, assignment)
        for record in records:
            if record.assignment == assignment:
                _write_record(gb, record, notebook, report)
        gb.db.commit()
    return report


def _notebook(gb, assignment: str) -> str:
    """The notebook's name in the gradebook; the assignment must be there."""
    from nbgrader.api import MissingEntry

    try:
        notebooks = gb.find_assignment(assignment).notebooks
    except MissingEntry:
        raise ConfigError(f"the gradebook has no assignment {assignment!r}; run "
                          f"`nbgrader generate_assignment {assignment}` in the course folder first") from None
    expected = Path(ASSIGNMENTS[assignment].notebook).stem if assignment in ASSIGNMENTS else assignment
    names = [nb.name for nb in notebooks]
    if expected not in names:
        raise ConfigError(
            f"the gradebook's assignment {assignment!r} has notebooks {names}, not {expected!r}")
    return expected


def _write_record(gb, record: Record, notebook: str, report: GradebookReport) -> None:
    from nbgrader.api import MissingEntry

    student = student_id(record)
    gb.update_or_create_student(student)
    try:
        gb.find_submission(record.assignment, student)
    except MissingEntry:
        with gb.db.no_autoflush:  # nbgrader builds the rows before adding them to the session
            gb.add_submission(record.assignment, student)
    for part in record.parts:
        try:
            grade = gb.find_grade(f"test_{part.name}", notebook, record.assignment, student)
        except MissingEntry:
            report.skipped.append((student, part.name))
            continue
        _set_auto_score(grade, part.points, report, (student, part.name))


def _set_auto_score(grade, points: float, report: GradebookReport, key: tuple[str, str]) -> None:
    """``auto_score`` only, clamped to the cell's points; a manual override keeps deciding."""
    grade.auto_score = max(0.0, min(float(points), float(grade.max_score)))
    if grade.manual_score is None:
        grade.needs_manual_grade = False
    else:
        report.overridden.append(key)
    report.written.append(key)
