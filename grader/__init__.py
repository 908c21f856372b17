"""rnn-autograder: sandboxed, property-based grading of the RNN-from-scratch unit.

The public API; the CLI and the pytest plugin are thin shells over it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnn-autograder")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["ASSIGNMENTS", "Record", "__version__", "check_notebook", "grade_notebook", "grade_paths"]

_LAZY = {"check_notebook": "grader.api", "grade_notebook": "grader.api", "grade_paths": "grader.api",
         "ASSIGNMENTS": "grader.exercises", "Record": "grader.record"}
"""Imported on first use: a grade cell's ``from grader.cell import grade_cell`` must not pull torch and
hypothesis into the student's kernel (their import-time warnings would land in the cell's stderr)."""


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
