"""The Python API that the CLI, the pytest plugin and the grade cells are thin shells over."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from grader.engine import DEFAULT_SEED, GradeOptions, grade_submission, load_hidden
from grader.record import Record, write_record

__all__ = ["check_notebook", "grade_notebook", "grade_paths", "record_path", "submissions_in"]


def check_notebook(path: str | Path, *, assignment: str | None = None, device: str = "cpu",
                   seed: int = DEFAULT_SEED, isolation: str = "auto") -> Record:
    """The student's check: public checks only, same engine and seeds as the instructor's."""
    options = GradeOptions(seed=seed, device=device, isolation=isolation)
    return grade_submission(path, assignment=assignment, options=options)


def grade_notebook(path: str | Path, *, out_dir: str | Path | None = None, assignment: str | None = None,
                   solutions: str | Path | None = None, device: str = "cpu", seed: int = DEFAULT_SEED,
                   isolation: str = "auto", student: str | None = None) -> Record:
    """The instructor's grade of one submission: public + hidden checks; writes the record if `out_dir`."""
    options = GradeOptions(seed=seed, device=device, isolation=isolation, hidden=load_hidden(solutions))
    record = grade_submission(path, assignment=assignment, options=options, student=student)
    if out_dir is not None:
        write_record(record, record_path(out_dir, record))
    return record


def record_path(out_dir: str | Path, record: Record) -> Path:
    who = record.student or Path(record.submission).stem
    return Path(out_dir) / f"{who}__{record.assignment}.json"


def submissions_in(paths: Iterable[str | Path]) -> list[tuple[Path, str | None]]:
    """Expand files and folders into (submission, student id or None), sorted.

    In an nbgrader ``submitted/<student>/<assignment>/`` tree the student id comes from the path.
    """
    found: list[tuple[Path, str | None]] = []
    for p in map(Path, paths):
        files = sorted(p.rglob("*.ipynb")) + sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            if ".ipynb_checkpoints" in f.parts:
                continue
            parts = f.parts
            student = parts[parts.index("submitted") + 1] if "submitted" in parts[:-2] else None
            found.append((f, student))
    return found


def grade_paths(paths: Iterable[str | Path], *, out_dir: str | Path, solutions: str | Path | None = None,
                device: str = "cpu", seed: int = DEFAULT_SEED, isolation: str = "auto",
                assignment: str | None = None, on_record: Callable[[Record], None] | None = None) -> list[Record]:
    """Grade every submission under `paths`, one record each under `out_dir`."""
    records = []
    for path, student in submissions_in(paths):
        record = grade_notebook(path, out_dir=out_dir, assignment=assignment, solutions=solutions, device=device,
                                seed=seed, isolation=isolation, student=student)
        records.append(record)
        if on_record:
            on_record(record)
    return records
