"""Every sandbox limit is configurable, and a breach names the limit and the value that was set.

The values below are deliberately not the defaults, so a message that printed the default (or no
value) would fail. One submission breaks a different limit in each part.
"""

from __future__ import annotations

import pytest

from grader.engine import GradeOptions, grade_submission
from grader.sandbox.limits import WorkerLimits
from tests.helpers import patched_source

BREACHES = '''
def one_hot(x, n_class, dtype=torch.float32):
    return torch.zeros(700_000)


def to_onehot(X, n_class):
    import os
    held = []
    try:
        while True:
            held.append(os.open("/dev/null", os.O_RDONLY))
    finally:
        for fd in held:
            os.close(fd)


def get_params(num_inputs, num_hiddens, num_outputs, device):
    return torch.empty(10 ** 10)


def init_rnn_state(batch_size, num_hiddens, device):
    with open("big.bin", "wb") as f:
        f.write(b"x" * (2 << 20))


def rnn(inputs, state, params):
    import time
    time.sleep(600)


def predict_rnn(prefix, num_chars, rnn, params, init_rnn_state, num_hiddens, vocab_size, device, idx_to_char,
                char_to_idx):
    import time
    time.sleep(1.5)
    return prefix
'''

SPIN = '''
def one_hot(x, n_class, dtype=torch.float32):
    while True:
        pass
'''


def _grade(tmp_path, patch: str, limits: WorkerLimits, part_seconds: float = 120.0):
    path = tmp_path / "rnn_scratch.py"
    path.write_text(patched_source("rnn_scratch", patch), encoding="utf-8")
    options = GradeOptions(limits=limits, part_seconds=part_seconds, training=False, max_examples=5)
    record = grade_submission(path, assignment="rnn_scratch", options=options)
    assert record.error is None, record.error
    return {p.name: p for p in record.parts}


@pytest.fixture(scope="module")
def breached(tmp_path_factory):
    limits = WorkerLimits(call_seconds=4.0, memory_bytes=2600 << 20, output_bytes=1 << 20, open_files=96,
                          reply_bytes=1 << 20, cpu_seconds=300)
    return _grade(tmp_path_factory.mktemp("limits"), BREACHES, limits, part_seconds=4.0)


@pytest.mark.parametrize(("part", "status", "names"), [
    ("one_hot", "failed", "over the 1048576-byte reply limit"),
    ("to_onehot", "failed", "limit is 96 open files"),
    ("get_params", "failed", "memory limit is 2600 MiB"),
    ("init_rnn_state", "failed", "output limit is 1048576 bytes"),
    ("rnn", "timeout", "within the 4 s limit per call"),
    ("predict_rnn", "timeout", "the 4 s limit per part"),
])
def test_breach_names_the_limit_and_its_value(breached, part, status, names):
    result = breached[part]
    assert (result.status, result.points) == (status, 0.0), (part, result.message)
    assert names in result.message, (part, result.message)


def test_unbreached_part_keeps_its_points(breached):
    assert (breached["grad_clipping"].status, breached["grad_clipping"].points) == ("passed", 2.0)


def test_cpu_time_breach_names_its_limit(tmp_path):
    limits = WorkerLimits(call_seconds=120.0, cpu_seconds=7, memory_bytes=3 << 30)
    result = _grade(tmp_path, SPIN, limits)["one_hot"]
    assert (result.status, result.points) == ("error", 0.0)
    assert "the 7 s CPU-time limit" in result.message


def test_cli_limit_flags_reach_the_api():
    from grader.cli import _limit_kwargs, _parser

    args = _parser().parse_args(["grade", "x", "--out", "o", "--memory-mib", "1024", "--cpu-seconds", "30",
                                 "--call-seconds", "2.5", "--part-seconds", "9", "--output-mib", "3"])
    got = _limit_kwargs(args)
    assert got["limits"] == WorkerLimits(memory_bytes=1 << 30, cpu_seconds=30, call_seconds=2.5,
                                         output_bytes=3 << 20)
    assert got["part_seconds"] == 9.0
    assert _limit_kwargs(_parser().parse_args(["check", "x"])) == {"limits": None, "part_seconds": None}


def test_cli_rejects_a_limit_that_is_not_positive(capsys):
    from grader.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["check", "x.py", "--call-seconds", "-1"])
    assert exit_.value.code == 2
    assert "--call-seconds: '-1' must be a positive float" in capsys.readouterr().err
