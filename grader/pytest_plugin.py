"""``pytest --notebook PATH``: one test item per exercise part, through the sandboxed engine.

Registered as the ``rnn_grader`` pytest11 entry point. Kept tiny: torch and the
engine are imported only when a notebook is actually checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rnn-grader", "checking RNN-from-scratch notebooks")
    group.addoption("--notebook", action="append", default=[], metavar="PATH",
                    help="check this notebook's exercises (public checks, same engine as the grader)")
    group.addoption("--notebook-device", default="cpu", metavar="DEVICE", help="cpu or cuda (default: cpu)")


def pytest_configure(config: pytest.Config) -> None:
    notebooks = [str(Path(p)) for p in config.getoption("notebook")]
    for nb in notebooks:
        if not Path(nb).is_file():
            raise pytest.UsageError(f"--notebook {nb}: no such file")
    if notebooks:
        explicit = config.args_source == pytest.Config.ArgsSource.ARGS
        config.args = (list(config.args) if explicit else []) + notebooks


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    wanted = {Path(p).resolve() for p in parent.config.getoption("notebook")}
    if file_path.resolve() in wanted:
        return NotebookFile.from_parent(parent, path=file_path)
    return None


class NotebookFile(pytest.File):
    """A submission; it is graded once, when its first part runs."""

    _record = None

    def collect(self):
        from grader.engine import _guess_assignment
        from grader.notebook.extract import Extracted

        assignment = _guess_assignment(self.path, Extracted(str(self.path), ""))
        for part in assignment.parts:
            if not part.training:
                yield PartItem.from_parent(self, name=part.name)

    def record(self):
        if self._record is None:
            from grader.api import check_notebook

            self._record = check_notebook(self.path, device=self.config.getoption("notebook_device"))
        return self._record


class PartFailed(Exception):
    """A part did not pass; carries its result for the report."""


class PartItem(pytest.Item):
    def runtest(self) -> None:
        part = next(p for p in self.parent.record().parts if p.name == self.name)
        if part.status != "passed":
            raise PartFailed(part)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PartFailed):
            part = excinfo.value.args[0]
            lines = [f"{part.name}: {part.status}, {part.points:g}/{part.max_points:g} points", part.message]
            if part.counterexample:
                lines.append(f"smallest failing input: {part.counterexample}")
            return "\n".join(lines)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"
