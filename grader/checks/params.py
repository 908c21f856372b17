"""Checks of ``get_params``/``get_params_2layer`` and ``init_rnn_state``/``init_rnn_state_2layer``."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks.base import Check, CheckFailure, Context, run_property
from grader.checks.compare import expect_on_device, expect_sequence, expect_tensor, expect_values
from grader.checks.devices import device_for_check
from grader.sandbox.protocol import TensorValue

__all__ = ["params_checks", "state_checks"]

NAMES_1 = ("W_xh", "W_hh", "b_h", "W_hq", "b_q")
NAMES_2 = ("W_xh1", "W_hh1", "b_h1", "W_xh2", "W_hh2", "b_h2", "W_hq", "b_q")
INIT_STD = 0.01
STAT_SIZE = 128
"""d = h = q for the statistics check: 16,384 draws per weight matrix."""


def param_shapes(layers: int, d: int, h: int, q: int) -> list[tuple[int, ...]]:
    deep = [(h, h), (h, h), (h,)] if layers == 2 else []
    return [(d, h), (h, h), (h,)] + deep + [(h, q), (q,)]


def _sizes():
    return st.fixed_dictionaries({"d": st.integers(1, 8), "h": st.integers(1, 8), "q": st.integers(1, 8)})


def _expect_params(value, layers: int, d: int, h: int, q: int, device: str, *,
                   trainable: bool = True) -> list[TensorValue]:
    names = NAMES_2 if layers == 2 else NAMES_1
    items = expect_sequence(value, len(names), "the result", expected=f"a tuple ({', '.join(names)})")
    out = []
    for name, item, shape in zip(names, items, param_shapes(layers, d, h, q), strict=True):
        t = expect_tensor(item, name, shape=shape, dtype=torch.float32, device=device)
        if not trainable:
            out.append(t)
            continue
        if not t.requires_grad:
            raise CheckFailure(f"{name} does not require grad, so training cannot update it")
        if not t.is_leaf:
            raise CheckFailure(f"{name} is not a leaf tensor (it was computed from another tensor that "
                               "requires grad), so its .grad stays None during training")
        out.append(t)
    return out


def params_checks(layers: int) -> tuple[Check, ...]:
    def shapes(ctx: Context) -> None:
        def body(case):
            value = ctx.call(case["d"], case["h"], case["q"], torch.device(ctx.device)).value
            _expect_params(value, layers, case["d"], case["h"], case["q"], ctx.device)

        run_property(ctx, _sizes(), body, max_examples=15)

    def init(ctx: Context) -> None:
        n = STAT_SIZE
        value = ctx.call(n, n, n, torch.device(ctx.device)).value
        got = _expect_params(value, layers, n, n, n, ctx.device, trainable=False)
        for name, t in zip(NAMES_2 if layers == 2 else NAMES_1, got, strict=True):
            _check_init(name, t)

    def device(ctx: Context) -> None:
        where = device_for_check(ctx)

        def body(case):
            value = ctx.call(case["d"], case["h"], case["q"], torch.device(where)).value
            expect_on_device(value, "the result", where)

        run_property(ctx, _sizes(), body, max_examples=5)

    return (
        Check("shapes", 1.0, shapes,
              "a tuple of float32 leaf tensors of the contract's shapes, requiring grad"),
        Check("init", 0.5, init, "weights ~ N(0, 0.01^2), biases zero"),
        Check("device", 0.5, device, "every parameter is on the requested device"),
    )


def _check_init(name: str, t: TensorValue) -> None:
    data = t.data.double()
    if name.startswith("b_"):
        expect_values(t, torch.zeros(t.shape), f"{name} (a bias, initialised to zeros)")
        return
    std, mean = data.std().item(), data.mean().item()
    if not 0.97 * INIT_STD <= std <= 1.03 * INIT_STD or abs(mean) > 5 * INIT_STD / data.numel() ** 0.5:
        raise CheckFailure(
            f"{name} of shape {tuple(t.shape)} has mean {mean:.3g} and standard deviation {std:.3g} "
            f"where weights drawn from N(0, {INIT_STD}^2) have mean 0 and standard deviation {INIT_STD}"
        )


def state_checks(layers: int) -> tuple[Check, ...]:
    what = "a tuple (H1, H2)" if layers == 2 else "a tuple (H,)"

    def _expect_state(value, batch: int, h: int, device: str) -> list[TensorValue]:
        items = expect_sequence(value, layers, "the result", expected=what)
        names = ("H1", "H2") if layers == 2 else ("H",)
        return [expect_tensor(it, n, shape=(batch, h), dtype=torch.float32, device=device)
                for n, it in zip(names, items, strict=True)]

    cases = st.fixed_dictionaries({"batch_size": st.integers(1, 6), "h": st.integers(1, 8)})

    def values(ctx: Context) -> None:
        def body(case):
            value = ctx.call(case["batch_size"], case["h"], torch.device(ctx.device)).value
            for H in _expect_state(value, case["batch_size"], case["h"], ctx.device):
                expect_values(H, torch.zeros(H.shape), "the state (all zeros)")

        run_property(ctx, cases, body, max_examples=10)

    def device(ctx: Context) -> None:
        where = device_for_check(ctx)

        def body(case):
            value = ctx.call(case["batch_size"], case["h"], torch.device(where)).value
            expect_on_device(value, "the state", where)

        run_property(ctx, cases, body, max_examples=4)

    return (
        Check("values", 0.75, values, f"{what} of float32 zeros (batch_size, num_hiddens)"),
        Check("device", 0.25, device, "the state is on the requested device"),
    )
