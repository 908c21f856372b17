"""The exercise contract as data: assignments, their parts, points and setup code.

Every other module asks this one which functions an assignment has, in which
order they are graded and how many points each is worth; nothing else hard-codes
part names.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ASSIGNMENTS", "SETUP_CODE", "Assignment", "Part", "assignment_for_parts", "get_assignment"]

SETUP_CODE = """\
import math
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""
"""The read-only setup cell of every notebook; the worker runs it before the answer cells."""


@dataclass(frozen=True)
class Part:
    """One graded exercise function."""

    name: str
    """The function's name, which is also the nbgrader ``grade_id`` of its answer cell."""
    points: float
    """Maximum points; the grade cell ``test_<name>`` carries the same number."""
    args: tuple[str, ...]
    """The argument names of the contract, in order."""
    training: bool = False
    """True for the training-run parts, which have no answer cell of their own."""

    @property
    def test_cell(self) -> str:
        """The ``grade_id`` of the grade cell that reports this part."""
        return f"test_{self.name}"


@dataclass(frozen=True)
class Assignment:
    """One nbgrader assignment: a notebook and its ordered parts."""

    name: str
    """The nbgrader assignment id and the notebook's stem."""
    parts: tuple[Part, ...]

    @property
    def notebook(self) -> str:
        """The notebook's file name inside the assignment folder."""
        return f"{self.name}.ipynb"

    @property
    def functions(self) -> tuple[str, ...]:
        """The names of the exercise functions the student writes."""
        return tuple(p.name for p in self.parts if not p.training)

    @property
    def max_score(self) -> float:
        return float(sum(p.points for p in self.parts))

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(f"assignment {self.name!r} has no part {name!r}")


_PARAMS_ARGS = ("num_inputs", "num_hiddens", "num_outputs", "device")
_STATE_ARGS = ("batch_size", "num_hiddens", "device")
_RNN_ARGS = ("inputs", "state", "params")

ASSIGNMENTS: dict[str, Assignment] = {
    "rnn_scratch": Assignment(
        "rnn_scratch",
        (
            Part("one_hot", 2, ("x", "n_class", "dtype")),
            Part("to_onehot", 1, ("X", "n_class")),
            Part("get_params", 2, _PARAMS_ARGS),
            Part("init_rnn_state", 1, _STATE_ARGS),
            Part("rnn", 3, _RNN_ARGS),
            Part("grad_clipping", 2, ("params", "theta", "device")),
            Part(
                "predict_rnn",
                2,
                (
                    "prefix",
                    "num_chars",
                    "rnn",
                    "params",
                    "init_rnn_state",
                    "num_hiddens",
                    "vocab_size",
                    "device",
                    "idx_to_char",
                    "char_to_idx",
                ),
            ),
            Part("train_rnn", 3, (), training=True),  # issue 5: the training check
        ),
    ),
    "rnn_deep": Assignment(
        "rnn_deep",
        (
            Part("get_params_2layer", 2, _PARAMS_ARGS),
            Part("init_rnn_state_2layer", 1, _STATE_ARGS),
            Part("rnn_2layer", 3, _RNN_ARGS),
            Part("train_rnn_2layer", 3, (), training=True),  # issue 5: the training check
        ),
    ),
}
"""Every assignment of the unit, by name, parts in grading order."""


def get_assignment(name: str) -> Assignment:
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        known = ", ".join(sorted(ASSIGNMENTS))
        raise KeyError(f"unknown assignment {name!r}; known assignments: {known}") from None


def assignment_for_parts(function_names: set[str]) -> Assignment | None:
    """The assignment whose functions overlap most with `function_names`, if any."""
    best = max(ASSIGNMENTS.values(), key=lambda a: len(function_names & set(a.functions)))
    return best if function_names & set(best.functions) else None
