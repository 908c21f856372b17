"""rnn-autograder: sandboxed, property-based grading of the RNN-from-scratch unit.

The public API; the CLI and the pytest plugin are thin shells over it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnn-autograder")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

from grader.api import check_notebook, grade_notebook, grade_paths  # noqa: E402
from grader.exercises import ASSIGNMENTS  # noqa: E402
from grader.record import Record  # noqa: E402

__all__ = ["ASSIGNMENTS", "Record", "__version__", "check_notebook", "grade_notebook", "grade_paths"]
