"""Rich tables of records, for the terminal."""

from __future__ import annotations

from collections.abc import Iterable

from grader.record import Record

__all__ = ["class_table", "submission_table"]

_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow", "forbidden": "red",
          "missing": "dim"}


def submission_table(record: Record):
    from rich.table import Table

    table = Table(title=f"{record.assignment}: {record.score:g} / {record.max_score:g}  "
                        f"({record.mode} checks, isolation={record.isolation}, seed={record.seed})")
    for column in ("part", "points", "status", "message"):
        table.add_column(column, overflow="fold")
    for p in record.parts:
        message = p.message + (f"\nsmallest failing input: {p.counterexample}" if p.counterexample else "")
        table.add_row(p.name, f"{p.points:g}/{p.max_points:g}", f"[{_STYLE.get(p.status, '')}]{p.status}",
                      message)
    return table


def class_table(records: Iterable[Record]):
    from rich.table import Table

    table = Table(title="grades")
    for column in ("submission", "assignment", "score", "parts not passed", "isolation", "seconds"):
        table.add_column(column, overflow="fold")
    for r in records:
        lost = ", ".join(f"{p.name} ({p.status})" for p in r.parts if p.status != "passed") or "-"
        who = r.student or r.submission.rsplit("/", 1)[-1]
        table.add_row(who, r.assignment, f"{r.score:g}/{r.max_score:g}", lost, r.isolation,
                      f"{r.seconds:.1f}")
    return table
