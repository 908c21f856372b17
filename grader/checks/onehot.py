"""Checks of ``one_hot`` and ``to_onehot`` (oracle: ``F.one_hot``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks.base import Check, Context, run_property
from grader.checks.compare import expect_on_device, expect_sequence, expect_tensor, expect_values
from grader.checks.devices import device_for_check, on_device_or_meta
from grader.checks.doubles import CORRECT_ONE_HOT
from grader.checks.strategies import index_matrices, index_vectors

__all__ = ["ONE_HOT_CHECKS", "TO_ONEHOT_CHECKS"]


def _one_hot_case():
    dtypes = st.sampled_from([None, torch.float32, torch.float64, torch.int64])
    return st.builds(lambda case, dtype: {**case, "dtype": dtype}, index_vectors(), dtypes)


def _one_hot_call(ctx: Context, case: dict):
    if case["dtype"] is None:
        return ctx.call(case["x"], case["n_class"]).value
    return ctx.call(case["x"], case["n_class"], case["dtype"]).value


def check_one_hot_values(ctx: Context) -> None:
    def body(case):
        want_dtype = case["dtype"] or torch.float32
        expected = F.one_hot(case["x"].long(), case["n_class"]).to(want_dtype)
        got = expect_tensor(_one_hot_call(ctx, case), "the result", shape=tuple(expected.shape),
                            dtype=want_dtype, device=ctx.device)
        expect_values(got, expected, "the result")

    edge = {"x": torch.tensor([0]), "n_class": 1, "dtype": None}
    run_property(ctx, _one_hot_case(), body, examples=(edge,))


def check_one_hot_device(ctx: Context) -> None:
    def body(case):
        x = on_device_or_meta(case["x"], ctx)
        expect_on_device(_one_hot_call(ctx, {**case, "x": x}), "the result", device_for_check(ctx))

    run_property(ctx, _one_hot_case(), body, max_examples=8)


def check_to_onehot_values(ctx: Context) -> None:
    def body(case):
        X, n_class = case["X"], case["n_class"]
        items = expect_sequence(ctx.call(X, n_class, replace=CORRECT_ONE_HOT).value, X.shape[1], "the result",
                                expected="a list of num_steps tensors")
        for t, item in enumerate(items):
            expected = F.one_hot(X[:, t], n_class).float()
            got = expect_tensor(item, f"result[{t}]", shape=tuple(expected.shape), dtype=torch.float32,
                                device=ctx.device)
            expect_values(got, expected, f"result[{t}] (time step {t})")

    run_property(ctx, index_matrices(), body)


def check_to_onehot_device(ctx: Context) -> None:
    def body(case):
        X = on_device_or_meta(case["X"], ctx)
        value = ctx.call(X, case["n_class"], replace=CORRECT_ONE_HOT).value
        expect_on_device(value, "the result", device_for_check(ctx))

    run_property(ctx, index_matrices(), body, max_examples=5)


ONE_HOT_CHECKS = (
    Check("values", 1.5, check_one_hot_values,
          "matches F.one_hot for every integer dtype, n_class and dtype"),
    Check("device", 0.5, check_one_hot_device, "the result is on the device of x"),
)
TO_ONEHOT_CHECKS = (
    Check("values", 0.75, check_to_onehot_values, "a list of num_steps float tensors (batch_size, n_class)"),
    Check("device", 0.25, check_to_onehot_device, "every tensor is on the device of X"),
)
