"""grader.cell: grade cells that fail closed under nbgrader's determine_grade.

Two tests execute notebooks in a real kernel (nbclient, as nbgrader does) and score the
cells with nbgrader's own ``determine_grade``; the others call :func:`grade_cell` in this
process with the grading run replaced by a recorded result.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from pathlib import Path

import nbformat
import pytest

import grader.cell
from grader.cell import GradeCellError, grade_cell, locate_notebook, locate_solutions
from grader.exercises import SETUP_CODE, get_assignment
from grader.notebook.cells import (
    create_code_cell,
    create_grade_cell,
    create_locked_cell,
    create_notebook,
    create_solution_cell,
)
from tests.reports.factories import record

ROOT = Path(__file__).resolve().parents[2]
DEEP = get_assignment("rnn_deep")
GRADE = 'from grader.cell import grade_cell\n\ngrade_cell("{part}"{extra})'


def execute(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel whose working directory is `folder`, errors allowed."""
    nbclient = pytest.importorskip("nbclient")
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    return client.execute()


def determine_grade(cell) -> tuple:
    utils = pytest.importorskip("nbgrader.utils", reason="needs the instructor extra")
    return utils.determine_grade(cell)


@pytest.fixture
def plain_env(monkeypatch):
    for name in ("NBGRADER_EXECUTION", "JPY_SESSION_NAME", grader.cell.SOLUTIONS_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_grade_cell_that_cannot_check_raises_and_scores_zero(tmp_path, plain_env):
    (tmp_path / "empty_solutions").mkdir()
    (tmp_path / "rnn_deep.ipynb").write_text(
        (ROOT / "assignments" / "release" / "rnn_deep" / "rnn_deep.ipynb").read_text(encoding="utf-8"))
    plain_env.setenv(grader.cell.SOLUTIONS_ENV, str(tmp_path / "empty_solutions"))  # no hidden.py there
    nb = execute(create_notebook([
        create_grade_cell(GRADE.format(part="rnn_2layer", extra=', notebook="missing.ipynb"'), "code",
                          "test_missing", 3),
        create_grade_cell(GRADE.format(part="rnn_2layer", extra=""), "code", "test_no_hidden", 3),
    ]), tmp_path)
    missing, no_hidden = nb.cells
    assert "cannot find the notebook to grade" in missing.outputs[-1].evalue
    assert "no hidden.py there" in no_hidden.outputs[-1].evalue
    for cell in nb.cells:
        assert cell.outputs[-1].output_type == "error" and cell.outputs[-1].ename == "GradeCellError"
        assert determine_grade(cell) == (0, 3.0)


def test_the_reference_under_a_warning_emitting_torch_gets_full_marks_and_no_stderr(tmp_path, plain_env):
    """The answer cell makes torch warn on every torch.zeros (the reference calls it) and shows warnings."""
    import solutions.rnn_deep

    loud = (
        "import warnings\n\n"
        'warnings.simplefilter("always")\n'
        "_zeros = torch.zeros\n\n\n"
        "def _loud_zeros(*args, **kwargs):\n"
        '    warnings.warn("torch.zeros: this overload is deprecated", DeprecationWarning, stacklevel=2)\n'
        "    return _zeros(*args, **kwargs)\n\n\n"
        "torch.zeros = _loud_zeros\n"
        'warnings.warn("torch warns at import", UserWarning)\n\n\n'
    )
    part = DEEP.part("init_rnn_state_2layer")
    nb = create_notebook([
        create_locked_cell(SETUP_CODE, "code", "setup"),
        create_solution_cell(loud + inspect.getsource(solutions.rnn_deep.init_rnn_state_2layer), "code",
                             part.name),
        create_code_cell("init_rnn_state_2layer(2, 3, device)  # the kernel's own call warns too"),
        create_grade_cell(GRADE.format(part=part.name, extra=""), "code", part.test_cell, part.points),
    ])
    nbformat.write(nb, tmp_path / DEEP.notebook)  # the grade cell grades the saved file
    _, answer, call, graded = execute(nb, tmp_path).cells
    assert any(o.output_type == "stream" and o.name == "stderr" for o in answer.outputs + call.outputs)
    assert [(o.output_type, o.get("name")) for o in graded.outputs] == [("stream", "stdout"),
                                                                         ("execute_result", None)]
    assert graded.outputs[0].text.startswith("init_rnn_state_2layer: passed, 1 / 1 points")
    assert determine_grade(graded) == (part.points, part.points)


# --------------------------------------------------------------------------- in this process


@pytest.fixture
def saved(tmp_path, plain_env) -> Path:
    path = tmp_path / DEEP.notebook
    path.write_text("{}", encoding="utf-8")
    plain_env.chdir(tmp_path)
    grader.cell._RECORDS.clear()
    return path


def fake_grader(monkeypatch, result, calls: list):
    def run(path, assignment, part, solutions):
        calls.append(part)
        warnings.warn("a warning while grading", UserWarning, stacklevel=2)
        import sys

        sys.stderr.write("library chatter on stderr\n")
        return result

    monkeypatch.setattr(grader.cell, "_run_grader", run)


def test_warnings_and_stderr_while_grading_stay_off_stderr(saved, plain_env, capsys):
    graded = record("amy", lost={"rnn_2layer": "forward: the outputs have wrong values"})
    graded.parts[2] = dataclasses.replace(graded.parts[2], points=0.5)
    fake_grader(plain_env, graded, calls := [])
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        points = grade_cell("rnn_2layer")
    out, err = capsys.readouterr()
    assert (points, type(points), err, calls) == (0.5, float, "", ["rnn_2layer"])
    assert "rnn_2layer: failed, 0.5 / 3 points" in out and "wrong values" in out
    assert "smallest counterexample:" in out and "library chatter on stderr" in out
    assert "check locally: rnn-grader check rnn_deep.ipynb" in out


def test_under_nbgrader_the_first_grade_cell_grades_every_part_once(saved, plain_env, capsys):
    fake_grader(plain_env, record("amy"), calls := [])
    plain_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert [grade_cell(p.name) for p in DEEP.parts] == [float(p.points) for p in DEEP.parts]
    assert calls == [None]
    plain_env.delenv("NBGRADER_EXECUTION")
    grader.cell._RECORDS.clear()
    assert grade_cell("rnn_2layer") == 3.0 and calls == [None, "rnn_2layer"]  # interactively: its own part


def test_a_record_that_disagrees_with_the_assignment_raises(saved, plain_env):
    graded = record("amy")
    graded.parts[2] = dataclasses.replace(graded.parts[2], points=5.0, max_points=5.0)
    fake_grader(plain_env, graded, [])
    with pytest.raises(GradeCellError, match="regenerate the assignment"):
        grade_cell("rnn_2layer")
    with pytest.raises(GradeCellError, match="no such part"):
        grade_cell("rnn_3layer")


def test_which_notebook_and_which_solutions(saved, plain_env, tmp_path):
    other = tmp_path / "renamed.ipynb"
    other.write_text("{}", encoding="utf-8")
    plain_env.setenv("JPY_SESSION_NAME", str(other))
    assert locate_notebook(DEEP) == other  # in Jupyter: the session's notebook
    plain_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert locate_notebook(DEEP) == saved  # under nbgrader: the graded copy, whatever started nbgrader
    assert locate_solutions() is None
    course = tmp_path / "course"
    folder = course / "autograded" / "amy" / "rnn_deep"
    folder.mkdir(parents=True)
    (course.parent / "solutions").mkdir()
    (course.parent / "solutions" / "hidden.py").write_text("HIDDEN = {}\n", encoding="utf-8")
    plain_env.chdir(folder)
    assert locate_solutions() == course.parent / "solutions"
    plain_env.setenv(grader.cell.SOLUTIONS_ENV, str(tmp_path))
    assert locate_solutions() == tmp_path
