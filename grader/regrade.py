"""What a regrade changed: two folders of records compared per student, assignment and part.

A part counts as changed when its points, status, message or counterexample differ;
each change says why, as far as the records can tell: the submission's bytes, the
grader's version, the seed, the training threshold, or only the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.export import load_records, student_id
from grader.record import PartResult, Record

__all__ = ["Change", "changes_table", "diff_records", "exit_status"]


@dataclass(frozen=True)
class Change:
    """One part of one student's assignment that is not the same after the regrade."""

    student: str
    assignment: str
    part: str
    before: float | None
    """Points in the old records; None when the old records lack this part or submission."""
    after: float | None
    """Points in the new records; None when the new records lack it."""
    status_before: str | None
    status_after: str | None
    reasons: tuple[str, ...]
    """Why, most fundamental first: ``submission changed``, ``grader 0.1 → 0.2``, ``seed``,
    ``threshold``, ``status``, ``message``, ``counterexample``, ``new``, ``removed``."""

    @property
    def delta(self) -> float:
        """Points gained (negative: lost); a missing side counts as 0."""
        return (self.after or 0.0) - (self.before or 0.0)


def diff_records(old_dir: str | Path, new_dir: str | Path) -> list[Change]:
    """Every part that changed between the records in `old_dir` and those in `new_dir`, sorted."""
    old, new = _by_key(load_records(old_dir)), _by_key(load_records(new_dir))
    changes: list[Change] = []
    for key in sorted(old.keys() | new.keys()):
        changes.extend(diff_pair(old.get(key), new.get(key)))
    return changes


def exit_status(changes: list[Change]) -> int:
    """0 when nothing changed, 1 otherwise (the ``diff`` command's exit status)."""
    return 1 if changes else 0


def _by_key(records: list[Record]) -> dict[tuple[str, str], Record]:
    return {(r.assignment, student_id(r)): r for r in records}


def diff_pair(old: Record | None, new: Record | None) -> list[Change]:
    """The changed parts of one student's assignment; either side may be missing."""
    record = new or old
    assert record is not None, "diff_pair needs at least one record"
    old_parts = {p.name: p for p in old.parts} if old else {}
    new_parts = {p.name: p for p in new.parts} if new else {}
    names = [p.name for p in (old.parts if old else [])] + [n for n in new_parts if n not in old_parts]
    changes = []
    for name in names:
        a, b = old_parts.get(name), new_parts.get(name)
        reasons = _part_reasons(a, b)
        if reasons:
            reasons = _record_reasons(old, new) + _threshold_reasons(a, b) + reasons
            changes.append(Change(student_id(record), record.assignment, name,
                                  a.points if a else None, b.points if b else None,
                                  a.status if a else None, b.status if b else None, tuple(reasons)))
    return changes


def _part_reasons(a: PartResult | None, b: PartResult | None) -> list[str]:
    """What differs in the part itself; empty when it is the same for the student."""
    if a is None or b is None:
        return ["new" if a is None else "removed"]
    reasons = []
    if a.points != b.points or a.max_points != b.max_points:
        reasons.append(f"points {a.points:g}/{a.max_points:g} → {b.points:g}/{b.max_points:g}")
    if a.status != b.status:
        reasons.append(f"status {a.status} → {b.status}")
    if a.message != b.message:
        reasons.append("message")
    if a.counterexample != b.counterexample:
        reasons.append("counterexample")
    return reasons


def _record_reasons(old: Record | None, new: Record | None) -> list[str]:
    """Causes shared by every part of the submission."""
    if old is None or new is None:
        return []
    reasons = []
    if old.sha256 != new.sha256:
        reasons.append(f"submission changed (sha256 {old.sha256[:8]} → {new.sha256[:8]})")
    for field in ("grader_version", "torch_version", "seed", "device", "mode"):
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            reasons.append(f"{field.replace('_version', '')} {before} → {after}")
    return reasons


def _threshold_reasons(a: PartResult | None, b: PartResult | None) -> list[str]:
    """A training part's calibrated threshold or profile changed."""
    if a is None or b is None:
        return []
    reasons = []
    for key in ("threshold", "profile"):
        before, after = a.extras.get(key), b.extras.get(key)
        if before != after:
            reasons.append(f"{key} {before} → {after}")
    return reasons


def changes_table(changes: list[Change]):
    """A rich table of the changes, one row each, points lost in red and gained in green."""
    from rich.table import Table

    table = Table(title=f"regrade: {len(changes)} changed part{'s' if len(changes) != 1 else ''}")
    for column in ("student", "assignment", "part", "before", "after", "why"):
        table.add_column(column, overflow="fold")
    for c in changes:
        style = "green" if c.delta > 0 else "red" if c.delta < 0 else ""
        after = f"[{style}]{_points(c.after)}[/]" if style else _points(c.after)
        table.add_row(c.student, c.assignment, c.part, _points(c.before), after, "; ".join(c.reasons))
    return table


def _points(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
