"""A CSV of grades from a folder of records, independent of nbgrader's gradebook.

One row per student and assignment, one column per part (its points), then the
total and the maximum. Columns follow :data:`grader.exercises.ASSIGNMENTS`, so the
same course always gives the same header, whatever order the records were written in.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from grader.errors import ConfigError
from grader.exercises import ASSIGNMENTS
from grader.record import Record, load_record

__all__ = ["csv_columns", "csv_rows", "export_csv", "load_records", "student_id", "write_text_atomic"]

_FIXED = ("student", "assignment")
_TOTALS = ("total", "max")


def student_id(record: Record) -> str:
    """The student's id: nbgrader's when graded from a course, else the submission's file stem."""
    return record.student or Path(record.submission).stem


def load_records(records_dir: str | Path) -> list[Record]:
    """Every record under `records_dir` (``*.json``, not recursive), sorted by file name.

    A file that is not a readable record is the instructor's problem, not a silent gap in
    the grades: it raises :class:`ConfigError` naming the file.
    """
    folder = Path(records_dir)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder of records; pass the --out folder of `rnn-grader grade`")
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(load_record(path))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path}: not a grading record ({exc}); move it out of {folder} or regrade") from None
    return records


def csv_columns(records: Iterable[Record]) -> list[str]:
    """The header: student, assignment, the parts of every assignment present in contract order, total, max.

    Parts a record has that the contract does not know come last, sorted, so nothing is dropped.
    """
    records = list(records)
    present = {r.assignment for r in records}
    parts = [p.name for a in ASSIGNMENTS.values() if a.name in present for p in a.parts]
    unknown = sorted({p.name for r in records for p in r.parts} - set(parts))
    return [*_FIXED, *parts, *unknown, *_TOTALS]


def csv_rows(records: Iterable[Record]) -> list[dict[str, str]]:
    """One row per (student, assignment), sorted by assignment (contract order) then student."""
    order = {name: i for i, name in enumerate(ASSIGNMENTS)}
    seen: dict[tuple[str, str], Record] = {}
    for record in records:
        key = (student_id(record), record.assignment)
        if key in seen:
            raise ConfigError(
                f"two records for student {key[0]!r} on {key[1]!r} ({seen[key].submission} and "
                f"{record.submission}); keep one of them in the records folder")
        seen[key] = record
    keys = sorted(seen, key=lambda k: (order.get(k[1], len(order)), k[1], k[0]))
    return [_row(seen[k]) for k in keys]


def _row(record: Record) -> dict[str, str]:
    row = {"student": student_id(record), "assignment": record.assignment}
    row.update({p.name: _number(p.points) for p in record.parts})
    row.update(total=_number(record.score), max=_number(record.max_score))
    return row


def _number(value: float) -> str:
    return f"{value:g}"


def export_csv(records_dir: str | Path, out_path: str | Path) -> Path:
    """Write the grades CSV of every record in `records_dir` to `out_path` (atomically); return its path.

    A part a record lacks (an older record, another assignment) is an empty cell, not a zero.
    """
    records = load_records(records_dir)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=csv_columns(records), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(records))
    return write_text_atomic(Path(out_path), buffer.getvalue())


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` through a temporary file and a rename; return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
