"""nbgrader end to end on a scratch course: release, submit, collect, autograde, grade, export, feedback.

One module fixture runs the whole workflow of :mod:`tests.assignments.nbgrader_flow` (the real
nbgrader and rnn-grader commands) with three students: the reference, a known bug, and a
hostile notebook; the tests read what it left. The per-step timings go to
``nbgrader_e2e.json`` in the fixture's temporary folder and are printed (``pytest -s``);
``bench/nbgrader_e2e.py`` runs the same flow and keeps them under ``bench/results/``.
"""

from __future__ import annotations

import ast
import html
import json

import pytest

from grader.exercises import get_assignment
from grader.export import load_records
from tests.assignments.nbgrader_flow import ASSIGNMENT, ROOT, STUDENTS, Flow, print_table
from tests.helpers import expected

pytestmark = pytest.mark.slow
HONEST = ("alice", "bob")
PARTS = get_assignment(ASSIGNMENT).parts


@pytest.fixture(scope="module")
def flow(tmp_path_factory) -> Flow:
    pytest.importorskip("nbgrader", reason="the nbgrader tests need the instructor extra")
    flow = Flow(tmp_path_factory.mktemp("nbgrader_e2e"))
    try:
        flow.run_all()
    finally:
        print_table(flow)
        if flow.timings.get("fetch_feedback") is not None:
            print(f"timings written to {flow.write_summary(flow.root / 'nbgrader_e2e.json')}")
    return flow


@pytest.fixture(scope="module")
def records(flow) -> dict:
    return {r.student: r for r in load_records(flow.records)}


def test_every_step_is_timed(flow):
    summary = json.loads((flow.root / "nbgrader_e2e.json").read_text(encoding="utf-8"))
    assert list(summary["seconds"]) == list(flow.timings) and "autograde" in summary["seconds"]
    assert all(seconds > 0 for seconds in summary["seconds"].values())
    assert summary["nbgrader_export_csv"].startswith("assignment,duedate,timestamp,student_id")


def test_records_have_the_expected_verdicts(records):
    assert set(records) == set(STUDENTS)
    assert all(r.mode == "instructor" and r.error is None for r in records.values())
    assert records["alice"].score == records["alice"].max_score == get_assignment(ASSIGNMENT).max_score
    bug = expected("bug_rnn2_drops_whh2")["parts"]["rnn_2layer"]
    bob = {p.name: p for p in records["bob"].parts}
    assert (bob["rnn_2layer"].status, bob["rnn_2layer"].points) == (bug["status"], bug["points"])
    assert bob["train_rnn_2layer"].points == 0.0  # the trained model is not the contract's RNN
    others = [p for p in PARTS if p.name not in ("rnn_2layer", "train_rnn_2layer")]
    assert all(bob[p.name].points == p.points for p in others)


@pytest.mark.parametrize("student", HONEST)
def test_autograde_gradebook_exports_and_records_agree(flow, records, student):
    record = records[student]
    points = {f"test_{p.name}": p.points for p in record.parts}
    assert flow.gradebook_after_autograde[student] == points, "plain nbgrader autograde"
    assert flow.gradebook()[student] == points, "after rnn-grader grade --course"
    [row] = [r for r in flow.csv_rows("nbgrader.csv") if r["student_id"] == student]
    assert (row["assignment"], float(row["score"]), float(row["max_score"])) == (
        ASSIGNMENT, record.score, record.max_score)
    [ours] = [r for r in flow.csv_rows("grades.csv") if r["student"] == student]
    assert {p.name: float(ours[p.name]) for p in record.parts} == {p.name: p.points for p in record.parts}
    assert float(ours["total"]) == record.score


def test_hostile_student_earns_nothing_from_its_monkeypatch(flow, records):
    """mallory = bob's bug + an always-true torch.allclose + stderr: the same points as bob, both ways."""
    verdict = {p.name: (p.points, p.status, p.message) for p in records["bob"].parts}
    assert {p.name: (p.points, p.status, p.message) for p in records["mallory"].parts} == verdict
    assert flow.gradebook_after_autograde["mallory"] == flow.gradebook_after_autograde["bob"]
    assert flow.gradebook()["mallory"] == flow.gradebook()["bob"]
    nb = flow.autograded("mallory")
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == PARTS[0].name)
    assert any(o.output_type == "stream" and o.name == "stderr" for o in answer.outputs), (
        "the hostile cell did run in the kernel and wrote to stderr")


@pytest.mark.parametrize("student", STUDENTS)
def test_grade_cells_print_the_verdict_and_end_with_the_points(flow, records, student):
    from nbgrader.utils import determine_grade

    parts = {p.name: p for p in records[student].parts}
    cells = {c.metadata.nbgrader.grade_id: c for c in flow.autograded(student).cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    for part in PARTS:
        cell = cells[part.test_cell]
        assert [o.output_type for o in cell.outputs] == ["stream", "execute_result"], cell.outputs
        assert cell.outputs[0].name == "stdout"
        printed = cell.outputs[0].text
        assert printed.startswith(f"{part.name}: {parts[part.name].status}, ")
        assert "public and hidden checks" in printed  # solutions/ found beside the course
        assert float(cell.outputs[1].data["text/plain"]) == parts[part.name].points
        assert determine_grade(cell) == (parts[part.name].points, part.points)


def hidden_check_lines() -> list[str]:
    """The code lines of solutions/hidden.py (no docstrings, comments or short lines such as `)`)."""
    source = (ROOT / "solutions" / "hidden.py").read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            docstrings |= set(range(body[0].lineno, body[0].end_lineno + 1))
    lines = [line.split("  #")[0].strip() for i, line in enumerate(source.splitlines(), 1)
             if i not in docstrings]
    return [line for line in lines if len(line) >= 16 and not line.startswith(("#", "from ", "import "))]


@pytest.mark.parametrize("student", STUDENTS)
def test_delivered_feedback_shows_the_verdict_and_no_hidden_check_code(flow, records, student):
    code = hidden_check_lines()
    assert len(code) >= 20
    nbgrader_page = html.unescape(flow.nbgrader_feedback[student])
    assert f"{PARTS[0].name}: {records[student].parts[0].status}" in nbgrader_page  # the grade cell's output
    [path] = flow.delivered(student)  # one submission, one page: the student's own
    page = html.unescape(path.read_text(encoding="utf-8"))
    assert f"<title>{ASSIGNMENT}: {student}</title>" in page
    assert f"Score: {records[student].score:g} / {records[student].max_score:g}" in page  # our page
    for text in (page, nbgrader_page):
        leaked = [line for line in code if line in text]
        assert not leaked, f"{path} shows code of solutions/hidden.py: {leaked[:3]}"
