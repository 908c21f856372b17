"""Hidden checks: fixed adversarial inputs, judged against the reference solutions.

Instructor mode only (``rnn-grader grade --solutions solutions/``). Each entry
extends one public check of one part: it runs after that check passed, in the
trusted parent, and a failure costs that check's points with the symptom (never
this code) in the feedback. Never shipped to students.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from grader.checks.base import CheckFailure
from grader.checks.compare import expect_sequence, expect_tensor, expect_values
from grader.checks.doubles import PREDICT_REPLACEMENTS
from grader.sandbox.doubles import scripted_prediction
from grader.sandbox.protocol import DoubleSpec


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"rnn_grader_reference_{name}",
                                                  Path(__file__).parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scratch, deep = _load("rnn_scratch"), _load("rnn_deep")


def one_hot_large_indices(ctx) -> None:
    """Indices above 127 (past int8) and a vocabulary the size of the lyrics' (1,027)."""
    for x, n_class in ((torch.tensor([255, 0, 128], dtype=torch.uint8), 256),
                       (torch.tensor([1026, 0, 513]), 1027)):
        expected = scratch.one_hot(x, n_class)
        got = expect_tensor(ctx.call(x, n_class).value, "the result", shape=tuple(expected.shape),
                            dtype=torch.float32, device=ctx.device)
        expect_values(got, expected, f"the result for indices up to {int(x.max())}")


def _rnn_case(layers: int, *, steps: int, d: int, h: int, q: int, scale: float):
    g = torch.Generator().manual_seed(7)
    n = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64) * scale  # noqa: E731
    shapes = [(d, h), (h, h), (h,)] + ([(h, h), (h, h), (h,)] if layers == 2 else []) + [(h, q), (q,)]
    return ([n(5, d) for _ in range(steps)], tuple(n(5, h) for _ in range(layers)),
            tuple(n(*s) for s in shapes))


def rnn_saturated(layers: int):
    reference = deep.rnn_2layer if layers == 2 else scratch.rnn

    def check(ctx) -> None:
        """Twenty steps with inputs large enough to saturate tanh, non-square sizes, float64."""
        inputs, state, params = _rnn_case(layers, steps=20, d=3, h=6, q=4, scale=3.0)
        exp_out, exp_state = reference(inputs, state, params)
        pair = expect_sequence(ctx.call(inputs, state, params).value, 2, "the result")
        outputs = expect_sequence(pair[0], 20, "outputs")
        for t, (g, e) in enumerate(zip(outputs, exp_out, strict=True)):
            got = expect_tensor(g, f"outputs[{t}]", shape=tuple(e.shape), dtype=e.dtype, device=ctx.device)
            expect_values(got, e, f"outputs[{t}] over a long, saturated sequence")

    return check


def clipping_many_tiny(ctx) -> None:
    """Ten parameters and a theta far below the norm."""
    g = torch.Generator().manual_seed(11)
    params = []
    for i in range(10):
        p = torch.randn(i + 1, 2, generator=g).requires_grad_()
        p.grad = torch.randn(i + 1, 2, generator=g)
        params.append(p)
    clones = [p.detach().clone().requires_grad_() for p in params]
    for c, p in zip(clones, params, strict=True):
        c.grad = p.grad.clone()
    scratch.grad_clipping(clones, 1e-4, torch.device("cpu"))
    result = ctx.call(params, 1e-4, torch.device(ctx.device), return_args=True)
    for i, item in enumerate(expect_sequence(result.args.items[0], 10, "params after the call")):
        if item.grad is None:
            raise CheckFailure(f"params[{i}].grad is None after the call")
        expect_values(item.grad, clones[i].grad, f"params[{i}].grad with ten parameters and theta=1e-4")


def predict_long(ctx) -> None:
    """Forty generated characters over a twelve-character vocabulary with Chinese characters."""
    idx_to_char = list("想要有直升机和你飞到宇宙")
    config = {"vocab_size": 12, "table": [(5 * i + 3) % 12 for i in range(12)], "mult": 7, "init": 4}
    prefix = "想要有"
    value = ctx.call(prefix, 40, DoubleSpec("scripted_rnn", config), DoubleSpec("scripted_params", config),
                     DoubleSpec("scripted_init_state", config), 3, 12, torch.device(ctx.device), idx_to_char,
                     {c: i for i, c in enumerate(idx_to_char)}, replace=PREDICT_REPLACEMENTS).value
    expected = "".join(idx_to_char[i] for i in scripted_prediction([0, 1, 2], 40, config))
    if value != expected:
        raise CheckFailure("a forty-character prediction differs from the greedy one: "
                           f"got {str(value)[:60]!r}")


def params_2layer_distinct_sizes(ctx) -> None:
    """d, h and q all different, so every matrix's place in the tuple shows."""
    expected = deep.get_params_2layer(3, 5, 7, torch.device("cpu"))
    items = expect_sequence(ctx.call(3, 5, 7, torch.device(ctx.device)).value, 8, "the result")
    for i, (item, e) in enumerate(zip(items, expected, strict=True)):
        expect_tensor(item, f"params[{i}]", shape=tuple(e.shape), dtype=torch.float32, device=ctx.device)


HIDDEN = {
    ("one_hot", "values"): one_hot_large_indices,
    ("rnn", "forward"): rnn_saturated(1),
    ("rnn_2layer", "forward"): rnn_saturated(2),
    ("grad_clipping", "scaled"): clipping_many_tiny,
    ("predict_rnn", "greedy"): predict_long,
    ("get_params_2layer", "shapes"): params_2layer_distinct_sizes,
}
"""(part, public check) -> the hidden check that extends it."""
