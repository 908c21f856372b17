"""Notebooks with the reference solutions in their answer cells earn full marks through the API and the
pytest plugin; broken notebooks end in a record, not a crash."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from grader.api import check_notebook
from grader.engine import GradeOptions, grade_submission
from grader.exercises import get_assignment
from grader.notebook.extract import (
    MAX_CELL_BYTES,
    MAX_CODE_BYTES,
    MAX_IPYTHON_BYTES,
    _python,
    _segments,
    extract,
)
from tests.helpers import ROOT

SOURCE = ROOT / "assignments" / "source"
ASSIGNMENT_FUNCTIONS = get_assignment("rnn_scratch").functions


@pytest.mark.parametrize("assignment", ["rnn_scratch", "rnn_deep"])
def test_filled_notebook_full_marks(assignment):
    record = check_notebook(SOURCE / assignment / f"{assignment}.ipynb")
    assert record.assignment == assignment
    assert all(p.status == "passed" and p.points == p.max_points for p in record.parts), [
        (p.name, p.message) for p in record.parts if p.status != "passed"
    ]


def test_release_stub_notebook_scores_zero_with_messages():
    record = check_notebook(ROOT / "assignments" / "release" / "rnn_deep" / "rnn_deep.ipynb")
    assert record.score == 0
    assert all("NotImplementedError" in p.message for p in record.parts), [p.message for p in record.parts]


def test_pytest_plugin_reports_one_item_per_part():
    nb = SOURCE / "rnn_deep" / "rnn_deep.ipynb"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--notebook",
                          str(nb)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "3 passed" in run.stdout


def test_pytest_plugin_shows_the_counterexample(tmp_path):
    nb = json.loads((SOURCE / "rnn_deep" / "rnn_deep.ipynb").read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "rnn_2layer":
            text = "".join(cell["source"])
            cell["source"] = text.replace("H1_t W_xh2", "").replace("H1 @ W_xh2 + H2 @ W_hh2", "H1 @ W_xh2")
    path = tmp_path / "rnn_deep.ipynb"
    path.write_text(json.dumps(nb))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--notebook",
                          str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1
    assert "1 failed, 2 passed" in run.stdout
    assert "smallest failing input: inputs=" in run.stdout
    assert "Traceback" not in run.stdout


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe garbage", b'{"cells": 3}', b"[]"])
def test_broken_notebook_is_a_record(tmp_path, content):
    path = tmp_path / "rnn_scratch.ipynb"
    path.write_bytes(content)
    record = check_notebook(path)
    assert record.score == 0 and record.error is None
    assert {p.status for p in record.parts} == {"missing"}
    assert record.parts[0].message


def _with_cells(assignment: str, edit) -> dict:
    nb = json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text())
    edit(nb["cells"])
    return nb


def _answer(cells: list, grade_id: str) -> dict:
    return next(c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _code_cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def test_an_enormous_answer_cell_is_an_error_for_its_part_only(tmp_path):
    """150,000 lines pasted into one answer cell: that part is an error naming the per-cell bound, and the
    rest of the notebook is read and graded as usual."""
    nb = _with_cells("rnn_scratch", lambda cells: _answer(cells, "one_hot").update(
        source="".join(_answer(cells, "one_hot")["source"]) + "\n" + "x = 1\n" * 150_000))
    path = tmp_path / "rnn_scratch.ipynb"
    path.write_text(json.dumps(nb))
    got = extract(path, ASSIGNMENT_FUNCTIONS)
    assert got.error is None
    status, message = got.problems["one_hot"]
    assert status == "error" and "cell `one_hot` holds 880 KiB of code" in message and "128 KiB" in message
    assert set(got.problems) == {"one_hot"}
    record = grade_submission(path, options=GradeOptions(training=False, max_examples=3))
    by_name = {p.name: p for p in record.parts}
    assert by_name["one_hot"].status == "error" and "128 KiB" in by_name["one_hot"].message
    assert all(p.status == "passed" for name, p in by_name.items() if name not in ("one_hot", "to_onehot")), [
        (p.name, p.status, p.message) for p in record.parts]


def test_large_demo_cells_never_crowd_out_the_answers(tmp_path):
    """Answer cells are counted first against the per-submission bound: a notebook whose demo cells hold
    more code than the bound still has every answer read; what lies beyond the bound is not searched."""
    demo = "y = 2\n" * ((100 << 10) // 6)
    helper = "def one_hot_helper(X, n):\n    return X\n"

    def edit(cells):
        cells[:0] = [_code_cell(demo) for _ in range(MAX_CODE_BYTES // len(demo) + 1)]
        cells.append(_code_cell(helper))

    path = tmp_path / "rnn_scratch.ipynb"
    path.write_text(json.dumps(_with_cells("rnn_scratch", edit)))
    got = extract(path, ASSIGNMENT_FUNCTIONS)
    assert got.error is None and got.problems == {}
    assert not any("one_hot_helper" in c.source for c in got.cells)
    assert sum(len(c.source) for c in got.cells) <= MAX_CODE_BYTES


def test_a_py_submission_over_the_code_bound_is_a_record(tmp_path):
    """A .py file is one cell: over the bound of one cell, every part says so (not "not found")."""
    path = tmp_path / "rnn_scratch.py"
    path.write_text("x = 1\n" * (MAX_CELL_BYTES // 6 + 1))
    record = check_notebook(path)
    assert record.score == 0 and record.error is None
    assert {p.status for p in record.parts} == {"missing"}
    assert all("more than 128 KiB of code" in p.message for p in record.parts)


def test_a_function_in_a_cell_too_large_to_read_is_missing_and_says_why(tmp_path):
    """A definition inside a cell over the bound whose grade_id names no function: the function is
    missing, and the message names the unread cell instead of only saying it was not found."""
    def edit(cells):
        answer = _answer(cells, "one_hot")
        answer["metadata"]["nbgrader"]["grade_id"] = "scratchpad"
        answer["source"] = "".join(answer["source"]) + "\n" + "x = 1\n" * 30_000

    path = tmp_path / "rnn_scratch.ipynb"
    path.write_text(json.dumps(_with_cells("rnn_scratch", edit)))
    status, message = extract(path, ASSIGNMENT_FUNCTIONS).problems["one_hot"]
    assert status == "missing" and "no function named `one_hot`" in message
    assert "cells `scratchpad` were too large to read" in message


@pytest.mark.parametrize("source", [
    "import torch\nx = 1\n",
    "def f(a,\n      b):\n    return 'é' + a  # ü\n\r\ny = {'k':\r\n 2}\rz = 3",
    "class C:\n    pass\nw = [1,\n 2]",
    "if True:\n    v = 'ß'; u = 2\nt = 1",
])
def test_segments_match_the_standard_library(source):
    """The one-split segment reader gives exactly what ast.get_source_segment gives, CRLF, CR and
    multi-byte characters included."""
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))[1:]
    nodes = [n for n in nodes if getattr(n, "end_lineno", None) is not None]
    assert _segments(source, nodes) == [ast.get_source_segment(source, n) for n in nodes]


IPYTHON_CELLS = [
    "%matplotlib inline\nimport torch\n",
    "!pip install d2l==0.17\nx = 1\n",
    "a = !ls\nb = %pwd\n",
    "torch.cat?\n",
    "%%time\nx = 1\n",
    "if True:\n    %time y = 2\n    !echo hi\n",
    's = """\n%d items\n"""\n',
    "x = [1,\n  2]\n%time f(x)\n!ls \\\n  -la\nprint(x)\n",
    "%time x = 1 % 2\n" * 3,
    "def f(x):\n    return x % 2 != 0\n",
]


@pytest.mark.parametrize("cell", IPYTHON_CELLS)
def test_ipython_syntax_is_transformed_as_ipython_does(cell):
    from IPython.core.inputtransformer2 import TransformerManager

    assert _python(cell) == TransformerManager().transform_cell(cell)


def test_a_cell_of_thousands_of_magics_is_transformed_in_one_pass():
    """IPython's own manager stops after 500 rewrites (and re-tokenizes the cell for each one); the
    one-pass transformer rewrites every line, and the definition beside them is still found."""
    cell = "%time x = 1\n" * 2_000 + "def one_hot(X, n):\n    return X\n"
    out = _python(cell)
    assert out.count("get_ipython().run_line_magic('time', 'x = 1')") == 2_000
    assert "def one_hot" in ast.unparse(ast.parse(out))


def test_ipython_syntax_beyond_its_bound_is_left_as_it_is(tmp_path):
    """Cells with IPython syntax are transformed up to MAX_IPYTHON_BYTES, answer cells first: demo cells
    full of magics never cost an answer its transform, but an answer cell beyond the bound is parsed as it
    is, and its syntax error says why."""

    magics = "%time x = 1\n" * ((100 << 10) // 12)

    def with_magic_cells(as_answers: bool):
        def edit(cells):
            answer = _answer(cells, "grad_clipping")
            answer["source"] = "%matplotlib inline\n" + "".join(answer["source"])
            for i in range(MAX_IPYTHON_BYTES // len(magics) + 1):
                cell = _code_cell(magics)
                if as_answers:
                    meta = {"grade_id": f"extra_{i}", "solution": True, "grade": False}
                    cell["metadata"] = {"nbgrader": meta}
                cells.insert(0, cell)
        path = tmp_path / "rnn_scratch.ipynb"
        path.write_text(json.dumps(_with_cells("rnn_scratch", edit)))
        return extract(path, ASSIGNMENT_FUNCTIONS)

    got = with_magic_cells(as_answers=False)
    assert got.problems == {}
    assert any("run_line_magic('matplotlib', 'inline')" in c.source for c in got.cells)

    got = with_magic_cells(as_answers=True)
    assert set(got.problems) == {"grad_clipping"}
    status, message = got.problems["grad_clipping"]
    assert status == "error" and "syntax error in cell `grad_clipping`" in message
    assert "IPython syntax (`%`, `!`) was not turned into Python" in message and "256 KiB" in message
