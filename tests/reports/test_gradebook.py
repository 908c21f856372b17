"""Scores into nbgrader's gradebook through nbgrader's API; formgrader overrides survive a regrade."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.api import grade_notebook
from grader.errors import ConfigError
from grader.gradebook import default_db_url, write_gradebook
from tests.reports.factories import record

pytestmark = pytest.mark.xdist_group("gradebook")  # one process runs the module fixture

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "rnn_deep.ipynb"


def nbgrader(course: Path, *args: str) -> None:
    """Run the nbgrader CLI of this virtual environment in `course`."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    subprocess.run([str(Path(bin_dir) / "nbgrader"), *args], cwd=course, env=env, check=True,
                   capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course with rnn_deep generated (the gradebook holds its grade cells)."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "assignments" / "source", course / "source")
    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", "rnn_deep", "--force")
    return course


@pytest.fixture(scope="module")
def amy(course) -> Path:
    """amy's submission: the source notebook, where nbgrader's collect would put it."""
    folder = course / "submitted" / "amy" / "rnn_deep"
    folder.mkdir(parents=True)
    return Path(shutil.copy(ROOT / "assignments" / "source" / "rnn_deep" / NOTEBOOK, folder))


def scores(course: Path, student: str) -> dict[str, tuple[float | None, float | None]]:
    """``{grade cell: (auto_score, manual_score)}`` of `student`'s rnn_deep, read back through nbgrader."""
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course)) as gb:
        nb = gb.find_submission_notebook("rnn_deep", "rnn_deep", student)
        return {g.name: (g.auto_score, g.manual_score) for g in nb.grades}


def test_graded_notebook_scores_land_in_grade_cells(course, amy):
    graded = grade_notebook(amy, assignment="rnn_deep", solutions=ROOT / "solutions", student="amy")
    assert graded.score == graded.max_score
    report = write_gradebook([graded], course, "rnn_deep")
    got = scores(course, "amy")
    for part in graded.parts:
        if f"test_{part.name}" in got:
            assert got[f"test_{part.name}"] == (part.points, None)
    assert ("amy", "rnn_2layer") in report.written and not report.overridden
    assert set(report.skipped) == {("amy", p.name) for p in graded.parts if f"test_{p.name}" not in got}


def test_manual_override_survives_a_regrade(course):
    write_gradebook([record("ben", lost={"rnn_2layer": "drops W_hh2"})], course, "rnn_deep")
    assert scores(course, "ben")["test_rnn_2layer"] == (0.0, None)
    _set_manual(course, "ben", "test_rnn_2layer", 2.5)
    lost = {"rnn_2layer": "drops W_hh2", "init_rnn_state_2layer": "H1 is not zero"}
    report = write_gradebook([record("ben", lost=lost)], course, "rnn_deep")
    got = scores(course, "ben")
    assert got["test_rnn_2layer"] == (0.0, 2.5) and got["test_init_rnn_state_2layer"] == (0.0, None)
    assert report.overridden == [("ben", "rnn_2layer")]
    # nbgrader's own total counts the override instead of the auto score
    assert _total(course, "ben") == sum(a if m is None else m for a, m in got.values())


def test_other_assignments_are_ignored_and_points_are_clamped(course):
    r = record("cat")
    r.parts[0] = dataclasses.replace(r.parts[0], points=99.0)
    report = write_gradebook([r, record("cat", "rnn_scratch")], course, "rnn_deep")
    assert scores(course, "cat")["test_get_params_2layer"] == (2.0, None)
    assert all(part in {p.name for p in r.parts} for _, part in report.written)


def test_missing_gradebook_or_assignment_says_what_to_run(course, tmp_path):
    with pytest.raises(ConfigError, match="nbgrader generate_assignment rnn_deep"):
        write_gradebook([record("amy")], tmp_path, "rnn_deep")
    with pytest.raises(ConfigError, match="nbgrader generate_assignment rnn_scratch"):
        write_gradebook([record("amy", "rnn_scratch")], course, "rnn_scratch")


def _set_manual(course: Path, student: str, cell: str, score: float) -> None:
    """What formgrader does when an instructor types an override."""
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course)) as gb:
        grade = gb.find_grade(cell, "rnn_deep", "rnn_deep", student)
        grade.manual_score = score
        gb.db.commit()


def _total(course: Path, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course)) as gb:
        return gb.find_submission("rnn_deep", student).score


def test_publish_writes_gradebook_and_feedback_pages(course, tmp_path):
    from grader.course import publish
    from grader.feedback import write_feedback_pages
    from grader.record import write_record

    dan = record("dan", lost={"rnn_2layer": "drops W_hh2"})
    published = publish([dan], course_dir=course)
    assert scores(course, "dan")["test_rnn_2layer"] == (0.0, None)
    assert published.pages == [course / "feedback" / "dan" / "rnn_deep" / "rnn_deep.html"]
    assert "drops W_hh2" in published.pages[0].read_text(encoding="utf-8")
    write_record(dan, tmp_path / "records" / "dan__rnn_deep.json")
    assert write_feedback_pages(tmp_path / "records", tmp_path / "c") == [
        tmp_path / "c" / "feedback" / "dan" / "rnn_deep" / "rnn_deep.html"]
