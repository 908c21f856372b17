"""Checks of ``predict_rnn`` with a scripted model whose greedy output is known exactly."""

from __future__ import annotations

import torch

from grader.checks.base import Check, CheckFailure, Context, run_property
from grader.checks.doubles import PREDICT_REPLACEMENTS
from grader.checks.strategies import scripted_predictions
from grader.sandbox.doubles import scripted_prediction
from grader.sandbox.protocol import DoubleSpec

__all__ = ["PREDICT_CHECKS"]


def check_greedy(ctx: Context) -> None:
    def body(case):
        config, idx_to_char = case["_config"], case["idx_to_char"]
        char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
        device = torch.device(ctx.device)
        value = ctx.call(
            case["prefix"], case["num_chars"], DoubleSpec("scripted_rnn", config),
            DoubleSpec("scripted_params", config), DoubleSpec("scripted_init_state", config),
            case["num_hiddens"], config["vocab_size"], device, idx_to_char, char_to_idx,
            replace=PREDICT_REPLACEMENTS,
        ).value
        indices = scripted_prediction([char_to_idx[c] for c in case["prefix"]], case["num_chars"], config)
        expected = "".join(idx_to_char[i] for i in indices)
        _compare(value, expected, case)

    run_property(ctx, scripted_predictions(), body)


def _compare(value, expected: str, case: dict) -> None:
    if not isinstance(value, str):
        raise CheckFailure(f"returned {type(value).__name__} where a str is expected")
    if value == expected:
        return
    prefix, n = case["prefix"], case["num_chars"]
    if not value.startswith(prefix):
        hint = "the result must start with the prefix itself"
    elif len(value) != len(expected):
        hint = (f"generated {len(value) - len(prefix)} characters after the prefix "
                f"where num_chars={n} are expected")
    else:
        hint = ("a generated character is not the argmax of the model's output: pick the most likely "
                "character (greedy), feed the whole prefix first, and thread the state from step to step")
    raise CheckFailure(f"returned {value!r} where {expected!r} is expected: {hint}")


PREDICT_CHECKS = (
    Check("greedy", 2.0, check_greedy,
          "feeds the prefix, then appends num_chars argmax characters using the given rnn and state"),
)
