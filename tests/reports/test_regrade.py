"""Regrade diffs: which student's part changed, by how much, and why."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

from rich.console import Console

from grader.api import grade_notebook
from grader.record import load_record, write_record
from grader.regrade import changes_table, diff_records, exit_status
from tests.reports.factories import record

ROOT = Path(__file__).resolve().parents[2]


def _write(folder, *records):
    for r in records:
        write_record(r, folder / f"{r.student}__{r.assignment}.json")
    return folder


def _render(changes) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(changes_table(changes))
    return console.export_text()


def test_identical_records_have_no_changes(tmp_path):
    old = _write(tmp_path / "old", record("amy"), record("bob", lost={"rnn_2layer": "drops W_hh2"}))
    new = _write(tmp_path / "new", record("amy"), record("bob", lost={"rnn_2layer": "drops W_hh2"}))
    assert diff_records(old, new) == [] and exit_status([]) == 0


def test_timing_and_start_time_are_not_changes(tmp_path):
    later = dataclasses.replace(record("amy"), started="2030-01-01T00:00:00+00:00", seconds=99.0)
    assert diff_records(_write(tmp_path / "old", record("amy")), _write(tmp_path / "new", later)) == []


def test_new_submission_bytes_are_the_reason(tmp_path):
    old = _write(tmp_path / "old", record("bob", lost={"rnn_2layer": "drops W_hh2"}))
    new = _write(tmp_path / "new", record("bob", sha256="b" * 64))
    [change] = diff_records(old, new)
    assert (change.student, change.part, change.before, change.after) == ("bob", "rnn_2layer", 0.0, 3.0)
    assert change.reasons[0] == "submission changed (sha256 aaaaaaaa → bbbbbbbb)"
    assert "status failed → passed" in change.reasons and exit_status([change]) == 1


def test_grader_version_and_seed_are_named(tmp_path):
    old = _write(tmp_path / "old", record("bob"))
    new = _write(tmp_path / "new", record("bob", lost={"init_rnn_state_2layer": "H1 is not zero"},
                                          grader_version="1.1", seed=7))
    [change] = diff_records(old, new)
    assert change.part == "init_rnn_state_2layer" and change.delta == -1.0
    assert change.reasons[:2] == ("grader 1.0 → 1.1", "seed 0 → 7")


def test_threshold_change_is_named_on_the_training_part(tmp_path):
    old = _write(tmp_path / "old", record("amy"))
    lost = {"train_rnn_2layer": "perplexity 2.8 > 2.0"}
    new = _write(tmp_path / "new", record("amy", threshold=2.0, lost=lost))
    [change] = diff_records(old, new)
    assert change.part == "train_rnn_2layer" and "threshold 4.53 → 2.0" in change.reasons


def test_message_only_change_keeps_the_points(tmp_path):
    old = _write(tmp_path / "old", record("amy", lost={"rnn_2layer": "wrong"}))
    new = _write(tmp_path / "new", record("amy", lost={"rnn_2layer": "H2 ignores W_hh2"}))
    [change] = diff_records(old, new)
    assert change.before == change.after == 0.0 and change.reasons == ("message",)


def test_added_and_removed_submissions(tmp_path):
    old = _write(tmp_path / "old", record("amy"))
    new = _write(tmp_path / "new", record("bob"))
    changes = diff_records(old, new)
    assert {(c.student, c.reasons) for c in changes} == {("amy", ("removed",)), ("bob", ("new",))}
    assert all(c.before is None for c in changes if c.student == "bob")
    assert len(changes) == 8


def test_table_names_student_part_and_reason(tmp_path):
    old = _write(tmp_path / "old", record("bob", lost={"rnn_2layer": "drops W_hh2"}))
    new = _write(tmp_path / "new", record("bob", sha256="b" * 64))
    text = _render(diff_records(old, new))
    assert "bob" in text and "rnn_2layer" in text
    assert "submission changed" in text and "1 changed part" in text


def test_regrading_the_reference_changes_nothing_and_a_new_threshold_does(tmp_path):
    """Grade the reference twice for real: empty diff; then edit one record's threshold and score."""
    for run in ("old", "new"):
        grade_notebook(ROOT / "solutions" / "rnn_deep.py", assignment="rnn_deep",
                       solutions=ROOT / "solutions", out_dir=tmp_path / run, student="ref")
    assert diff_records(tmp_path / "old", tmp_path / "new") == []

    [path] = (tmp_path / "new").glob("*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    train = next(p for p in data["parts"] if p["name"] == "train_rnn_2layer")
    train.update(points=0.0, status="failed", message="perplexity above the threshold")
    train["extras"]["threshold"] = 1.5
    data["score"] -= 3.0
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    load_record(path)  # still a valid record
    [change] = diff_records(tmp_path / "old", tmp_path / "new")
    assert (change.student, change.part, change.before, change.after) == ("ref", "train_rnn_2layer", 3.0, 0.0)
    assert any(r.startswith("threshold ") and r.endswith("→ 1.5") for r in change.reasons)


def test_diff_command_names_every_student_and_part_a_new_threshold_changed(tmp_path, capsys, monkeypatch):
    """`rnn-grader diff`: exit 0 and "no part changed" for a same-grader regrade; a tightened threshold
    lists exactly the students whose training part it flipped, and why."""
    from grader.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    failing = {"train_rnn_2layer": "perplexity 9.1 is above the threshold"}
    old = _write(tmp_path / "old", record("amy"), record("bob"), record("cat", lost=failing))
    same = _write(tmp_path / "same", record("amy"), record("bob"), record("cat", lost=failing))
    assert main(["diff", str(old), str(same)]) == 0
    assert capsys.readouterr().out.strip() == "no part changed"

    tight = {"train_rnn_2layer": "perplexity 2.8 is above the threshold"}
    new = _write(tmp_path / "new", *(record(s, threshold=2.0, lost=tight) for s in ("amy", "bob")),
                 record("cat", threshold=2.0, lost=failing))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "train_rnn_2layer" in line]
    assert [row.split()[1] for row in rows] == ["amy", "bob"], out  # cat failed before and after
    assert all("threshold 4.53 → 2.0" in row and "status passed → failed" in row for row in rows), out
    assert "2 changed parts" in out
