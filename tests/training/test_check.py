"""The training parts, parent side: the verdict comes from the parent's own re-evaluation of the
returned parameters, against calibrated thresholds, never from what the worker says.

Fixture submissions live in ``tests/training/fixtures/<verdict_name>/`` (``patch.py`` applied
to the reference, or ``patch_from`` naming a unit fixture in ``tests/submissions``, and
``expected.json``); they are trained in a real sandbox worker, training part only (the engine's
fixture test covers the function parts).
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from grader.engine import GradeOptions, _all_functions, _Session, grade_submission
from grader.exercises import get_assignment
from grader.notebook.extract import extract
from grader.record import PartResult
from grader.sandbox.limits import WorkerLimits
from grader.sandbox.protocol import Decoder, Encoder
from grader.sandbox.runner import Sandbox, WorkerLost
from grader.training import profiles
from grader.training.calibrate import derive_threshold
from grader.training.check import (
    evaluate,
    grade_training,
    load_thresholds,
    margin_text,
    oracle_logits,
    threshold_entry,
    windows,
    write_plot,
)
from tests.helpers import ROOT, patched_source

if str(ROOT) not in sys.path:  # solutions/ is not installed: it never ships
    sys.path.insert(0, str(ROOT))

from solutions import rnn_scratch as ref  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
OPTIONS = GradeOptions(isolation="rlimits", limits=WorkerLimits(memory_bytes=3 << 30, cpu_seconds=120))
TRAIN_RNN = get_assignment("rnn_scratch").part("train_rnn")


def grade_training_only(path: Path, assignment: str, options: GradeOptions = OPTIONS) -> PartResult:
    """Load the submission in a worker and grade its training part alone."""
    sandbox = Sandbox(limits=options.limits, device=options.device, isolation=options.isolation)
    part = next(p for p in get_assignment(assignment).parts if p.training)
    with _Session(sandbox, extract(path, _all_functions())) as session:
        return grade_training(session, part, options)


def build(tmp_path: Path, assignment: str, patch: str = "", name: str = "submission") -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(patched_source(assignment, patch), encoding="utf-8")
    return path


# -- messages and thresholds ---------------------------------------------------------------------


def test_every_verdict_prints_its_margin():
    entry = {"threshold": 1.5, "reference_mean": 1.12, "reference_std": 0.03, "limit": 1.05}
    assert margin_text(1.3149, entry) == "perplexity 1.31 (threshold 1.50; reference 1.12 ± 0.03; limit 1.05)"
    assert (
        margin_text(2.0, {**entry, "limit": None})
        == "perplexity 2.00 (threshold 1.50; reference 1.12 ± 0.03)"
    )
    assert margin_text(4.2e57, entry).startswith("perplexity 4.2e+57 (")


def test_threshold_derivation():
    threshold, how = derive_threshold(2.5, 0.05, 2.6, 6.9)
    assert threshold == pytest.approx(math.sqrt(2.7 * 6.9)) and "geometric midpoint" in how
    threshold, how = derive_threshold(1.3, 0.02, 1.33, None)
    assert threshold == pytest.approx(1.25 * 1.38) and "25% headroom" in how
    with pytest.raises(Exception, match="cannot tell a working RNN from a broken one"):
        derive_threshold(6.0, 0.5, 7.0, 6.9)


@pytest.mark.parametrize("part", ["train_rnn", "train_rnn_2layer"])
def test_stored_fast_thresholds_separate_the_reference_from_no_recurrence_by_construction(part):
    stored = load_thresholds()["profiles"]["fast"]
    entry = threshold_entry("fast", part)
    data = profiles.load_data(profiles.get_profile("fast"))
    assert entry["limit"] == pytest.approx(data.limit, abs=1e-4) and entry["floor"] == pytest.approx(
        data.floor, 1e-4
    )
    assert entry["limit"] < entry["reference_max"] < entry["threshold"] < entry["floor"]
    again, _ = derive_threshold(
        entry["reference_mean"], entry["reference_std"], entry["reference_max"], data.floor
    )
    assert entry["threshold"] == pytest.approx(again, abs=2e-3)
    assert stored["settings"] == {**profiles.get_profile("fast").config(0).__dict__, "seed": None}
    assert stored["grader_version"] and len(entry["reference"]) >= 10 and entry["derivation"]


def test_the_parents_forward_gives_the_uniform_perplexity_for_zero_weights():
    V, h = 8, 4
    params = [torch.zeros(V, h), torch.zeros(h, h), torch.zeros(h), torch.zeros(h, V), torch.zeros(V)]
    X, Y = windows(torch.arange(100) % V, 7)
    assert X.shape == Y.shape == (14, 7) and torch.equal(Y[:, :-1], X[:, 1:])
    assert evaluate(params, X, Y, 1) == pytest.approx(V)


# -- a worker that lies ---------------------------------------------------------------------------


class FakeWorker:
    def __init__(self, reply=None, tensors=None, raises: BaseException | None = None):
        self.reply, self.tensors, self.raises = reply, tensors or {}, raises

    def request(self, header, *, timeout, tensors=None):
        self.header, self.timeout = header, timeout
        if self.raises is not None:
            raise self.raises
        return self.reply, Decoder(self.tensors)


class FakeSession:
    def __init__(self, worker: FakeWorker, defined=("get_params", "init_rnn_state", "rnn")):
        self.handle, self.was_lost = worker, False
        self.defined = {name: {"callable": True} for name in defined}

    def worker(self):
        return self.handle

    def lost(self):
        self.was_lost = True


def lying_reply(params, *, curve=(1.0,) * 30, forbidden=(), probe=True):
    enc = Encoder()
    X, _ = windows(profiles.load_data(profiles.get_profile("fast")).eval, 35)
    probe = oracle_logits([p.detach() for p in params], X[:16], 1) if probe else None
    reply = {
        "ok": True,
        "params": enc.encode(tuple(params)),
        "probe": enc.encode(probe),
        "curve": list(curve),
        "nan_epoch": None,
        "forbidden": list(forbidden),
        "device": "cpu",
        "seconds": 0.01,
    }
    return reply, enc.tensors


def test_a_worker_reporting_a_low_perplexity_with_untrained_weights_fails():
    torch.manual_seed(0)
    reply, tensors = lying_reply(ref.get_params(8, 32, 8, "cpu"))
    result = grade_training(FakeSession(FakeWorker(reply, tensors)), TRAIN_RNN, OPTIONS)
    assert (result.status, result.points) == ("failed", 0.0)
    assert re.match(r"perplexity 8\.00 \(threshold .*reported 1\.00 on its last epoch", result.message), (
        result.message
    )
    assert result.extras["curve"] == [1.0] * 30 and result.extras["curve_trusted"] is False


def test_parameters_without_the_contracts_shapes_fail_with_a_message():
    torch.manual_seed(0)
    params = list(ref.get_params(8, 32, 8, "cpu"))
    params[1] = torch.zeros(32, 16)
    reply, tensors = lying_reply(params, probe=False)
    result = grade_training(FakeSession(FakeWorker(reply, tensors)), TRAIN_RNN, OPTIONS)
    assert (
        result.status == "failed"
        and "trained parameter 1 has shape (32, 16), the contract's is (32, 32)" in (result.message)
    )
    reply, tensors = lying_reply(params[:4], probe=False)
    result = grade_training(FakeSession(FakeWorker(reply, tensors)), TRAIN_RNN, OPTIONS)
    assert "returned 4 tensors after training; the contract has 5" in result.message


def test_a_forbidden_builtin_seen_while_training_forbids_the_part():
    torch.manual_seed(0)
    reply, tensors = lying_reply(ref.get_params(8, 32, 8, "cpu"), forbidden=["torch.nn.RNN"])
    result = grade_training(FakeSession(FakeWorker(reply, tensors)), TRAIN_RNN, OPTIONS)
    assert result.status == "forbidden" and "`rnn` called the builtin `torch.nn.RNN`" in result.message


@pytest.mark.parametrize(("status", "expected"), [("timeout", "timeout"), ("error", "error")])
def test_a_lost_worker_costs_this_part_only_and_the_worker_is_restarted(status, expected):
    session = FakeSession(FakeWorker(raises=WorkerLost(status, "went away")))
    result = grade_training(session, TRAIN_RNN, OPTIONS)
    assert result.status == expected and session.was_lost
    assert session.handle.timeout == profiles.get_profile("fast").seconds


def test_a_missing_function_is_named():
    result = grade_training(FakeSession(FakeWorker(), defined=("get_params", "rnn")), TRAIN_RNN, OPTIONS)
    assert result.status == "missing" and "`init_rnn_state`" in result.message


def test_an_unknown_profile_is_a_configuration_error():
    result = grade_training(FakeSession(FakeWorker()), TRAIN_RNN, replace(OPTIONS, profile="huge"))
    assert result.status == "error" and "profile='huge' is not a training profile" in result.message


# -- real workers -------------------------------------------------------------------------------


@pytest.mark.parametrize("end_to_end", [False, True])
def test_the_reference_trains_in_the_sandbox(tmp_path, end_to_end):
    path = build(tmp_path, "rnn_scratch")
    result = grade_training_only(path, "rnn_scratch", replace(OPTIONS, end_to_end=end_to_end))
    assert (result.status, result.points) == ("passed", 3.0), result.message
    assert re.fullmatch(
        r"perplexity \d\.\d\d \(threshold 4\.\d\d; reference 2\.\d\d ± 0\.\d\d; limit 2\.26\)", result.message
    )
    extras = result.extras
    assert extras["device"] == "cpu" and len(extras["curve"]) == 30 and extras["forward_gap_nats"] < 1e-4
    assert extras["sample"].startswith("abc") and len(extras["sample"]) == 53
    assert ("one_hot" in extras["functions"]) is end_to_end
    assert result.seconds < 20  # the budget is 5 s of training on 2 cores; room for a loaded machine
    json.dumps(extras)  # the record stays plain JSON
    png = write_plot(result, tmp_path / "train_rnn.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())


def fixture_patch(name: str, spec: dict) -> str:
    """The fixture's own patch, or the unit fixture's it names with ``patch_from`` (one copy of each bug)."""
    folder = ROOT / "tests" / "submissions" / spec["patch_from"] if "patch_from" in spec else FIXTURES / name
    return (folder / "patch.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_training_verdict(name, tmp_path, monkeypatch):
    spec = json.loads((FIXTURES / name / "expected.json").read_text(encoding="utf-8"))
    if spec["status"] == "timeout":
        monkeypatch.setitem(profiles.PROFILES, "fast", replace(profiles.PROFILES["fast"], seconds=3.0))
    path = build(tmp_path, spec["assignment"], fixture_patch(name, spec), name)
    result = grade_training_only(
        path, spec["assignment"], replace(OPTIONS, end_to_end=spec.get("end_to_end", False))
    )
    assert (result.status, result.points) == (spec["status"], spec.get("points", 0.0)), result.message
    assert re.search(spec["message"], result.message), result.message


def test_a_training_timeout_costs_the_training_part_only(tmp_path, monkeypatch):
    monkeypatch.setitem(profiles.PROFILES, "fast", replace(profiles.PROFILES["fast"], seconds=3.0))
    patch = (FIXTURES / "timeout_slow_rnn" / "patch.py").read_text(encoding="utf-8")
    record = grade_submission(
        build(tmp_path, "rnn_scratch", patch), assignment="rnn_scratch", options=OPTIONS
    )
    assert [(p.name, p.status) for p in record.parts] == [
        (p.name, "timeout" if p.training else "passed") for p in get_assignment("rnn_scratch").parts
    ]
    assert record.score == record.max_score - 3 and record.max_score == 16


def test_calibrate_stores_one_profile_and_keeps_the_others(tmp_path, monkeypatch):
    from grader.training import calibrate

    def runs(profile, part, seeds, **kwargs):  # the reference's figures, without training
        return [
            {
                "seed": s,
                "perplexity": 2.5 + 0.01 * s,
                "curve": [8.0, 3.0 + 0.01 * s],
                "nan_epoch": None,
                "seconds": 1.0,
            }
            for s in seeds
        ]

    out = tmp_path / "thresholds.json"
    out.write_text(json.dumps({"version": 1, "profiles": {"book": {"kept": True}}}), encoding="utf-8")
    monkeypatch.setattr(calibrate, "reference_runs", runs)
    entry = calibrate.calibrate(profile="fast", seeds=10, out=out)
    stored = json.loads(out.read_text(encoding="utf-8"))
    assert stored["profiles"]["book"] == {"kept": True} and stored["profiles"]["fast"] == entry
    part = entry["parts"]["train_rnn"]
    assert part["reference_mean"] == pytest.approx(2.545) and part["reference_max"] == pytest.approx(2.59)
    assert part["threshold"] == pytest.approx(
        math.sqrt((2.545 + 4 * part["reference_std"]) * part["floor"]), 1e-3
    )
    assert part["curve_mean"] == [8.0, pytest.approx(3.045)] and entry["seeds"] == "0..9"
    with pytest.raises(Exception, match="seeds=3 must be an integer >= 10"):
        calibrate.calibrate(profile="fast", seeds=3, out=out)
