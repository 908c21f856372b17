"""The grades CSV: one row per student and assignment, columns in contract order."""

from __future__ import annotations

import csv

import pytest

from grader.errors import ConfigError
from grader.export import export_csv
from grader.record import write_record
from tests.reports.factories import record


def _write(folder, *records):
    for r in records:
        write_record(r, folder / f"{r.student}__{r.assignment}.json")
    return folder


def _read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_one_row_per_student_and_assignment_columns_in_contract_order(tmp_path):
    records = _write(tmp_path / "records",
                     record("zoe", "rnn_deep", lost={"rnn_2layer": "drops W_hh2"}),
                     record("amy", "rnn_deep"),
                     record("amy", "rnn_scratch", lost={"one_hot": "off by one"}))
    rows = _read(export_csv(records, tmp_path / "grades.csv"))
    assert rows[0] == ["student", "assignment", "one_hot", "to_onehot", "get_params", "init_rnn_state", "rnn",
                       "grad_clipping", "predict_rnn", "train_rnn", "get_params_2layer",
                       "init_rnn_state_2layer", "rnn_2layer", "train_rnn_2layer", "total", "max"]
    assert rows[1] == ["amy", "rnn_scratch", "0", "1", "2", "1", "3", "2", "2", "3",
                       "", "", "", "", "14", "16"]
    assert rows[2] == ["amy", "rnn_deep", "", "", "", "", "", "", "", "", "2", "1", "3", "3", "9", "9"]
    assert rows[3] == ["zoe", "rnn_deep", "", "", "", "", "", "", "", "", "2", "1", "0", "3", "6", "9"]


def test_header_is_stable_whatever_order_records_come_in(tmp_path):
    a = _write(tmp_path / "a", record("bob"), record("amy"))
    b = _write(tmp_path / "b", record("amy"), record("bob"))
    assert (export_csv(a, tmp_path / "a.csv").read_bytes() == export_csv(b, tmp_path / "b.csv").read_bytes())


def test_only_present_assignments_get_columns(tmp_path):
    rows = _read(export_csv(_write(tmp_path / "r", record("amy")), tmp_path / "g.csv"))
    assert rows[0] == ["student", "assignment", "get_params_2layer", "init_rnn_state_2layer", "rnn_2layer",
                       "train_rnn_2layer", "total", "max"]


def test_unknown_part_kept_at_the_end(tmp_path):
    r = record("amy")
    r.parts.append(r.parts[0].__class__("bonus", 1.0, 1.0, "passed"))
    rows = _read(export_csv(_write(tmp_path / "r", r), tmp_path / "g.csv"))
    assert rows[0][-3:] == ["bonus", "total", "max"] and rows[1][-3] == "1"


def test_unicode_student_ids_round_trip(tmp_path):
    rows = _read(export_csv(_write(tmp_path / "r", record("周杰伦")), tmp_path / "g.csv"))
    assert rows[1][0] == "周杰伦"


def test_duplicate_student_is_an_error_naming_both(tmp_path):
    folder = _write(tmp_path / "r", record("amy"))
    write_record(record("amy"), folder / "copy.json")
    with pytest.raises(ConfigError, match="two records for student 'amy'"):
        export_csv(folder, tmp_path / "g.csv")


def test_a_foreign_json_file_is_named(tmp_path):
    folder = _write(tmp_path / "r", record("amy"))
    (folder / "notes.json").write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(ConfigError, match="notes.json: not a grading record"):
        export_csv(folder, tmp_path / "g.csv")


def test_missing_folder_says_what_to_pass(tmp_path):
    with pytest.raises(ConfigError, match="no such folder of records"):
        export_csv(tmp_path / "nope", tmp_path / "g.csv")
