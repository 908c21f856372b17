"""Checks of ``grad_clipping`` (oracle: ``clip_grad_norm_``'s total norm and the contract's scale)."""

from __future__ import annotations

import torch
from hypothesis import assume
from hypothesis import strategies as st

from grader.checks.base import Check, CheckFailure, Context, run_property
from grader.checks.compare import expect_sequence, expect_tensor, expect_values
from grader.checks.oracles import clip_oracle
from grader.checks.strategies import gradient_sets
from grader.checks.tolerances import Tolerance, tolerance_for

__all__ = ["CLIPPING_CHECKS"]


def _with_grads(case: dict) -> list[torch.Tensor]:
    params = []
    for p, g in zip(case["params"], case["grads"], strict=True):
        leaf = p.clone().requires_grad_()
        leaf.grad = g.clone()
        params.append(leaf)
    return params


def _case(factors):
    return st.builds(lambda c, f: {**c, "factor": f}, gradient_sets(), factors)


def _run(ctx: Context, case: dict, theta: float):
    params = _with_grads(case)
    result = ctx.call(params, theta, torch.device(ctx.device), return_args=True)
    items = expect_sequence(result.args.items[0], len(params), "params after the call")
    expected, g = clip_oracle(case["grads"], theta)
    for i, (item, p) in enumerate(zip(items, case["params"], strict=True)):
        got = expect_tensor(item, f"params[{i}]", shape=tuple(p.shape), dtype=p.dtype, device=ctx.device)
        if not torch.equal(got.data, p):
            raise CheckFailure(f"the values of params[{i}] changed: grad_clipping must change only the "
                               "gradients (param.grad), never the parameters")
        if got.grad is None:
            raise CheckFailure(f"params[{i}].grad is None after the call")
    return [item.grad for item in items], expected, g


def check_scaled(ctx: Context) -> None:
    def body(case):
        g = clip_oracle(case["grads"], float("inf"))[1]
        assume(g > 1e-3)
        theta = g * case["factor"]
        grads, expected, g = _run(ctx, case, theta)
        for i, (got, e) in enumerate(zip(grads, expected, strict=True)):
            expect_tensor(got, f"params[{i}].grad", shape=tuple(e.shape), dtype=e.dtype, device=ctx.device)
            what = (f"params[{i}].grad (global norm {g:.4g} > theta {theta:.4g}: every gradient must be "
                    f"multiplied by theta/norm = {theta / g:.4g})")
            expect_values(got, e, what, tol=_scale_tolerance(e.dtype))

    run_property(ctx, _case(st.floats(0.05, 0.95)), body)


def _scale_tolerance(dtype: torch.dtype) -> Tolerance:
    """The norm may be summed in float32 even for float64 gradients (the book does): allow its rounding."""
    tol = tolerance_for(str(dtype).removeprefix("torch."))
    return Tolerance(atol=tol.atol, rtol=max(tol.rtol, 1e-6))


def check_unchanged(ctx: Context) -> None:
    def body(case):
        g = clip_oracle(case["grads"], float("inf"))[1]
        theta = case.get("theta") or max(g * case["factor"], 1e-3)
        grads, _, g = _run(ctx, case, theta)
        for i, (got, original) in enumerate(zip(grads, case["grads"], strict=True)):
            if got.data is not None and not torch.equal(got.data, original):
                raise CheckFailure(
                    f"params[{i}].grad changed although the global norm {g:.6g} is not above "
                    f"theta {theta:.6g}: gradients must stay bit-for-bit unchanged then"
                )

    exact = (
        {"params": [torch.zeros(2)], "grads": [torch.tensor([3.0, 4.0])], "factor": 1.0, "theta": 5.0},
        {"params": [torch.zeros(1), torch.zeros(2, 1)],
         "grads": [torch.tensor([1.0]), torch.tensor([[2.0], [2.0]])],
         "factor": 1.0, "theta": 3.0},
    )
    run_property(ctx, _case(st.floats(1.05, 10.0)), body, examples=exact)


CLIPPING_CHECKS = (
    Check("scaled", 1.0, check_scaled, "above theta, every gradient is scaled by theta / global norm"),
    Check("unchanged", 1.0, check_unchanged, "at or below theta, gradients stay bit-for-bit unchanged"),
)
