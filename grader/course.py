"""Publish graded records into an nbgrader course: gradebook scores and feedback pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.feedback import write_feedback
from grader.gradebook import GradebookReport, write_gradebook
from grader.record import Record

__all__ = ["Published", "publish"]


@dataclass
class Published:
    """What :func:`publish` wrote."""

    gradebook: dict[str, GradebookReport] = field(default_factory=dict)
    """The gradebook report of each assignment."""
    pages: list[Path] = field(default_factory=list)
    """One feedback page per record."""


def publish(records: Iterable[Record], *, course_dir: str | Path, db_url: str | None = None) -> Published:
    """Write every record's points into the course's gradebook, then its feedback page.

    The gradebook comes first: when the course is not set up (no gradebook, an assignment not
    generated) the ConfigError says what to run, before any feedback page is written.
    """
    records = list(records)
    published = Published()
    for assignment in sorted({r.assignment for r in records}):
        published.gradebook[assignment] = write_gradebook(records, course_dir, assignment, db_url=db_url)
    published.pages = [write_feedback(r, course_dir) for r in records]
    return published
