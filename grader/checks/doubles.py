"""Requests for the worker's test doubles (see :mod:`grader.sandbox.doubles`)."""

from __future__ import annotations

from grader.sandbox.protocol import DoubleSpec

__all__ = ["CORRECT_ONE_HOT", "PREDICT_REPLACEMENTS", "trap"]


def trap(name: str, instead: str = "") -> DoubleSpec:
    return DoubleSpec("trap", {"name": name, "instead": instead})


CORRECT_ONE_HOT = {"one_hot": DoubleSpec("one_hot")}
"""Checking to_onehot alone: its calls of one_hot reach a correct one."""

PREDICT_REPLACEMENTS = {
    "one_hot": DoubleSpec("one_hot"),
    "to_onehot": DoubleSpec("to_onehot"),
    "rnn": trap("rnn", "the `rnn` argument"),
    "init_rnn_state": trap("init_rnn_state", "the `init_rnn_state` argument"),
    "get_params": trap("get_params", "the `params` argument"),
}
"""Checking predict_rnn alone: correct encoders, and traps for the globals it must not use."""
