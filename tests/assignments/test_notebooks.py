"""The course notebooks: built from solutions/, released by nbgrader, checked by their own test cells.

The nbgrader commands run in a temporary copy of the course, all started by one
module fixture (two at a time) because each pays several seconds of start-up.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import inspect
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.exercises import ASSIGNMENTS, SETUP_CODE, Assignment
from grader.notebook import cells
from grader.notebook.cells import BEGIN_SOLUTION, END_SOLUTION

pytestmark = pytest.mark.xdist_group("nbgrader-course")  # one process runs the module fixture

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
NAMES = list(ASSIGNMENTS)

if str(ROOT) not in sys.path:  # solutions/ is not installed: it never ships
    sys.path.insert(0, str(ROOT))


def read_notebook(kind: str, assignment: Assignment) -> nbformat.NotebookNode:
    return nbformat.read(COURSE / kind / assignment.name / assignment.notebook, as_version=4)


def cells_by_grade_id(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def reference_source(assignment: Assignment, name: str) -> str:
    """The text of a reference function in solutions/<assignment>.py."""
    func = getattr(importlib.import_module(f"solutions.{assignment.name}"), name)
    return textwrap.dedent(inspect.getsource(func))


def reference_node(assignment: Assignment, name: str) -> ast.FunctionDef:
    return ast.parse(reference_source(assignment, name)).body[0]


@pytest.fixture(scope="module")
def make_source():
    spec = importlib.util.spec_from_file_location("make_source", COURSE / "make_source.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- cell factories


def test_cell_factories_write_metadata_that_nbgrader_accepts():
    nbgraderformat = pytest.importorskip("nbgrader.nbgraderformat")
    assert cells.SCHEMA_VERSION == nbgraderformat.SCHEMA_VERSION
    nb = cells.create_notebook(
        [
            cells.create_markdown_cell("# Title", cell_id="intro"),
            cells.create_locked_cell("import torch", "code", "setup"),
            cells.create_solution_cell(
                "def f():\n" + cells.solution_region("    return 1", indent="    "), "code", "f"
            ),
            cells.create_grade_cell("assert f() == 1", "code", "test_f", 2),
            cells.create_grade_and_solution_cell("Explain.", "markdown", "explain", 1),
            cells.create_code_cell("f()", cell_id="demo"),
        ]
    )
    nbgraderformat.MetadataValidator().validate_nb(nb)
    nbformat.validate(nb)
    assert [c.id for c in nb.cells] == ["intro", "setup", "f", "test_f", "explain", "demo"]
    assert "nbgrader" not in nb.cells[0].metadata and "nbgrader" not in nb.cells[-1].metadata


@pytest.mark.parametrize(
    "make",
    [
        lambda: cells.create_grade_cell("x", "code", "", 1),  # no grade_id
        lambda: cells.create_grade_cell("x", "code", "t", -1),  # negative points
        lambda: cells.create_grade_cell("x", "markdown", "t", 1),  # markdown grade cell, not a solution
        lambda: cells.create_solution_cell("x", "markdown", "s"),  # markdown solution cell, not graded
        lambda: cells.create_code_cell("x", cell_id="no spaces allowed"),
        lambda: cells.create_locked_cell("x", "raw", "r"),
        lambda: cells.solution_region("### BEGIN SOLUTION"),
    ],
)
def test_cell_factories_refuse_what_nbgrader_refuses(make):
    with pytest.raises(ValueError):
        make()


# --------------------------------------------------------------------------- source notebooks


def test_committed_source_notebooks_are_what_make_source_builds(make_source, capsys):
    assert make_source.main(["--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_make_source_is_deterministic(make_source, name):
    build = make_source.build_notebook
    assert make_source.render(build(ASSIGNMENTS[name])) == make_source.render(build(ASSIGNMENTS[name]))


@pytest.mark.parametrize("name", NAMES)
def test_nbgrader_cells_are_setup_then_answer_and_test_per_part(name):
    assignment = ASSIGNMENTS[name]
    nb = read_notebook("source", assignment)
    graded = [c for c in nb.cells if "nbgrader" in c.metadata]
    expected = ["setup"] + [g for f in assignment.functions for g in (f, f"test_{f}")]
    expected += [p.test_cell for p in assignment.parts if p.training]  # the training section's grade cells
    assert [c.metadata.nbgrader.grade_id for c in graded] == expected
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is graded[0] and first_code.source == SETUP_CODE
    assert flags(graded[0]) == {"grade": False, "solution": False, "locked": True}
    for part in assignment.parts:
        test = cells_by_grade_id(nb)[part.test_cell]
        assert flags(test) == {"grade": True, "solution": False, "locked": True}
        assert test.metadata.nbgrader.points == part.points and test.cell_type == "code"
        if not part.training:  # a training part has no answer cell of its own
            answer = cells_by_grade_id(nb)[part.name]
            assert flags(answer) == {"grade": False, "solution": True, "locked": False}
            assert answer.cell_type == "code"
    assert sum(c.metadata.nbgrader.get("points", 0) for c in graded) == assignment.max_score


def flags(cell) -> dict[str, bool]:
    meta = cell.metadata.nbgrader
    assert meta.schema_version == 3 and meta.task is False
    return {key: meta[key] for key in ("grade", "solution", "locked")}


@pytest.mark.parametrize("name", NAMES)
def test_answer_cells_hold_the_reference_function_alone(name):
    assignment = ASSIGNMENTS[name]
    cells = cells_by_grade_id(read_notebook("source", assignment))
    for part in (p for p in assignment.parts if not p.training):
        lines = cells[part.name].source.splitlines()
        ref = reference_node(assignment, part.name)
        indent = " " * ref.body[0].col_offset
        begin, end = lines.index(indent + BEGIN_SOLUTION), lines.index(indent + END_SOLUTION)
        assert sum(BEGIN_SOLUTION in line or END_SOLUTION in line for line in lines) == 2
        region = textwrap.dedent("\n".join(lines[begin + 1 : end]))
        expected_region = ast.Module(body=ref.body[1:], type_ignores=[])
        assert ast.dump(ast.parse(region)) == ast.dump(expected_region), f"{part.name}: solution region"
        module = ast.parse("\n".join(lines[:begin] + lines[begin + 1 : end] + lines[end + 1 :]))
        assert len(module.body) == 1, f"{part.name}: the answer cell must hold the function alone"
        assert ast.dump(module.body[0]) == ast.dump(ref), f"{part.name}: differs from solutions/{name}.py"


_EXAMPLE_BLOCK = re.compile(r"```python\n(>>> .*?)```", re.DOTALL)


@pytest.mark.parametrize("name", NAMES)
def test_examples_in_the_lessons_are_what_the_reference_prints(name):
    assignment = ASSIGNMENTS[name]
    namespace: dict = {}
    exec(SETUP_CODE, namespace)
    module = importlib.import_module(f"solutions.{name}")
    namespace.update({f: getattr(module, f) for f in module.__all__})
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    parser = doctest.DocTestParser()
    markdown = [c.source for c in read_notebook("source", assignment).cells if c.cell_type == "markdown"]
    blocks = [block for text in markdown for block in _EXAMPLE_BLOCK.findall(text)]
    assert len(blocks) >= len(assignment.functions), "every lesson shows a small example"
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, namespace, f"{name}[{i}]", None, 0))
    assert runner.summarize(verbose=False).failed == 0


def solution_lines(assignment: Assignment, name: str) -> list[str]:
    """The code of each line of a reference body; comments and short lines (`)`, `else:`) left out."""
    source = reference_source(assignment, name)
    docstring = ast.parse(source).body[0].body[0]
    body = source.splitlines()[docstring.end_lineno :]
    codes = [line.split("  #")[0].strip() for line in body]
    return [code for code in codes if len(code) >= 6]


@pytest.mark.parametrize("name", NAMES)
def test_release_notebooks_contain_no_line_of_a_solution(name):
    assignment = ASSIGNMENTS[name]
    release = "\n".join(c.source for c in read_notebook("release", assignment).cells)
    assert "BEGIN SOLUTION" not in release and "raise NotImplementedError()" in release
    for part in (p for p in assignment.parts if not p.training):
        lines = solution_lines(assignment, part.name)
        assert lines, part.name
        leaked = [line for line in lines if line in release]
        assert not leaked, f"release/{name} shows lines of the reference {part.name}: {leaked}"


# --------------------------------------------------------------------------- nbgrader end to end


@dataclass(frozen=True)
class Run:
    """One finished nbgrader command."""

    args: tuple[str, ...]
    returncode: int
    output: str
    """stdout and stderr together."""

    def __str__(self) -> str:
        return f"nbgrader {' '.join(self.args)} exited {self.returncode}:\n{self.output}"


def nbgrader(course: Path, *args: str) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(args, proc.returncode, proc.stdout + proc.stderr)


def generate_all(course: Path) -> list[Run]:
    # --no-db: the gradebook plays no part in the release notebooks, and skipping it halves the time.
    return [nbgrader(course, "generate_assignment", name, "--force", "--no-db") for name in NAMES]


@pytest.fixture(scope="module")
def nbgrader_runs(tmp_path_factory):
    """Start the three nbgrader jobs on copies of the course; each test waits for the one it checks."""
    pytest.importorskip("nbgrader", reason="the nbgrader tests need the instructor extra")
    course = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source", course / "source")
    shutil.copytree(COURSE / "release", course / "committed_release")
    sources = [f"source/{a.name}/{a.notebook}" for a in ASSIGNMENTS.values()]
    releases = [f"committed_release/{a.name}/{a.notebook}" for a in ASSIGNMENTS.values()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs: dict[str, Future] = {
            "validate": pool.submit(nbgrader, course, "validate", *sources),
            "generate": pool.submit(generate_all, course),
            "invert": pool.submit(nbgrader, course, "validate", "--invert", *releases),
        }
        yield course, jobs


@pytest.mark.slow
def test_generate_assignment_makes_the_committed_release(nbgrader_runs):
    course, jobs = nbgrader_runs
    for run in jobs["generate"].result():
        assert run.returncode == 0 and "ERROR" not in run.output, str(run)
    for assignment in ASSIGNMENTS.values():
        generated = nbformat.read(course / "release" / assignment.name / assignment.notebook, as_version=4)
        committed = read_notebook("release", assignment)
        assert generated.metadata == committed.metadata
        assert [cell_fields(c) for c in generated.cells] == [cell_fields(c) for c in committed.cells], (
            f"assignments/release/{assignment.name} is stale: run nbgrader generate_assignment "
            f"{assignment.name} --force in assignments/"
        )


def cell_fields(cell) -> tuple:
    return (cell.cell_type, cell.get("id"), cell.source, cell.metadata)


@pytest.mark.slow
def test_source_notebooks_pass_nbgrader_validate(nbgrader_runs):
    run = nbgrader_runs[1]["validate"].result()
    assert run.returncode == 0, str(run)
    assert run.output.count("Success! Your notebook passes all the tests.") == len(ASSIGNMENTS), str(run)
    assert "VALIDATION FAILED" not in run.output and "ERROR" not in run.output, str(run)


@pytest.mark.slow
def test_every_grade_cell_fails_on_the_release_stubs(nbgrader_runs):
    run = nbgrader_runs[1]["invert"].result()
    assert run.returncode == 0, str(run)
    assert run.output.count("Success! The notebook does not pass any tests.") == len(ASSIGNMENTS), str(run)
    assert "NOTEBOOK PASSED ON" not in run.output and "ERROR" not in run.output, str(run)
