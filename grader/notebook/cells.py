"""Cell factories for nbgrader notebooks (nbformat v4).

They follow nbgrader's own test helpers (``nbgrader/tests/__init__.py``): one
factory per kind of cell, each taking ``(source, cell_type, grade_id[, points])``
and writing nbgrader's schema-3 metadata. Two differences, both for reproducible
files: a cell's id is its ``grade_id`` (or ``cell_id=``) instead of a random one,
and plain cells carry no nbgrader metadata at all, as Jupyter writes them.

The source notebooks of the course are built with these, and tests use them to
build submissions::

    nb = create_notebook([
        create_locked_cell(SETUP_CODE, "code", "setup"),
        create_solution_cell("def one_hot(x, n_class, dtype=torch.float32):\\n    ...", "code", "one_hot"),
        create_grade_cell("assert one_hot(torch.tensor([1]), 2).tolist() == [[0.0, 1.0]]", "code",
                          "test_one_hot", 2),
    ])

This module imports neither nbgrader nor torch: it ships with the grader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "KERNELSPEC",
    "SCHEMA_VERSION",
    "create_code_cell",
    "create_grade_and_solution_cell",
    "create_grade_cell",
    "create_locked_cell",
    "create_markdown_cell",
    "create_notebook",
    "create_solution_cell",
    "nbgrader_metadata",
    "solution_region",
]

SCHEMA_VERSION = 3
"""The version of nbgrader's cell metadata schema written by these factories (nbgrader >= 0.6)."""

BEGIN_SOLUTION = "### BEGIN SOLUTION"
"""The line that opens a solution region; ``nbgrader generate_assignment`` replaces the region."""

END_SOLUTION = "### END SOLUTION"
"""The line that closes a solution region."""

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
"""The kernel every notebook of the course runs on."""

_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's rule for cell ids
_CELL_TYPES = ("code", "markdown")


def nbgrader_metadata(
    *,
    grade_id: str,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> dict:
    """The ``metadata.nbgrader`` dict of a cell, validated as nbgrader validates it.

    ``points`` is required for a grade cell and refused otherwise.
    """
    if not isinstance(grade_id, str) or not grade_id.strip():
        raise ValueError(f"grade_id={grade_id!r} must be a non-empty string; nbgrader identifies cells by it")
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = _checked_points(points, grade_id)
    elif points is not None:
        raise ValueError(f"points={points!r} given for {grade_id!r}, which is not a grade cell")
    return meta


def _checked_points(points: float | None, grade_id: str) -> float:
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points >= 0:
        raise ValueError(f"points={points!r} of grade cell {grade_id!r} must be a number >= 0")
    return points


def create_markdown_cell(source: str, *, cell_id: str | None = None) -> NotebookNode:
    """A plain markdown cell, unknown to nbgrader."""
    return _new_cell(source, "markdown", cell_id)


def create_code_cell(source: str, *, cell_id: str | None = None) -> NotebookNode:
    """A plain code cell, unknown to nbgrader (students may edit or delete it)."""
    return _new_cell(source, "code", cell_id)


def create_locked_cell(
    source: str, cell_type: str, grade_id: str, *, cell_id: str | None = None
) -> NotebookNode:
    """A read-only cell: nbgrader checks that its source is unchanged."""
    return _nbgrader_cell(source, cell_type, cell_id, nbgrader_metadata(grade_id=grade_id, locked=True))


def create_solution_cell(
    source: str, cell_type: str, grade_id: str, *, cell_id: str | None = None
) -> NotebookNode:
    """An autograded-answer cell: the student writes here; its solution region is cleared on release."""
    return _nbgrader_cell(source, cell_type, cell_id, nbgrader_metadata(grade_id=grade_id, solution=True))


def create_grade_cell(
    source: str,
    cell_type: str,
    grade_id: str,
    points: float,
    *,
    locked: bool = True,
    cell_id: str | None = None,
) -> NotebookNode:
    """An autograder-tests cell worth ``points``; read-only by default, as nbgrader's toolbar makes them."""
    meta = nbgrader_metadata(grade_id=grade_id, grade=True, locked=locked, points=points)
    return _nbgrader_cell(source, cell_type, cell_id, meta)


def create_grade_and_solution_cell(
    source: str, cell_type: str, grade_id: str, points: float, *, cell_id: str | None = None
) -> NotebookNode:
    """A manually graded answer cell worth ``points`` (for markdown, nbgrader's only kind of answer)."""
    meta = nbgrader_metadata(grade_id=grade_id, grade=True, solution=True, points=points)
    return _nbgrader_cell(source, cell_type, cell_id, meta)


def create_notebook(cells: Iterable[NotebookNode]) -> NotebookNode:
    """A notebook (nbformat 4.5) of ``cells`` on the course's Python kernel."""
    return new_notebook(
        cells=list(cells),
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}},
    )


def solution_region(body: str, *, indent: str = "") -> str:
    """``body`` between the solution markers, the markers indented by ``indent``.

    ``body`` keeps its own indentation; nbgrader replaces the whole region with
    ``# YOUR CODE HERE`` and ``raise NotImplementedError()``, indented as the opening marker.
    """
    for delimiter in ("BEGIN SOLUTION", "END SOLUTION"):  # nbgrader matches these anywhere in a line
        if delimiter in body:
            raise ValueError(f"body contains {delimiter!r}; nbgrader does not allow nested solution regions")
    return f"{indent}{BEGIN_SOLUTION}\n{body.rstrip()}\n{indent}{END_SOLUTION}"


def _nbgrader_cell(source: str, cell_type: str, cell_id: str | None, meta: dict) -> NotebookNode:
    if cell_type == "markdown" and meta["grade"] != meta["solution"]:
        raise ValueError(
            f"markdown cell {meta['grade_id']!r} must be both graded and a solution, or neither "
            "(nbgrader refuses the other kinds): use create_grade_and_solution_cell"
        )
    if cell_id is None and _CELL_ID.match(meta["grade_id"]):
        cell_id = meta["grade_id"]
    cell = _new_cell(source, cell_type, cell_id)
    cell.metadata["nbgrader"] = meta
    return cell


def _new_cell(source: str, cell_type: str, cell_id: str | None) -> NotebookNode:
    if cell_type not in _CELL_TYPES:
        raise ValueError(f"cell_type={cell_type!r} must be one of {_CELL_TYPES}")
    cell = new_markdown_cell(source) if cell_type == "markdown" else new_code_cell(source)
    if cell_id is not None:
        if not _CELL_ID.match(cell_id):
            raise ValueError(
                f"cell_id={cell_id!r} is not a valid cell id: use 1 to 64 letters, digits, '-' or '_'"
            )
        cell.id = cell_id
    return cell
