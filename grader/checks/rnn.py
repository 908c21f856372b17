"""Checks of ``rnn`` and ``rnn_2layer`` (oracle: ``nn.RNN`` with the weights copied in)."""

from __future__ import annotations

import torch

from grader.checks.base import Check, CheckFailure, Context, run_property
from grader.checks.compare import expect_on_device, expect_sequence, expect_tensor, expect_values
from grader.checks.devices import device_for_check, on_device_or_meta
from grader.checks.oracles import rnn_oracle
from grader.checks.strategies import rnn_cases
from grader.sandbox.protocol import TensorValue

__all__ = ["rnn_checks"]


def _expect_forward(value, case: dict, layers: int,
                    device: str) -> tuple[list[TensorValue], list[TensorValue]]:
    inputs, params = case["inputs"], case["params"]
    batch, dtype = inputs[0].shape[0], inputs[0].dtype
    q, h = params[-1].shape[0], params[1].shape[0]
    pair = expect_sequence(value, 2, "the result", expected="a pair (outputs, state)")
    outputs = expect_sequence(pair[0], len(inputs), "outputs", expected="a list of num_steps tensors")
    got_out = [expect_tensor(o, f"outputs[{t}]", shape=(batch, q), dtype=dtype, device=device)
               for t, o in enumerate(outputs)]
    names = ("H1", "H2") if layers == 2 else ("H",)
    states = expect_sequence(pair[1], layers, "the returned state", expected=f"a tuple ({', '.join(names)},)")
    got_state = [expect_tensor(s, n, shape=(batch, h), dtype=dtype, device=device)
                 for n, s in zip(names, states, strict=True)]
    return got_out, got_state


def rnn_checks(layers: int) -> tuple[Check, ...]:
    cases = rnn_cases(layers=layers)
    names = ("H1", "H2") if layers == 2 else ("H",)

    def forward(ctx: Context) -> None:
        def body(case):
            value = ctx.call(case["inputs"], case["state"], case["params"]).value
            got_out, got_state = _expect_forward(value, case, layers, ctx.device)
            exp_out, exp_state = rnn_oracle(case["inputs"], case["state"], case["params"], layers=layers)
            for t, (g, e) in enumerate(zip(got_out, exp_out, strict=True)):
                expect_values(g, e, f"outputs[{t}] (O_t at time step {t})")
            for n, g, e in zip(names, got_state, exp_state, strict=True):
                expect_values(g, e, f"the returned state {n} (after the last step)")

        run_property(ctx, cases, body)

    def gradients(ctx: Context) -> None:
        def body(case):
            params = tuple(p.clone().requires_grad_() for p in case["params"])
            result = ctx.call(case["inputs"], case["state"], params, backward=case["_cotangent"],
                              return_args=True)
            _expect_forward(result.value, case, layers, ctx.device)
            if result.backward_error:
                raise CheckFailure(f"backpropagation through the result failed: {result.backward_error}")
            expected = _oracle_grads(case, layers)
            got_params = result.args.items[2].items
            for i, (g, e) in enumerate(zip(got_params, expected, strict=False)):
                grad = g.grad if isinstance(g, TensorValue) else None
                label = f"the gradient of params[{i}]"
                if grad is None:
                    raise CheckFailure(f"{label} is None: the outputs do not depend on params[{i}]")
                expect_values(grad, e, label)

        run_property(ctx, cases, body, max_examples=max(ctx.max_examples // 2, 10))

    def device(ctx: Context) -> None:
        where = device_for_check(ctx)

        def body(case):
            moved = {
                "inputs": [on_device_or_meta(x, ctx) for x in case["inputs"]],
                "state": tuple(on_device_or_meta(s, ctx) for s in case["state"]),
                "params": tuple(on_device_or_meta(p, ctx) for p in case["params"]),
            }
            value = ctx.call(moved["inputs"], moved["state"], moved["params"]).value
            expect_on_device(value, "the result", where)

        run_property(ctx, cases, body, max_examples=5)

    return (
        Check("forward", 1.5, forward, "outputs and final state equal nn.RNN's with the same weights"),
        Check("gradients", 1.0, gradients, "gradients with respect to every parameter equal nn.RNN's"),
        Check("device", 0.5, device, "outputs and state stay on the inputs' device"),
    )


def _oracle_grads(case: dict, layers: int) -> list[torch.Tensor]:
    params = [p.clone().requires_grad_() for p in case["params"]]
    outputs, state = rnn_oracle(case["inputs"], case["state"], params, layers=layers)
    cot_out, cot_state = case["_cotangent"]
    loss = (sum((o * c).sum() for o, c in zip(outputs, cot_out, strict=True))
            + sum((s * c).sum() for s, c in zip(state, cot_state, strict=True)))
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]
